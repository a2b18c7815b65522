//===- Builtins.cpp - the signatures of VDL's builtins --------------------===//

#include "frontend/Builtins.h"

namespace vaec::sema {

const std::vector<BuiltinSpec> &expressionBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"dense", BuiltinSpec::Layer, {{"x", ArgKind::Tensor}, {"units", ArgKind::Count}}},
      {"conv2d",
       BuiltinSpec::Conv,
       {{"x", ArgKind::Tensor},
        {"filters", ArgKind::Count},
        {"kernel", ArgKind::Count, 3},
        {"stride", ArgKind::Count, 1},
        {"padding", ArgKind::Offset, 0}}},
      {"conv2d_transpose",
       BuiltinSpec::Conv,
       {{"x", ArgKind::Tensor},
        {"filters", ArgKind::Count},
        {"kernel", ArgKind::Count, 3},
        {"stride", ArgKind::Count, 1},
        {"padding", ArgKind::Offset, 0},
        {"output_padding", ArgKind::Offset, 0}}},
      {"flatten", BuiltinSpec::Reshape, {{"x", ArgKind::Tensor}}},
      {"reshape", BuiltinSpec::Reshape, {{"x", ArgKind::Tensor}, {"shape", ArgKind::Sizes}}},
      {"relu", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"tanh", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"sigmoid", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"softplus", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"exp", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"log", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"leaky_relu",
       BuiltinSpec::Elementwise,
       {{"x", ArgKind::TensorOrNumber}, {"alpha", ArgKind::Number, 0.01}}},
      {"elu",
       BuiltinSpec::Elementwise,
       {{"x", ArgKind::TensorOrNumber}, {"alpha", ArgKind::Number, 1.0}}},
      {"min",
       BuiltinSpec::Binary,
       {{"a", ArgKind::TensorOrNumber}, {"b", ArgKind::TensorOrNumber}}},
      {"max",
       BuiltinSpec::Binary,
       {{"a", ArgKind::TensorOrNumber}, {"b", ArgKind::TensorOrNumber}}},
      {"clamp",
       BuiltinSpec::Elementwise,
       {{"x", ArgKind::TensorOrNumber}, {"min", ArgKind::Number}, {"max", ArgKind::Number}}},
      {"normal", BuiltinSpec::Distribution, {{"mu", ArgKind::Tensor}, {"logvar", ArgKind::Tensor}}},
      {"bernoulli", BuiltinSpec::Distribution, {{"logits", ArgKind::Tensor}}},
      {"discretized_logistic",
       BuiltinSpec::Distribution,
       {{"mean", ArgKind::Tensor}, {"log_scale", ArgKind::Tensor}, {"bins", ArgKind::Number, 256}}},
      {"gaussian",
       BuiltinSpec::Distribution,
       {{"mean", ArgKind::Tensor},
        {"logvar", ArgKind::Tensor, kOptional},
        {"sigma", ArgKind::Number, kOptional}}},
  };
  return specs;
}

const BuiltinSpec kPriorNormal = {
    "normal", BuiltinSpec::Distribution, {{"mean", ArgKind::Number}, {"std", ArgKind::Number}}};

const std::vector<BuiltinSpec> &optimizerBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"adam",
       BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number, 1e-3},
        {"beta1", ArgKind::Number, 0.9},
        {"beta2", ArgKind::Number, 0.999},
        {"eps", ArgKind::Number, 1e-8}}},
      {"adamw",
       BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number, 1e-3},
        {"beta1", ArgKind::Number, 0.9},
        {"beta2", ArgKind::Number, 0.999},
        {"eps", ArgKind::Number, 1e-8},
        {"weight_decay", ArgKind::Number, 0.01}}},
      {"sgd",
       BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number}, {"momentum", ArgKind::Number, 0.0}}},
  };
  return specs;
}

const std::vector<BuiltinSpec> &scheduleBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"constant", BuiltinSpec::Elementwise, {{"warmup", ArgKind::Number, 0.0}}},
      {"cosine",
       BuiltinSpec::Elementwise,
       {{"warmup", ArgKind::Number, 0.0}, {"min_lr", ArgKind::Number, 0.0}}},
      {"step",
       BuiltinSpec::Elementwise,
       {{"every", ArgKind::Number},
        {"gamma", ArgKind::Number, 0.1},
        {"warmup", ArgKind::Number, 0.0}}},
  };
  return specs;
}

const BuiltinSpec kElboLoss = {"elbo",
                               BuiltinSpec::Elementwise,
                               {{"beta", ArgKind::Number, 1.0}, {"warmup", ArgKind::Number, 0.0}}};

const BuiltinSpec *findBuiltin(const std::vector<BuiltinSpec> &specs, llvm::StringRef name) {
  for (const BuiltinSpec &spec : specs)
    if (name == spec.name)
      return &spec;
  return nullptr;
}

std::vector<llvm::StringRef> namesOf(const std::vector<BuiltinSpec> &specs) {
  std::vector<llvm::StringRef> names;
  for (const BuiltinSpec &spec : specs)
    names.push_back(spec.name);
  return names;
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t elements = 1;
  for (int64_t size : shape)
    elements = elements > std::numeric_limits<int64_t>::max() / size
                   ? std::numeric_limits<int64_t>::max()
                   : elements * size;
  return elements;
}

bool isIntegral(double value) { return std::isfinite(value) && value == std::floor(value); }

} // namespace vaec::sema
