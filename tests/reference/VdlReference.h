//===- VdlReference.h - float64 interpreter of any VDL model ----*- C++ -*-===//
//
// The reference the differential tester (tests/fuzz/DiffTest.cpp) checks
// generated code against: it walks the AST that the frontend's parser and
// Sema produce and evaluates it in float64 with xtensor, with its own
// reverse mode (a tape of closures, one derivative per builtin written from
// the textbook formula), its own loss terms and its own optimizers. Nothing
// of MLIR, the vdl dialect, its gradient rules or its lowering is shared with
// the compiler: only the parse tree, and the parameter names Sema gives it.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TESTS_REFERENCE_VDLREFERENCE_H
#define VAEC_TESTS_REFERENCE_VDLREFERENCE_H

#include "frontend/AST.h"

#include <xtensor/xtensor.hpp>

#include <cstdint>
#include <vector>

namespace vaec::reference {

using Matrix = xt::xtensor<double, 2>;

/// A model's parameters in Module::params order: weights [in, out], biases
/// [1, out].
using Parameters = std::vector<Matrix>;

/// log p(x) per element under a discretized logistic of `bins` levels
/// (vdl.discretized_logistic_log_prob), from its definition.
Matrix discretizedLogisticLogProb(const Matrix &mean, const Matrix &logScale, const Matrix &x,
                                  double bins);
/// Its derivatives by mean and by log_scale, per element.
std::pair<Matrix, Matrix> discretizedLogisticGradients(const Matrix &mean, const Matrix &logScale,
                                                       const Matrix &x, double bins);

/// One batch through the model: what the entry points of abi.h return.
struct Evaluation {
  Matrix mu, logvar;                      // the posterior, [batch, latent]
  std::vector<Matrix> likelihood;         // logits, or mean (and logvar)
  std::vector<double> reconstruction, kl; // per example: -log p(x|z), KL
};

class VdlReference {
public:
  /// `module` must have passed Sema (parameter names, folded constants,
  /// resolved arguments) and outlive this object.
  explicit VdlReference(const Module &module) : module(module) {}

  /// The forward pass with z = mu + exp(logvar / 2) * eps.
  Evaluation evaluate(const Parameters &params, const Matrix &x, const Matrix &eps) const;

  /// The likelihood's parameters for latent codes `z` (what vae_decode
  /// writes).
  std::vector<Matrix> decode(const Parameters &params, const Matrix &z) const;

  /// d/d params of (1/B) sum_b weights[b] (reconstruction_b + klWeight kl_b).
  Parameters gradients(const Parameters &params, const Matrix &x, const Matrix &eps,
                       const std::vector<double> &weights, double klWeight) const;

  /// Zero-filled parameters of this model's shapes.
  Parameters zeros() const;

private:
  const Module &module;
};

/// The optimizer of `train { ... }` in float64 (PyTorch's formulas): Adam
/// with bias correction (AdamW: with decoupled weight decay), or SGD with
/// momentum (v = m v + g, p -= lr v); gradients clipped by their global norm
/// first when the train block has clip_grad_norm.
class ReferenceOptimizer {
public:
  ReferenceOptimizer(const TrainConfig &config, const Parameters &shapes);
  /// Step `step` (from 1) with gradients `grads`, in place.
  void update(Parameters &params, const Parameters &grads, int64_t step);

private:
  TrainConfig config;
  Parameters first, second; // Adam's m and v; SGD's velocity in `first`
};

} // namespace vaec::reference

#endif // VAEC_TESTS_REFERENCE_VDLREFERENCE_H
