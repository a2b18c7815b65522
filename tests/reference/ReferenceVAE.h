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
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace vaec::reference {

using Matrix = xt::xtensor<double, 2>;
using Vector = xt::xtensor<double, 1>;

/// One parameter of a loaded model, widened to float64.
inline Matrix weight(const vae::Model &model, const float *params, const std::string &name) {
  const vae_param *p = model.param(name);
  if (!p || p->rank != 2)
    throw std::runtime_error("no weight " + name);
  Matrix w = xt::zeros<double>({size_t(p->shape[0]), size_t(p->shape[1])});
  std::copy(params + p->offset, params + p->offset + p->size, w.begin());
  return w;
}

inline Vector bias(const vae::Model &model, const float *params, const std::string &name) {
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
Result run(const Matrix &x, const Matrix &eps, Encoder encoder, Decoder decoder,
           LogLikelihood logLikelihood) {
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
Result mlpVae(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps,
              Activation activation, const std::string &outputName, LogLikelihood logLikelihood) {
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
inline Result mnistVae(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps) {
  // log p(x | z) = sum x * l - softplus(l)
  auto bernoulli = [](const Matrix &logits, const Matrix &target) {
    return xt::sum(target * logits - softplus(logits))();
  };
  return mlpVae(m, p, x, eps, relu, "logits", bernoulli);
}

/// The Keras tutorial model: 784-128-32, leaky ReLU, Gaussian decoder with
/// sigma = 1 (models/seed_vae.vdl).
inline Result seedVae(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps) {
  // log N(x | mean, 1) = sum -0.5 (x - mean)^2 - 0.5 log(2 pi)
  auto gaussian = [](const Matrix &mean, const Matrix &target) {
    Matrix diff = target - mean;
    return xt::sum(-0.5 * diff * diff)() - 0.5 * std::log(2 * M_PI) * double(diff.size());
  };
  return mlpVae(m, p, x, eps, [](const Matrix &v) { return leakyRelu(v); }, "mean", gaussian);
}

//===----------------------------------------------------------------------===//
// Hand-written backward pass of the MLP VAE (float64)
//===----------------------------------------------------------------------===//

inline Matrix transpose(const Matrix &m) { return xt::transpose(m); }
/// Row-major elements, as the parameter buffer stores them.
template <typename E> std::vector<double> flat(const E &e) {
  auto evaluated = xt::eval(e);
  return std::vector<double>(evaluated.begin(), evaluated.end());
}
inline Vector sumRows(const Matrix &m) { return xt::sum(m, {0}); }

/// d loss / d parameter for every parameter of the MLP VAE, by name.
/// `activation` / `derivative` act on the pre-activation; `dOutput` gives
/// d(reconstruction)/d(decoder output) per element *before* the 1/B mean.
template <typename Activation, typename Derivative, typename OutputGradient>
std::map<std::string, std::vector<double>>
mlpGradients(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps,
             Activation activation, Derivative derivative, const std::string &outputName,
             OutputGradient dOutput) {
  const double batch = double(x.shape(0));
  auto W = [&](const std::string &n) { return weight(m, p, n + ".weight"); };
  auto B = [&](const std::string &n) { return bias(m, p, n + ".bias"); };
  std::string out = "decoder." + outputName;
  // Forward, keeping what the backward pass reads.
  Matrix a1 = dense(x, W("encoder.h"), B("encoder.h"));
  Matrix h = activation(a1);
  Matrix mu = dense(h, W("encoder.mu"), B("encoder.mu"));
  Matrix lv = dense(h, W("encoder.logvar"), B("encoder.logvar"));
  Matrix sigma = xt::exp(0.5 * lv);
  Matrix z = mu + sigma * eps;
  Matrix a2 = dense(z, W("decoder.h"), B("decoder.h"));
  Matrix hd = activation(a2);
  Matrix o = dense(hd, W(out), B(out));

  std::map<std::string, std::vector<double>> g;
  Matrix dO = dOutput(o, x) / batch;
  g[out + ".weight"] = flat(dense(transpose(hd), dO, xt::zeros<double>({dO.shape(1)})));
  g[out + ".bias"] = flat(sumRows(dO));
  Matrix da2 = dense(dO, transpose(W(out)), xt::zeros<double>({hd.shape(1)})) * derivative(a2);
  g["decoder.h.weight"] = flat(dense(transpose(z), da2, xt::zeros<double>({da2.shape(1)})));
  g["decoder.h.bias"] = flat(sumRows(da2));
  Matrix dz = dense(da2, transpose(W("decoder.h")), xt::zeros<double>({z.shape(1)}));
  // KL = 0.5 (exp(lv) + mu^2 - 1 - lv), batch mean.
  Matrix dmu = dz + mu / batch;
  Matrix dlv = dz * 0.5 * sigma * eps + 0.5 * (xt::exp(lv) - 1.0) / batch;
  g["encoder.mu.weight"] = flat(dense(transpose(h), dmu, xt::zeros<double>({dmu.shape(1)})));
  g["encoder.mu.bias"] = flat(sumRows(dmu));
  g["encoder.logvar.weight"] = flat(dense(transpose(h), dlv, xt::zeros<double>({dlv.shape(1)})));
  g["encoder.logvar.bias"] = flat(sumRows(dlv));
  Vector zerosH = xt::zeros<double>({h.shape(1)});
  Matrix dh = dense(dmu, transpose(W("encoder.mu")), zerosH) +
              dense(dlv, transpose(W("encoder.logvar")), zerosH);
  Matrix da1 = dh * derivative(a1);
  g["encoder.h.weight"] = flat(dense(transpose(x), da1, xt::zeros<double>({da1.shape(1)})));
  g["encoder.h.bias"] = flat(sumRows(da1));
  return g;
}

inline std::map<std::string, std::vector<double>>
mnistVaeGradients(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps) {
  // -(x log s + (1 - x) log(1 - s)) with s = sigmoid(l): d/dl = s - x.
  auto dBernoulli = [](const Matrix &logits, const Matrix &target) -> Matrix {
    return 1.0 / (1.0 + xt::exp(-logits)) - target;
  };
  return mlpGradients(
      m, p, x, eps, relu, [](const Matrix &a) -> Matrix { return xt::where(a > 0.0, 1.0, 0.0); },
      "logits", dBernoulli);
}

inline std::map<std::string, std::vector<double>>
seedVaeGradients(const vae::Model &m, const float *p, const Matrix &x, const Matrix &eps) {
  // 0.5 (x - mean)^2: d/dmean = mean - x.
  auto dGaussian = [](const Matrix &mean, const Matrix &target) -> Matrix { return mean - target; };
  return mlpGradients(
      m, p, x, eps, [](const Matrix &v) { return leakyRelu(v); },
      [](const Matrix &a) -> Matrix { return xt::where(a > 0.0, 1.0, 0.01); }, "mean", dGaussian);
}

} // namespace vaec::reference

#endif // VAEC_TESTS_REFERENCE_REFERENCEVAE_H
