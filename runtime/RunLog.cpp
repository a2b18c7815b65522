//===- RunLog.cpp - metrics.csv, steps.csv and metrics.json ---------------===//

#include "runtime/RunLog.h"

#include "runtime/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace vae;

std::vector<std::vector<double>> vae::readCsv(const std::string &path) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ','))
      row.push_back(std::strtod(field.c_str(), nullptr));
    if (!row.empty())
      rows.push_back(std::move(row));
  }
  return rows;
}

bool vae::keepRowsUpTo(const std::string &path, size_t column, int64_t last, std::string &error) {
  std::ifstream in(path);
  if (!in)
    return true;
  std::string header, line, kept;
  std::getline(in, header);
  while (std::getline(in, line)) {
    const char *field = line.c_str();
    for (size_t c = 0; c < column && field; ++c)
      if ((field = std::strchr(field, ',')))
        ++field;
    if (field && std::strtoll(field, nullptr, 10) <= last)
      kept += line + '\n';
  }
  in.close();
  return writeAtomically(path, [&](std::ostream &out) { out << header << '\n' << kept; }, error);
}

/// The terms of an epoch as metrics.json writes them.
static nlohmann::ordered_json termsJson(const Terms &t) {
  return {{"neg_elbo", t.negElbo()},
          {"reconstruction", t.reconstruction},
          {"kl", t.kl},
          {"objective", t.objective}};
}

bool vae::writeMetricsJson(const std::string &path, const vae_model &d, size_t processes,
                           const std::map<std::string, std::string> &hyperparams,
                           const std::vector<EpochRecord> &history, double firstStepSeconds,
                           std::string &error) {
  nlohmann::ordered_json json = {{"model", d.name},
                                 {"batch", d.batch},
                                 {"processes", processes},
                                 {"global_batch", size_t(d.batch) * processes}};
  nlohmann::ordered_json &hyper = json["hyperparams"] = nlohmann::ordered_json::object();
  for (const auto &[key, value] : hyperparams) // numbers as numbers
    hyper[key] = key == "schedule" ? nlohmann::ordered_json(value)
                                   : nlohmann::ordered_json(std::strtod(value.c_str(), nullptr));
  json["first_step_seconds"] = firstStepSeconds;
  nlohmann::ordered_json &epochs = json["epochs"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < history.size(); ++i) {
    const EpochRecord &r = history[i];
    nlohmann::ordered_json epoch = {{"epoch", i + 1},
                                    {"train", termsJson(r.train)},
                                    {"test", termsJson(r.test)},
                                    {"samples_per_second", r.samplesPerSecond},
                                    {"seconds", r.seconds}};
    if (processes > 1)
      epoch["allreduce_seconds"] = r.allreduceSeconds;
    epochs.push_back(epoch);
  }
  return writeAtomically(path, [&](std::ostream &out) { out << json.dump(2) << '\n'; }, error);
}
