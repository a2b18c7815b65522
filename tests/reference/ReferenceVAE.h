//===- ReferenceVAE.h - float64 reference of the shipped models -*- C++ -*-===//
//
// An independent implementation of mnist_vae and seed_vae with xtensor, in
// float64, written from the models' definitions (not from the compiler): the
// generated code is checked against it on identical weights and noise.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TESTS_REFERENCE_REFERENCEVAE_H
#define VAEC_TESTS_REFERENCE_REFERENCEVAE_H

#include "runtime/Model.h"

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

namespace vaec::reference {

using Matrix = xt::xtensor<double, 2>;
using Vector = xt::xtensor<double, 1>;

/// One parameter of a loaded model, widened to float64.
inline Matrix weight(const vae::Model &model, const float *params,
                     const std::string &name) {
  const vae_param *p = model.param(name);
  if (!p || p->rank != 2)
    throw std::runtime_error("no weight " + name);
  Matrix w = xt::zeros<double>({size_t(p->shape[0]), size_t(p->shape[1])});
  std::copy(params + p->offset, params + p->offset + p->size, w.begin());
  return w;
}

inline Vector bias(const vae::Model &model, const float *params,
                   const std::string &name) {
  const vae_param *p = model.param(name);
  if (!p || p->rank != 1)
    throw std::runtime_error("no bias " + name);
  Vector b = xt::zeros<double>({size_t(p->shape[0])});
  std::copy(params + p->offset, params + p->offset + p->size, b.begin());
  return b;
}

/// x · W + b, with W stored [in, out].
inline Matrix dense(const Matrix &x, const Matrix &w, const Vector &b) {
  size_t batch = x.shape(0), in = x.shape(1), out = w.shape(1);
  Matrix y = xt::zeros<double>({batch, out});
  for (size_t i = 0; i < batch; ++i)
    for (size_t k = 0; k < in; ++k) {
      double xik = x(i, k);
      for (size_t j = 0; j < out; ++j)
        y(i, j) += xik * w(k, j);
    }
  return y + xt::view(b, xt::newaxis(), xt::all());
}

inline Matrix relu(const Matrix &x) { return xt::maximum(x, 0.0); }
inline Matrix leakyRelu(const Matrix &x, double alpha = 0.01) {
  return xt::where(x > 0.0, x, alpha * x);
}
inline Matrix softplus(const Matrix &x) {
  return xt::log1p(xt::exp(-xt::abs(x))) + xt::maximum(x, 0.0);
}

struct Result {
  Matrix mu, logvar, decoded; // decoded: logits (mnist) or mean (seed)
  double loss = 0, reconstruction = 0, kl = 0;
};

/// KL(N(mu, exp(logvar)) || N(0, 1)), batch mean.
inline double klMean(const Matrix &mu, const Matrix &logvar) {
  Matrix terms = 0.5 * (xt::exp(logvar) + mu * mu - 1.0 - logvar);
  return xt::sum(terms)() / double(mu.shape(0));
}

/// `encoder`/`decoder` take the model's parameters and one batch.
template <typename Encoder, typename Decoder, typename LogLikelihood>
Result run(const Matrix &x, const Matrix &eps, Encoder encoder,
           Decoder decoder, LogLikelihood logLikelihood) {
  Result r;
  std::tie(r.mu, r.logvar) = encoder(x);
  Matrix z = r.mu + xt::exp(0.5 * r.logvar) * eps;
  Matrix decoded = decoder(z);
  r.decoded = decoder(r.mu); // what vae_decode(mu) must return
  r.reconstruction = -logLikelihood(decoded, x) / double(x.shape(0));
  r.kl = klMean(r.mu, r.logvar);
  r.loss = r.reconstruction + r.kl;
  return r;
}

/// The one-hidden-layer MLP VAE both shipped models are: dense + activation
/// on each side; the decoder's output layer is named `outputName`.
template <typename Activation, typename LogLikelihood>
Result mlpVae(const vae::Model &m, const float *p, const Matrix &x,
              const Matrix &eps, Activation activation,
              const std::string &outputName, LogLikelihood logLikelihood) {
  auto layer = [&](const Matrix &in, const std::string &name) {
    return dense(in, weight(m, p, name + ".weight"), bias(m, p, name + ".bias"));
  };
  auto encoder = [&](const Matrix &in) {
    Matrix h = activation(layer(in, "encoder.h"));
    return std::make_pair(layer(h, "encoder.mu"), layer(h, "encoder.logvar"));
  };
  auto decoder = [&](const Matrix &z) {
    return layer(activation(layer(z, "decoder.h")), "decoder." + outputName);
  };
  return run(x, eps, encoder, decoder, logLikelihood);
}

/// Kingma & Welling: 784-400-20, ReLU, Bernoulli decoder (models/mnist_vae.vdl).
inline Result mnistVae(const vae::Model &m, const float *p, const Matrix &x,
                       const Matrix &eps) {
  // log p(x | z) = sum x * l - softplus(l)
  auto bernoulli = [](const Matrix &logits, const Matrix &target) {
    return xt::sum(target * logits - softplus(logits))();
  };
  return mlpVae(m, p, x, eps, relu, "logits", bernoulli);
}

/// The Keras tutorial model: 784-128-32, leaky ReLU, Gaussian decoder with
/// sigma = 1 (models/seed_vae.vdl).
inline Result seedVae(const vae::Model &m, const float *p, const Matrix &x,
                      const Matrix &eps) {
  // log N(x | mean, 1) = sum -0.5 (x - mean)^2 - 0.5 log(2 pi)
  auto gaussian = [](const Matrix &mean, const Matrix &target) {
    Matrix diff = target - mean;
    return xt::sum(-0.5 * diff * diff)() -
           0.5 * std::log(2 * M_PI) * double(diff.size());
  };
  return mlpVae(m, p, x, eps, [](const Matrix &v) { return leakyRelu(v); },
                "mean", gaussian);
}

} // namespace vaec::reference

#endif // VAEC_TESTS_REFERENCE_REFERENCEVAE_H
