//===- MathAccuracyTest.cpp - polynomial math against libm ----------------===//
//
// The generated code replaces tanh, exp, log, log1p and expm1 with MLIR's
// polynomial approximations so they vectorize. Here they meet libm (in
// double) on 4096 points spread over the ranges a VAE sees.
//
//===----------------------------------------------------------------------===//

#include "CompileModel.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

std::unique_ptr<vae::Model> compile(const std::string &name) {
  return vaec::test::compileAndLoad(std::string(VAEC_TEST_INPUTS) + "/" + name + ".vdl", name);
}

/// `count` points evenly spaced over [lo, hi].
std::vector<float> grid(size_t count, double lo, double hi) {
  std::vector<float> points(count);
  for (size_t i = 0; i < count; ++i)
    points[i] = float(lo + (hi - lo) * double(i) / double(count - 1));
  return points;
}

/// Worst |got - want| / max(|want|, floor) over the grid.
double worstError(const std::vector<float> &in, const std::vector<float> &got,
                  const std::function<double(double)> &want, double floor) {
  double worst = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    double w = want(in[i]);
    worst = std::max(worst, std::fabs(got[i] - w) / std::max(std::fabs(w), floor));
  }
  return worst;
}

// A few float32 ulps (2^-23 = 1.2e-7).
constexpr double kTolerance = 5e-6;

} // namespace

TEST_CASE("tanh, softplus, exp and log agree with libm", "[math]") {
  auto model = compile("math_a");
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  size_t n = size_t(model->desc().batch * model->desc().input_size);

  std::vector<float> x = grid(n, -30, 30), a(n), b(n);
  model->encode(params.data(), arena.bytes(), x.data(), a.data(), b.data());
  double tanhError = worstError(x, a, [](double v) { return std::tanh(v); }, 1e-6);
  double softplusError = worstError(x, b, [](double v) { return std::log1p(std::exp(v)); }, 1e-6);
  INFO("tanh " << tanhError << ", softplus " << softplusError);
  CHECK(tanhError <= kTolerance);
  CHECK(softplusError <= kTolerance);

  // exp over the logvar range of DESIGN (exp(0.5 * logvar), logvar in
  // [-30, 30]) and log over positive values down to 1e-6.
  std::vector<float> z = grid(n, -30, 30), e(n), l(n);
  model->decode(params.data(), arena.bytes(), z.data(), e.data(), l.data());
  double expError = worstError(z, e, [](double v) { return std::exp(v); }, 1e-30);
  INFO("exp " << expError);
  CHECK(expError <= kTolerance);

  std::vector<float> p = grid(n, 1e-6, 100);
  model->decode(params.data(), arena.bytes(), p.data(), e.data(), l.data());
  double logError = worstError(p, l, [](double v) { return std::log(v); }, 1e-3);
  INFO("log " << logError);
  CHECK(logError <= kTolerance);
}

TEST_CASE("sigmoid and elu agree with libm", "[math]") {
  auto model = compile("math_b");
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  size_t n = size_t(model->desc().batch * model->desc().input_size);
  std::vector<float> x = grid(n, -30, 30), a(n), b(n);
  model->encode(params.data(), arena.bytes(), x.data(), a.data(), b.data());
  double sigmoidError = worstError(x, a, [](double v) { return 1 / (1 + std::exp(-v)); }, 1e-6);
  double eluError = worstError(x, b, [](double v) { return v > 0 ? v : std::expm1(v); }, 1e-6);
  INFO("sigmoid " << sigmoidError << ", elu " << eluError);
  CHECK(sigmoidError <= kTolerance);
  CHECK(eluError <= kTolerance);
}
