//===- Hyperparams.cpp - run-time settings of a training run --------------===//

#include "runtime/Hyperparams.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

using namespace vae;

Hyperparams Hyperparams::of(const vae_model &d) {
  Hyperparams h;
  const vae_hyperparams &c = d.defaults;
  h.lr = c.lr;
  h.beta = d.beta; // (double: the float in defaults.kl_weight rounds it)
  h.klWarmupEpochs = double(d.warmup_epochs);
  h.beta1 = c.beta1;
  h.beta2 = c.beta2;
  h.eps = c.eps;
  h.momentum = c.momentum;
  h.weightDecay = c.weight_decay;
  h.clipGradNorm = d.clips_gradients ? c.clip_norm : 0;
  h.schedule = d.lr_schedule == VAE_LR_COSINE ? "cosine"
               : d.lr_schedule == VAE_LR_STEP ? "step"
                                              : "constant";
  h.lrWarmupEpochs = d.lr_warmup_epochs;
  h.lrMin = d.lr_min;
  h.lrStepEpochs = d.lr_step_epochs > 0 ? d.lr_step_epochs : 1;
  h.lrGamma = d.lr_gamma;
  h.valFraction = d.val_fraction;
  h.patience = d.patience;
  return h;
}

vae_hyperparams Hyperparams::at(int64_t epoch, size_t k, size_t batches, int64_t epochs) const {
  // Epochs done at the start of the step, and at its end (the warm-up of
  // the learning rate counts the step itself: its first step is not lr 0).
  double start = double(epoch) + double(k) / double(batches);
  double end = double(epoch) + double(k + 1) / double(batches);
  double rate = lr;
  if (schedule == "cosine") {
    double span = double(epochs) - lrWarmupEpochs;
    double t = span > 0 ? std::clamp((start - lrWarmupEpochs) / span, 0.0, 1.0) : 1.0;
    rate = lrMin + (lr - lrMin) * 0.5 * (1 + std::cos(M_PI * t));
  } else if (schedule == "step") {
    rate = lr * std::pow(lrGamma,
                         std::floor(std::max(0.0, start - lrWarmupEpochs) / lrStepEpochs + 1e-9));
  }
  if (lrWarmupEpochs > 0 && end < lrWarmupEpochs)
    rate *= end / lrWarmupEpochs;
  double klWeight =
      klWarmupEpochs > 0 && start < klWarmupEpochs ? beta * start / klWarmupEpochs : beta;
  return {float(rate), float(klWeight), float(beta1),       float(beta2),
          float(eps),  float(momentum), float(weightDecay), float(clipGradNorm)};
}

const std::vector<HyperparamFlag> &vae::hyperparamFlags() {
  constexpr double inf = HUGE_VAL;
  static const std::vector<HyperparamFlag> flags = {
      {"lr", "--lr", "learning rate (the peak of a schedule)", &Hyperparams::lr, 0, true, inf,
       false, false},
      {"beta", "--beta", "weight of the KL term in the objective (elbo's beta)", &Hyperparams::beta,
       0, false, inf, false, false},
      {"kl_warmup", "--warmup",
       "epochs over which the KL weight rises from 0 to beta (elbo's warmup)",
       &Hyperparams::klWarmupEpochs, 0, false, inf, false, false},
      {"beta1", "--beta1", "Adam(W): decay rate of the first moment", &Hyperparams::beta1, 0, false,
       1, true, false},
      {"beta2", "--beta2", "Adam(W): decay rate of the second moment", &Hyperparams::beta2, 0,
       false, 1, true, false},
      {"eps", "--adam-eps", "Adam(W): epsilon of the denominator", &Hyperparams::eps, 0, true, inf,
       false, false},
      {"momentum", "--momentum", "SGD: momentum", &Hyperparams::momentum, 0, false, 1, true, false},
      {"weight_decay", "--weight-decay", "AdamW: decoupled weight decay", &Hyperparams::weightDecay,
       0, false, inf, false, false},
      {"clip_grad_norm", "--clip-grad-norm",
       "clip the gradient to this global L2 norm (0: no clipping; the model needs "
       "clip_grad_norm in its train block)",
       &Hyperparams::clipGradNorm, 0, false, inf, false, false},
      {"lr_warmup", "--lr-warmup", "epochs over which the learning rate rises from 0",
       &Hyperparams::lrWarmupEpochs, 0, false, inf, false, false},
      {"lr_min", "--min-lr", "cosine schedule: the last learning rate", &Hyperparams::lrMin, 0,
       false, inf, false, false},
      {"lr_step_epochs", "--lr-step-every", "step schedule: epochs between decays",
       &Hyperparams::lrStepEpochs, 0, true, inf, false, false},
      {"lr_gamma", "--lr-gamma", "step schedule: factor of each decay", &Hyperparams::lrGamma, 0,
       true, inf, false, false},
      {"val_fraction", "--val-fraction",
       "fraction of the training set held out (seeded) to validate after each epoch",
       &Hyperparams::valFraction, 0, false, 1, true, false},
      {"patience", "--patience",
       "stop after this many epochs without a better validation -ELBO (0: never)",
       &Hyperparams::patience, 0, false, 1e6, false, true},
  };
  return flags;
}

