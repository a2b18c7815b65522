//===- RunLog.h - metrics.csv, steps.csv and metrics.json -------*- C++ -*-===//
//
// The logs of a training run: reading back the CSV files a resumed run
// continues, and metrics.json.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_RUNLOG_H
#define VAE_RUNTIME_RUNLOG_H

#include "runtime/Trainer.h"

#include <map>
#include <string>
#include <vector>

namespace vae {

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
