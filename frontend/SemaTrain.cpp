//===- SemaTrain.cpp - the checks of a VDL train block --------------------===//
//
// train { optimizer ...; batch ...; ... }: each setting's kind and range,
// into the module's TrainConfig.
//
//===----------------------------------------------------------------------===//

#include "frontend/Checker.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

using namespace vaec;
using namespace vaec::sema;

//===----------------------------------------------------------------------===//
// train { ... }
//===----------------------------------------------------------------------===//

SemaType Checker::checkConstant(Expr &expr, llvm::StringRef what) {
  SemaType type = check(expr);
  if (!type.isError() && type.kind != SemaType::Number) {
    diags.error(expr.loc, what + " must be a constant number, got " + type.str());
    return SemaType::error();
  }
  return type;
}

std::optional<int64_t> Checker::checkCount(Expr &expr, llvm::StringRef what, int64_t min,
                                           int64_t max) {
  SemaType type = checkConstant(expr, what);
  if (type.isError())
    return std::nullopt;
  if (!isIntegral(type.value) || type.value < static_cast<double>(min) ||
      type.value > static_cast<double>(max)) {
    diags.error(expr.loc, what + " must be an integer in [" + llvm::Twine(min) + ", " +
                              llvm::Twine(max) + "], got " + formatNumber(type.value));
    return std::nullopt;
  }
  return static_cast<int64_t>(type.value);
}

void Checker::checkTrain(std::optional<int64_t> batchOverride) {
  scope.clear();
  static const char *const keys[] = {"optimizer", "batch",    "epochs",         "loss",
                                     "seed",      "schedule", "clip_grad_norm", "validation_split",
                                     "patience"};
  llvm::StringMap<SMLoc> seen;
  TrainConfig &train = module.train;
  for (Setting &setting : module.settings) {
    auto [it, inserted] = seen.try_emplace(setting.key, setting.loc);
    if (!inserted) {
      diags.error(setting.loc, "train setting '" + setting.key + "' is given twice");
      diags.note(it->second, "first given here");
      continue;
    }
    Expr &value = *setting.value;
    if (setting.key == "batch") {
      if (auto n = checkCount(value, "batch", 1, Limits::kMaxBatch))
        train.batch = *n;
    } else if (setting.key == "epochs") {
      if (auto n = checkCount(value, "epochs", 1, 1000000))
        train.epochs = *n;
    } else if (setting.key == "seed") {
      if (auto n = checkCount(value, "seed", 0, (int64_t{1} << 53)))
        train.seed = *n;
    } else if (setting.key == "clip_grad_norm") {
      SemaType type = checkConstant(value, "clip_grad_norm");
      if (type.isError())
        continue;
      if (type.value > 0 && std::isfinite(type.value))
        train.clipGradNorm = type.value;
      else
        diags.error(value.loc, "clip_grad_norm must be positive, got " + formatNumber(type.value));
    } else if (setting.key == "validation_split") {
      SemaType type = checkConstant(value, "validation_split");
      if (type.isError())
        continue;
      if (type.value > 0 && type.value < 1)
        train.valFraction = type.value;
      else
        diags.error(value.loc,
                    "validation_split must be in (0, 1), got " + formatNumber(type.value));
    } else if (setting.key == "patience") {
      if (auto n = checkCount(value, "patience", 0, 1000000))
        train.patience = *n;
    } else if (setting.key == "optimizer" || setting.key == "loss" || setting.key == "schedule") {
      checkTrainCall(setting.key, value);
    } else {
      diags.error(setting.loc, "unknown train setting '" + setting.key + "'" +
                                   suggestionOrList(setting.key, keys, "the train settings are"));
    }
  }
  if (batchOverride)
    train.batch = *batchOverride;
}

