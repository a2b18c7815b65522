//===- HyperparamsTest.cpp - schedules and run-time settings ---------------===//

#include "runtime/Hyperparams.h"

#include <catch2/catch.hpp>

#include <cmath>

using vae::Hyperparams;

namespace {

/// A run of 10 epochs of 4 steps at lr 0.01.
Hyperparams base() {
  Hyperparams h;
  h.lr = 0.01;
  return h;
}

float lrAt(const Hyperparams &h, int64_t epoch, size_t k) { return h.at(epoch, k, 4, 10).lr; }

} // namespace

TEST_CASE("a constant schedule keeps the learning rate", "[hyperparams]") {
  Hyperparams h = base();
  for (int64_t epoch : {0, 5, 9})
    CHECK(lrAt(h, epoch, 3) == 0.01f);
}

TEST_CASE("the learning-rate warm-up rises linearly, counting the step itself", "[hyperparams]") {
  Hyperparams h = base();
  h.lrWarmupEpochs = 2; // 8 steps
  CHECK(lrAt(h, 0, 0) == Approx(0.01 / 8));
  CHECK(lrAt(h, 0, 3) == Approx(0.01 * 4 / 8));
  CHECK(lrAt(h, 1, 2) == Approx(0.01 * 7 / 8));
  CHECK(lrAt(h, 1, 3) == 0.01f); // the 8th step: warmed up
  CHECK(lrAt(h, 2, 0) == 0.01f);
}

TEST_CASE("cosine goes from lr to min_lr over the epochs after the warm-up", "[hyperparams]") {
  Hyperparams h = base();
  h.schedule = "cosine";
  h.lrMin = 0.001;
  CHECK(lrAt(h, 0, 0) == Approx(0.01));
  CHECK(lrAt(h, 5, 0) == Approx(0.001 + 0.009 * 0.5)); // halfway
  CHECK(lrAt(h, 9, 3) == Approx(0.001 + 0.009 * 0.5 * (1 + std::cos(M_PI * 39.0 / 40))));
  h.lrWarmupEpochs = 2;
  // From the end of the warm-up, over the 8 epochs left.
  CHECK(lrAt(h, 2, 0) == Approx(0.01));
  CHECK(lrAt(h, 6, 0) == Approx(0.001 + 0.009 * 0.5));
}

TEST_CASE("step multiplies by gamma every so many epochs", "[hyperparams]") {
  Hyperparams h = base();
  h.schedule = "step";
  h.lrStepEpochs = 3;
  h.lrGamma = 0.5;
  CHECK(lrAt(h, 0, 0) == Approx(0.01));
  CHECK(lrAt(h, 2, 3) == Approx(0.01));
  CHECK(lrAt(h, 3, 0) == Approx(0.005));
  CHECK(lrAt(h, 6, 1) == Approx(0.0025));
}

TEST_CASE("the KL weight warms up from 0 to beta at the step's start", "[hyperparams]") {
  Hyperparams h = base();
  h.beta = 0.5;
  h.klWarmupEpochs = 2;
  CHECK(h.at(0, 0, 4, 10).kl_weight == 0.0f);
  CHECK(h.at(1, 0, 4, 10).kl_weight == Approx(0.25));
  CHECK(h.at(2, 0, 4, 10).kl_weight == 0.5f);
  // As the runtime computed it before the schedules: float(beta * at / warmup).
  CHECK(h.at(0, 3, 4, 10).kl_weight == float(0.5 * 0.75 / 2));
}

TEST_CASE("hyperparameter flags check their ranges", "[hyperparams]") {
  std::string error;
  auto flag = [](const char *key) {
    for (const vae::HyperparamFlag &f : vae::hyperparamFlags())
      if (std::string(f.key) == key)
        return f;
    FAIL("no flag " << key);
    return vae::hyperparamFlags().front();
  };
  CHECK(vae::checkHyperparam(flag("lr"), 1e-4, error));
  CHECK_FALSE(vae::checkHyperparam(flag("lr"), 0, error));
  CHECK(error == "0 is not in (0, inf)");
  CHECK_FALSE(vae::checkHyperparam(flag("beta1"), 1, error));
  CHECK(error == "1 is not in [0, 1)");
  CHECK_FALSE(vae::checkHyperparam(flag("patience"), 2.5, error));
  CHECK(error == "2.5 is not a whole number in [0, 1e+06]");
  CHECK_FALSE(vae::checkHyperparam(flag("lr"), NAN, error));
}

TEST_CASE("a run record keeps every setting exactly enough to resume", "[hyperparams]") {
  Hyperparams h = base();
  h.lr = 3e-4;
  h.schedule = "cosine";
  h.lrMin = 1e-5;
  h.weightDecay = 0.05;
  h.valFraction = 0.1;
  h.patience = 4;
  Hyperparams back;
  vae::applyHyperparamRecord(vae::hyperparamRecord(h), back);
  for (int64_t epoch : {0, 4, 9})
    for (size_t k : {0, 3}) {
      vae_hyperparams a = h.at(epoch, k, 4, 10), b = back.at(epoch, k, 4, 10);
      CHECK(a.lr == b.lr);
      CHECK(a.weight_decay == b.weight_decay);
    }
  CHECK(back.schedule == "cosine");
  CHECK(back.valFraction == 0.1);
  CHECK(back.patience == 4);
}
