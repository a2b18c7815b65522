//===- Hyperparams.h - run-time settings of a training run -------*- C++ -*-===//
//
// What a sweep changes without recompiling: the learning rate and its
// schedule, beta and the KL warm-up, the optimizer's constants, weight decay,
// gradient clipping, the validation split and early stopping. Defaults come
// from the train block (the descriptor); a checkpoint's run record and
// vae-train's flags override them, in that order.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_HYPERPARAMS_H
#define VAE_RUNTIME_HYPERPARAMS_H

#include "vae/abi.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vae {

struct Hyperparams {
  double lr = 1e-3, beta = 1, klWarmupEpochs = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, momentum = 0, weightDecay = 0;
  double clipGradNorm = 0;           // 0: no clipping
  std::string schedule = "constant"; // constant, cosine, step
  double lrWarmupEpochs = 0, lrMin = 0, lrStepEpochs = 1, lrGamma = 0.1;
  double valFraction = 0;
  double patience = 0; // whole epochs; 0: no early stopping

  /// The train block's, from the descriptor.
  static Hyperparams of(const vae_model &d);

  /// The settings of step `k` (from 0) of `batches` in epoch `epoch` (from
  /// 0) of a run of `epochs`: the learning rate after the schedule and its
  /// warm-up, the KL weight after the KL warm-up.
  vae_hyperparams at(int64_t epoch, size_t k, size_t batches, int64_t epochs) const;
};

/// One setting as vae-train names it: its key in a run record, its flag,
/// its help, the field it sets, and the smallest value it takes (`above`:
/// strictly) and the largest (`below`: strictly, when `open`).
struct HyperparamFlag {
  const char *key, *flag, *help;
  double Hyperparams::*field;
  double min;
  bool above;
  double max;
  bool openMax;
  bool integer;
};

/// Every numeric setting, in the order --help lists them.
const std::vector<HyperparamFlag> &hyperparamFlags();

/// Whether `value` is in the range of `flag`; if not, `error` says so
/// ("0 is not in (0, inf)": CLI11 puts the flag before it).
bool checkHyperparam(const HyperparamFlag &flag, double value, std::string &error);

/// The settings as run-record entries ("lr" -> "0.001", "schedule" ->
/// "cosine", ...): exact decimal text, so a resumed run reads back the
/// same doubles.
std::map<std::string, std::string> hyperparamRecord(const Hyperparams &h);

/// Sets the fields of `h` that `record` has (a checkpoint's run record).
void applyHyperparamRecord(const std::map<std::string, std::string> &record, Hyperparams &h);

/// What `h` cannot do on the model `d`: weight decay without AdamW, SGD's
/// momentum on Adam, Adam's constants on SGD, clipping a library compiled
/// without it. Empty when fine.
std::string checkAgainstModel(const Hyperparams &h, const Hyperparams &defaults,
                              const vae_model &d);

} // namespace vae

#endif // VAE_RUNTIME_HYPERPARAMS_H
