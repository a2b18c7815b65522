//===- Builtins.h - the signatures of VDL's builtins ------------*- C++ -*-===//
//
// Every function, distribution, optimizer and schedule VDL knows, with its
// parameters and defaults, as Sema checks calls against them; and the
// "did you mean" suggestions of its diagnostics.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_FRONTEND_BUILTINS_H
#define VAEC_FRONTEND_BUILTINS_H

#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace vaec::sema {

/// Count: an integer >= 1; Offset: an integer >= 0 (a padding).
enum class ArgKind { Tensor, TensorOrNumber, Number, Count, Offset, Sizes };
constexpr double kNoDefault = std::numeric_limits<double>::quiet_NaN();
/// A parameter that may be left out without a value (gaussian's logvar/sigma).
constexpr double kOptional = std::numeric_limits<double>::infinity();

struct ParamSpec {
  const char *name;
  ArgKind kind;
  double defaultValue = kNoDefault;
  bool required() const { return std::isnan(defaultValue); }
};

struct BuiltinSpec {
  const char *name;
  /// Reshape: the same elements in another shape (flatten, reshape).
  /// Conv: a convolution of an image [channels, height, width].
  /// Binary: elementwise of two tensors of one shape, or a tensor and a
  /// number (min, max).
  enum Role { Layer, Elementwise, Binary, Distribution, Reshape, Conv } role;
  std::vector<ParamSpec> params;
};

/// The layers, activations, operators and distributions of expressions.
const std::vector<BuiltinSpec> &expressionBuiltins();

/// `prior normal(mean, std)`.
extern const BuiltinSpec kPriorNormal;

/// `optimizer ...`: adam, adamw, sgd.
const std::vector<BuiltinSpec> &optimizerBuiltins();

/// `schedule ...`: the learning rate of each step, set by the runtime;
/// `warmup` epochs of linear warm-up from 0 first.
const std::vector<BuiltinSpec> &scheduleBuiltins();

/// `loss elbo(beta, warmup)`.
extern const BuiltinSpec kElboLoss;

/// The spec named `name` in `specs`, or null.
const BuiltinSpec *findBuiltin(const std::vector<BuiltinSpec> &specs, llvm::StringRef name);

/// " (did you mean 'relu'?)" when a candidate is within two edits.
template <typename Range> std::string suggestion(llvm::StringRef name, const Range &candidates) {
  std::string best;
  unsigned bestDistance = 3;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    // Only suggest when the edit is small against the name (`q` is not a
    // typo of `x`).
    if (distance < bestDistance && candidate != name && 2 * distance <= name.size()) {
      bestDistance = distance;
      best = candidate.str();
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

/// suggestion(), or where no candidate is close, all of them: "; the
/// parameters of 'leaky_relu' are: x, alpha".
template <typename Range>
std::string suggestionOrList(llvm::StringRef name, const Range &candidates, llvm::StringRef what) {
  std::string close = suggestion(name, candidates);
  if (!close.empty() || std::begin(candidates) == std::end(candidates))
    return close;
  std::string list;
  for (llvm::StringRef candidate : candidates)
    list += (list.empty() ? "" : ", ") + candidate.str();
  return "; " + what.str() + ": " + list;
}

/// The names of `specs`, in order.
std::vector<llvm::StringRef> namesOf(const std::vector<BuiltinSpec> &specs);

/// Elements of a tensor of `shape`, saturating (sizes are at most 2^24 each).
int64_t numElements(const std::vector<int64_t> &shape);

/// Whether `value` is a finite whole number.
bool isIntegral(double value);

} // namespace vaec::sema

#endif // VAEC_FRONTEND_BUILTINS_H