/// `optimizer`, `loss` or `schedule`: a call of one of the key's builtins,
/// its arguments checked and stored in the module's TrainConfig.
void Checker::checkTrainCall(llvm::StringRef key, Expr &value) {
  TrainConfig &train = module.train;
  auto *call = llvm::dyn_cast<CallExpr>(&value);
  std::vector<llvm::StringRef> names = key == "optimizer"  ? namesOf(optimizerBuiltins())
                                       : key == "schedule" ? namesOf(scheduleBuiltins())
                                                           : std::vector<llvm::StringRef>{"elbo"};
  const BuiltinSpec *spec = !call                ? nullptr
                            : key == "optimizer" ? findBuiltin(optimizerBuiltins(), call->callee)
                            : key == "schedule"  ? findBuiltin(scheduleBuiltins(), call->callee)
                                                 : (call->callee == "elbo" ? &kElboLoss : nullptr);
  if (!spec) {
    llvm::StringRef expected =
        key == "optimizer"  ? "an optimizer: adam(...), adamw(...) or sgd(lr = ...)"
        : key == "schedule" ? "a schedule: constant(...), cosine(...) or step(every = ...)"
                            : "elbo(beta = ..., warmup = ...)";
    std::string found =
        call ? "'" + call->callee + "'" + suggestion(call->callee, names) : "an expression";
    diags.error(value.loc, "expected " + expected + ", found " + found);
    return;
  }
  if (!bindArguments(*call, *spec))
    return;
  auto positive = [&](size_t i, const char *what) {
    if (call->number(i) > 0)
      return true;
    diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                llvm::Twine(what) + " must be positive, got " + formatNumber(call->number(i)));
    return false;
  };
  auto unitInterval = [&](size_t i, const char *what) {
    double v = call->number(i);
    if (v >= 0 && v < 1)
      return true;
    diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                llvm::Twine(what) + " must be in [0, 1), got " + formatNumber(v));
    return false;
  };
  auto nonNegative = [&](size_t i, const char *what) {
    if (call->number(i) >= 0 && std::isfinite(call->number(i)))
      return true;
    diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                llvm::Twine(what) + " must be non-negative, got " + formatNumber(call->number(i)));
    return false;
  };
  if (key == "schedule") {
    train.schedule = call->callee;
    size_t warmup = call->callee == "step" ? 2 : 0;
    if (nonNegative(warmup, "the learning-rate warm-up"))
      train.lrWarmup = call->number(warmup);
    if (call->callee == "cosine" && nonNegative(1, "min_lr"))
      train.lrMin = call->number(1);
    if (call->callee == "step") {
      if (positive(0, "every (epochs)"))
        train.lrStepEpochs = call->number(0);
      if (positive(1, "gamma"))
        train.lrGamma = call->number(1);
    }
  } else if (call->callee == "adam" || call->callee == "adamw") {
    train.optimizer = call->callee;
    if (positive(0, "learning rate"))
      train.lr = call->number(0);
    if (unitInterval(1, "beta1"))
      train.beta1 = call->number(1);
    if (unitInterval(2, "beta2"))
      train.beta2 = call->number(2);
    if (positive(3, "eps"))
      train.eps = call->number(3);
    if (call->callee == "adamw" && nonNegative(4, "weight_decay"))
      train.weightDecay = call->number(4);
  } else if (call->callee == "sgd") {
    train.optimizer = "sgd";
    if (positive(0, "learning rate"))
      train.lr = call->number(0);
    if (unitInterval(1, "momentum"))
      train.momentum = call->number(1);
  } else {
    double beta = call->number(0), warmup = call->number(1);
    if (beta >= 0)
      train.beta = beta;
    else
      diags.error(call->operand(0)->loc, "beta must be non-negative, got " + formatNumber(beta));
    if (isIntegral(warmup) && warmup >= 0 && warmup <= 1000000)
      train.warmup = static_cast<int64_t>(warmup);
    else
      diags.error(call->operand(1)->loc, "warmup must be a whole number of epochs in [0, "
                                         "1000000], got " +
                                             formatNumber(warmup));
  }
}