bool vae::checkHyperparam(const HyperparamFlag &flag, double value, std::string &error) {
  bool low = flag.above ? value > flag.min : value >= flag.min;
  bool high = flag.openMax ? value < flag.max : value <= flag.max;
  if (std::isfinite(value) && low && high && (!flag.integer || value == std::floor(value)))
    return true;
  error = fmt::format("{:g} is not {}in {}{:g}, {:g}{}", value,
                      flag.integer ? "a whole number " : "", flag.above ? "(" : "[", flag.min,
                      flag.max, flag.openMax || std::isinf(flag.max) ? ")" : "]");
  return false;
}

std::map<std::string, std::string> vae::hyperparamRecord(const Hyperparams &h) {
  std::map<std::string, std::string> record;
  for (const HyperparamFlag &flag : hyperparamFlags()) {
    record[flag.key] = fmt::format("{:.9g}", h.*flag.field);
  }
  record["schedule"] = h.schedule;
  return record;
}

void vae::applyHyperparamRecord(const std::map<std::string, std::string> &record, Hyperparams &h) {
  for (const HyperparamFlag &flag : hyperparamFlags())
    if (auto it = record.find(flag.key); it != record.end())
      h.*flag.field = std::strtod(it->second.c_str(), nullptr);
  if (auto it = record.find("schedule"); it != record.end())
    h.schedule = it->second;
}

std::string vae::checkAgainstModel(const Hyperparams &h, const Hyperparams &defaults,
                                   const vae_model &d) {
  bool sgd = d.optimizer == VAE_OPTIMIZER_SGD;
  const char *name = d.optimizer == VAE_OPTIMIZER_SGD     ? "sgd"
                     : d.optimizer == VAE_OPTIMIZER_ADAMW ? "adamw"
                                                          : "adam";
  if (h.weightDecay > 0 && d.optimizer != VAE_OPTIMIZER_ADAMW)
    return std::string("--weight-decay is AdamW's decoupled weight decay, and model '") + d.name +
           "' trains with " + name +
           "; use optimizer adamw(weight_decay = ...) in "
           "its train block";
  if (h.momentum != defaults.momentum && !sgd)
    return std::string("--momentum is SGD's, and model '") + d.name + "' trains with " + name;
  if (sgd && (h.beta1 != defaults.beta1 || h.beta2 != defaults.beta2 || h.eps != defaults.eps))
    return std::string("--beta1, --beta2 and --adam-eps are Adam's, and model '") + d.name +
           "' trains with sgd";
  if (h.clipGradNorm > 0 && !d.clips_gradients)
    return std::string("model '") + d.name +
           "' was compiled without gradient clipping; add `clip_grad_norm N;` to its train "
           "block (--clip-grad-norm then sets N at run time)";
  return "";
}
