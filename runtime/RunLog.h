//===- RunLog.h - metrics.csv, steps.csv and metrics.json -------*- C++ -*-===//
//
// The logs of a training run: the progress bar, reading back the CSV files
// a resumed run continues, and metrics.json.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_RUNLOG_H
#define VAE_RUNTIME_RUNLOG_H

#include "runtime/Trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace vae {

/// One line redrawn in place on a terminal; nothing otherwise.
class ProgressBar {
public:
  explicit ProgressBar(bool wanted) : enabled(wanted && isatty(fileno(stdout))) {}
  void update(int64_t epoch, int64_t epochs, size_t done, size_t total, double loss,
              double samplesPerSecond) {
    auto now = std::chrono::steady_clock::now();
    if (!enabled || (done < total && now - last < std::chrono::milliseconds(100)))
      return;
    last = now;
    const int width = 30;
    int filled = int(double(width) * double(done) / double(total));
    fmt::print("\r\033[Kepoch {}/{} [{}{}] {}/{}  -ELBO {:.2f}  {:.0f} samples/s", epoch, epochs,
               std::string(size_t(filled), '#'), std::string(size_t(width - filled), '.'), done,
               total, loss, samplesPerSecond);
    std::fflush(stdout);
  }
  void clear() {
    if (enabled)
      fmt::print("\r\033[K");
  }

private:
  bool enabled;
  std::chrono::steady_clock::time_point last{};
};

/// Rows of a CSV file written by vae-train, as numbers (header skipped).
std::vector<std::vector<double>> readCsv(const std::string &path);

/// A run resumed from a checkpoint drops the rows of `path` whose `column`
/// is past `last` (the epoch or step of the checkpoint): rows written before
/// a crash or stop that came ahead of the checkpoint.
bool keepRowsUpTo(const std::string &path, size_t column, int64_t last, std::string &error);

/// One finished epoch, as metrics.json lists it.
struct EpochRecord {
  Terms train, test;
  double samplesPerSecond, seconds;
  /// Over several processes: the seconds of the epoch's gradient allreduces.
  double allreduceSeconds = 0;
};

/// metrics.json: every epoch of the run (a resumed run included). The −ELBO
/// is the true one (beta = 1); `objective` is what training minimized.
bool writeMetricsJson(const std::string &path, const vae_model &d, size_t processes,
                      const std::map<std::string, std::string> &hyperparams,
                      const std::vector<EpochRecord> &history, double firstStepSeconds,
                      std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_RUNLOG_H
