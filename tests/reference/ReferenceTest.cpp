//===- ReferenceTest.cpp - generated code against the float64 reference ---===//
//
// Compiles each shipped model with vaec at batch sizes 1, 7 and 128, loads it
// through the runtime, and compares vae_eval_elbo, vae_encode and vae_decode
// with ReferenceVAE.h on the same weights and noise: relative error <= 1e-4
// on the loss terms, <= 1e-3 elementwise.
//
//===----------------------------------------------------------------------===//

#include "CompileModel.h"
#include "ReferenceVAE.h"

#include "runtime/Idx.h"
#include "vae/philox.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

using namespace vaec::reference;

namespace {

using GradientMap = std::map<std::string, std::vector<double>>;

std::unique_ptr<vae::Model> compile(const std::string &model, int batch) {
  return vaec::test::compileAndLoad(std::string(VAEC_MODELS_DIR) + "/" + model + ".vdl",
                                    model + "_b" + std::to_string(batch),
                                    "--batch " + std::to_string(batch));
}

/// Inputs in [0, 1) like pixel intensities, noise N(0, 1) by Box-Muller;
/// both from Philox with their own keys.
Matrix pixels(size_t batch, size_t size) {
  Matrix x = xt::zeros<double>({batch, size});
  for (size_t i = 0; i < x.size(); ++i)
    x.flat(i) = vae::uniformFloat(vae::philox4x32_10({uint32_t(i), 0, 0, 0}, {11, 1})[0]);
  return x;
}

Matrix normals(size_t batch, size_t size) {
  Matrix e = xt::zeros<double>({batch, size});
  for (size_t i = 0; i < e.size(); ++i) {
    auto words = vae::philox4x32_10({uint32_t(i), 0, 0, 0}, {12, 2});
    double u1 = (double(words[0]) + 1.0) / 4294967296.0;
    double u2 = double(words[1]) / 4294967296.0;
    e.flat(i) = std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  return e;
}

std::vector<float> toFloat(const Matrix &m) { return {m.begin(), m.end()}; }

/// |actual - expected| <= tolerance * max(1, |expected|) for every element.
void requireClose(const std::vector<float> &actual, const Matrix &expected, double tolerance,
                  const char *what) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double e = expected.flat(i);
    worst = std::max(worst, std::fabs(actual[i] - e) / std::max(1.0, std::fabs(e)));
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst <= tolerance);
}

void checkModel(const std::string &name, int batch,
                Result (*reference)(const vae::Model &, const float *, const Matrix &,
                                    const Matrix &)) {
  auto model = compile(name, batch);
  const vae_model &d = model->desc();
  REQUIRE(d.batch == batch);
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  model->initParams(params.data(), 42);

  Matrix x = pixels(batch, d.input_size), eps = normals(batch, d.latent_size);
  std::vector<float> xf = toFloat(x), epsf = toFloat(eps);
  Result expected = reference(*model, params.data(), x, eps);

  float terms[3];
  model->evalElbo(params.data(), arena.bytes(), xf.data(), epsf.data(), terms);
  INFO(name << " batch " << batch << ": loss " << terms[0] << " vs " << expected.loss
            << ", reconstruction " << terms[1] << " vs " << expected.reconstruction << ", kl "
            << terms[2] << " vs " << expected.kl);
  CHECK(std::fabs(terms[0] - expected.loss) <= 1e-4 * std::fabs(expected.loss));
  CHECK(std::fabs(terms[1] - expected.reconstruction) <= 1e-4 * std::fabs(expected.reconstruction));
  CHECK(std::fabs(terms[2] - expected.kl) <= 1e-4 * std::max(1.0, std::fabs(expected.kl)));

  // Per-example scores average to the batch terms.
  std::vector<float> perLoss(batch), perRec(batch), perKl(batch);
  model->score(params.data(), arena.bytes(), xf.data(), epsf.data(), perLoss.data(), perRec.data(),
               perKl.data());
  double meanLoss = 0, meanRec = 0, meanKl = 0;
  for (int b = 0; b < batch; ++b) {
    meanLoss += perLoss[b] / batch;
    meanRec += perRec[b] / batch;
    meanKl += perKl[b] / batch;
    CHECK(perLoss[b] == Approx(perRec[b] + perKl[b]).epsilon(1e-5));
  }
  CHECK(meanLoss == Approx(expected.loss).epsilon(1e-4));
  CHECK(meanRec == Approx(expected.reconstruction).epsilon(1e-4));
  CHECK(meanKl == Approx(expected.kl).epsilon(1e-4).margin(1e-4));

  std::vector<float> mu(batch * d.latent_size), logvar(mu.size());
  model->encode(params.data(), arena.bytes(), xf.data(), mu.data(), logvar.data());
  requireClose(mu, expected.mu, 1e-3, "mu");
  requireClose(logvar, expected.logvar, 1e-3, "logvar");

  std::vector<float> decoded(batch * d.input_size);
  model->decode(params.data(), arena.bytes(), mu.data(), decoded.data(), nullptr);
  requireClose(decoded, expected.decoded, 1e-3, "decoded");
}

} // namespace

TEST_CASE("mnist_vae matches the float64 reference", "[reference]") {
  for (int batch : {1, 7, 128}) {
    SECTION("batch " + std::to_string(batch)) { checkModel("mnist_vae", batch, mnistVae); }
  }
}

TEST_CASE("seed_vae matches the float64 reference", "[reference]") {
  for (int batch : {1, 7, 128}) {
    SECTION("batch " + std::to_string(batch)) { checkModel("seed_vae", batch, seedVae); }
  }
}

/// Compiled gradients against the hand-written float64 backward pass:
/// max |g - ref| <= 1e-4 * max |ref| for every parameter. With `real` <
/// `batch`, the batch is padded (with data, not zeros, so that a leak shows)
/// and weighted by exampleWeights(real); the reference sees the real rows only.
void checkGradients(const std::string &name, int batch,
                    GradientMap (*reference)(const vae::Model &, const float *, const Matrix &,
                                             const Matrix &),
                    int real = 0) {
  real = real ? real : batch;
  auto model = compile(name, batch);
  const vae_model &d = model->desc();
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  vae::AlignedBuffer grads = model->newParams();
  model->initParams(params.data(), 42);
  Matrix x = pixels(batch, d.input_size), eps = normals(batch, d.latent_size);
  std::vector<float> xf = toFloat(x), epsf = toFloat(eps);
  std::vector<float> weights = model->exampleWeights(size_t(real));
  float terms[3], evalTerms[3];
  model->gradStep(params.data(), arena.bytes(), xf.data(), epsf.data(), weights.data(), terms,
                  grads.data());
  if (real == batch) {
    model->evalElbo(params.data(), arena.bytes(), xf.data(), epsf.data(), evalTerms);
    CHECK(terms[0] == Approx(evalTerms[0]).epsilon(1e-6));
  } else {
    std::vector<float> loss(static_cast<size_t>(batch)), rec(loss.size()), kl(loss.size());
    model->score(params.data(), arena.bytes(), xf.data(), epsf.data(), loss.data(), rec.data(),
                 kl.data());
    double mean = 0;
    for (int b = 0; b < real; ++b)
      mean += loss[size_t(b)] / real;
    CHECK(terms[0] == Approx(mean).epsilon(1e-5));
    x = Matrix(xt::view(x, xt::range(0, real), xt::all()));
    eps = Matrix(xt::view(eps, xt::range(0, real), xt::all()));
  }

  GradientMap expected = reference(*model, params.data(), x, eps);
  REQUIRE(expected.size() == size_t(d.num_params));
  for (int64_t i = 0; i < d.num_params; ++i) {
    const vae_param &p = d.params[i];
    const auto &ref = expected.at(p.name);
    REQUIRE(ref.size() == size_t(p.size));
    double worst = 0, scale = 0;
    for (int64_t e = 0; e < p.size; ++e) {
      worst = std::max(worst, std::fabs(grads.data()[p.offset + e] - ref[e]));
      scale = std::max(scale, std::fabs(ref[e]));
    }
    INFO(name << " batch " << batch << " " << p.name << ": max error " << worst
              << ", max |gradient| " << scale);
    CHECK(scale > 0);
    CHECK(worst <= 1e-4 * scale);
  }
}

TEST_CASE("mnist_vae gradients match the float64 backward pass", "[reference][grad]") {
  for (int batch : {1, 7, 128}) {
    SECTION("batch " + std::to_string(batch)) {
      checkGradients("mnist_vae", batch, mnistVaeGradients);
    }
  }
}

TEST_CASE("seed_vae gradients match the float64 backward pass", "[reference][grad]") {
  for (int batch : {1, 7, 128}) {
    SECTION("batch " + std::to_string(batch)) {
      checkGradients("seed_vae", batch, seedVaeGradients);
    }
  }
}

// The last partial batch of an epoch: 5 real examples in a batch of 7, and
// 80 in a batch of 128 (Fashion-MNIST's 60,000 = 468 x 128 + 96 has the same
// shape). The padding rows hold data that must not reach the gradients.
TEST_CASE("example weights mask the padding of a partial batch", "[reference][grad]") {
  SECTION("mnist_vae 5 of 7") { checkGradients("mnist_vae", 7, mnistVaeGradients, 5); }
  SECTION("seed_vae 80 of 128") { checkGradients("seed_vae", 128, seedVaeGradients, 80); }
}

using ReferenceGradients = GradientMap (*)(const vae::Model &, const float *, const Matrix &,
                                           const Matrix &);

/// Three AdamW steps of vae_train_step against AdamW in float64 on the
/// reference gradients, with the hyperparameters of each step passed at run
/// time (`hyper(step)`; the library's own by default), the gradient clipped
/// to hyper.clip_norm by its global norm when the library clips: every
/// parameter within 1e-4 relative (L2).
void checkTraining(const std::string &name, int batch, ReferenceGradients reference,
                   std::unique_ptr<vae::Model> model = nullptr,
                   std::function<vae_hyperparams(int)> hyper = nullptr) {
  if (!model)
    model = compile(name, batch);
  const vae_model &d = model->desc();
  if (!hyper)
    hyper = [&](int) { return d.defaults; };
  REQUIRE(d.opt_state_floats == 2 * d.param_floats); // Adam: m and v
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  vae::AlignedBuffer state = model->newOptimizerState();
  model->initParams(params.data(), 7);
  std::vector<double> p(params.data(), params.data() + d.param_floats);
  std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0);

  for (int step = 1; step <= 3; ++step) {
    vae_hyperparams h = hyper(step);
    double lr = h.lr, b1 = h.beta1, b2 = h.beta2, eps = h.eps, wd = h.weight_decay;
    Matrix x = pixels(batch, d.input_size), e = normals(batch, d.latent_size);
    // Shift the data per step so the three batches differ.
    x = xt::fmod(x + 0.37 * step, 1.0);
    std::vector<float> xf = toFloat(x), ef = toFloat(e);
    std::vector<float> pf(p.begin(), p.end());
    GradientMap g = reference(*model, pf.data(), x, e);
    // PyTorch's clip_grad_norm_: one factor from the norm of all gradients.
    double scale = 1;
    if (d.clips_gradients && h.clip_norm > 0) {
      double squares = 0;
      for (const auto &[paramName, gi] : g)
        for (double value : gi)
          squares += value * value;
      scale = std::min(1.0, double(h.clip_norm) / (std::sqrt(squares) + 1e-6));
      INFO("step " << step << ": gradient norm " << std::sqrt(squares) << ", clipped to "
                   << h.clip_norm);
    }
    for (int64_t i = 0; i < d.num_params; ++i) {
      const vae_param &param = d.params[i];
      const std::vector<double> &gi = g.at(param.name);
      for (int64_t k = 0; k < param.size; ++k) {
        size_t j = size_t(param.offset + k);
        double gk = gi[k] * scale;
        m[j] = b1 * m[j] + (1 - b1) * gk;
        v[j] = b2 * v[j] + (1 - b2) * gk * gk;
        double mHat = m[j] / (1 - std::pow(b1, step));
        double vHat = v[j] / (1 - std::pow(b2, step));
        p[j] = p[j] * (1 - lr * wd) - lr * mHat / (std::sqrt(vHat) + eps);
      }
    }
    float terms[3];
    model->trainStep(params.data(), state.data(), arena.bytes(), xf.data(), ef.data(),
                     model->exampleWeights(size_t(batch)).data(), step, h, terms);
    CHECK(std::isfinite(terms[0]));
  }
  for (int64_t i = 0; i < d.num_params; ++i) {
    const vae_param &param = d.params[i];
    double diff = 0, norm = 0;
    for (int64_t k = 0; k < param.size; ++k) {
      double expected = p[size_t(param.offset + k)];
      double got = params.data()[param.offset + k];
      diff += (got - expected) * (got - expected);
      norm += expected * expected;
    }
    double relative = std::sqrt(diff / norm);
    INFO(name << " batch " << batch << " " << param.name
              << ": relative L2 difference after 3 Adam steps " << relative);
    CHECK(relative <= 1e-4);
  }
}

TEST_CASE("mnist_vae train_step matches Adam in float64", "[reference][train]") {
  for (int batch : {7, 128}) {
    SECTION("batch " + std::to_string(batch)) {
      checkTraining("mnist_vae", batch, mnistVaeGradients);
    }
  }
}

// The learning rate, decay rates, epsilon and weight decay are arguments of
// the step, not constants of the library: a schedule or a sweep changes them
// between steps without recompiling. Clipping (`clip_grad_norm` in the train
// block) scales every gradient by one factor from their global norm; the
// norm here is in the hundreds, so 5 clips hard, 1e6 not at all, and 0 turns
// clipping off.
TEST_CASE("train_step takes AdamW's hyperparameters at run time and clips by global norm",
          "[reference][train]") {
  auto perStep = [](float clip) {
    return [clip](int step) {
      vae_hyperparams h{};
      h.lr = step == 2 ? 3e-3f : 1e-3f;
      h.kl_weight = 1;
      h.beta1 = 0.8f;
      h.beta2 = 0.99f;
      h.eps = 1e-6f;
      h.weight_decay = step == 3 ? 2.0f : 0.5f; // lr wd well above the tolerance
      h.clip_norm = step == 3 ? 0.0f : clip;
      return h;
    };
  };
  SECTION("AdamW, no clipping compiled in") {
    checkTraining("mnist_vae", 7, mnistVaeGradients, nullptr, perStep(0));
  }
  std::string source = std::string(VAEC_TEST_TMP) + "/mnist_vae_clip.vdl";
  {
    std::ifstream in(std::string(VAEC_MODELS_DIR) + "/mnist_vae.vdl");
    std::stringstream text;
    text << in.rdbuf();
    std::string vdl = text.str();
    size_t at = vdl.find("optimizer adam(lr = 1e-3);");
    REQUIRE(at != std::string::npos);
    vdl.replace(at, std::strlen("optimizer adam(lr = 1e-3);"),
                "optimizer adamw(lr = 1e-3, weight_decay = 0.01);\n  clip_grad_norm 5;");
    std::ofstream(source) << vdl;
  }
  auto clipping = [&] {
    auto model = vaec::test::compileAndLoad(source, "mnist_vae_clip_b7", "--batch 7");
    REQUIRE(model->desc().clips_gradients == 1);
    REQUIRE(model->desc().optimizer == VAE_OPTIMIZER_ADAMW);
    REQUIRE(model->desc().defaults.clip_norm == 5.0f);
    return model;
  };
  SECTION("clipped to norm 5") {
    checkTraining("mnist_vae", 7, mnistVaeGradients, clipping(), perStep(5));
  }
  SECTION("a bound above the norm leaves the gradient alone") {
    checkTraining("mnist_vae", 7, mnistVaeGradients, clipping(), perStep(1e6f));
  }
}

TEST_CASE("seed_vae train_step matches Adam in float64", "[reference][train]") {
  for (int batch : {7, 128}) {
    SECTION("batch " + std::to_string(batch)) {
      checkTraining("seed_vae", batch, seedVaeGradients);
    }
  }
}

TEST_CASE("vae_init_params draws PyTorch's nn.Linear init from Philox", "[reference]") {
  auto model = compile("mnist_vae", 7);
  vae::AlignedBuffer params = model->newParams();
  model->initParams(params.data(), 1234);
  const vae_model &d = model->desc();
  for (int64_t i = 0; i < d.num_params; ++i) {
    const vae_param &p = d.params[i];
    double worst = 0;
    for (int64_t e = 0; e < p.size; ++e) {
      float expected = vae::initUniform(1234, uint32_t(i), uint32_t(e), float(p.init_bound));
      worst = std::max(worst, double(std::fabs(params.data()[p.offset + e] - expected)));
    }
    INFO(p.name << ": worst difference " << worst);
    // The same float operations; at most a rounding apart.
    CHECK(worst <= 1e-7);
  }
  // Another seed gives other weights.
  vae::AlignedBuffer other = model->newParams();
  model->initParams(other.data(), 1235);
  CHECK(other.data()[0] != params.data()[0]);
}

TEST_CASE("200 Adam steps on an IDX file lower the loss by a clear margin", "[train]") {
  // A small IDX file with structure to learn: 640 images, each one of four
  // prototypes (random binary patterns) with 5% of its pixels flipped.
  auto bits = [](uint32_t a, uint32_t b, uint32_t c, uint32_t key) {
    return vae::philox4x32_10({a, b, c, 0}, {key, 0})[0];
  };
  const uint32_t images = 640, pixels = 784;
  std::vector<uint8_t> data(size_t(images) * pixels);
  for (uint32_t n = 0; n < images; ++n) {
    uint32_t prototype = bits(n, 0, 0, 5) % 4;
    for (uint32_t i = 0; i < pixels; ++i) {
      bool on = bits(prototype, i, 1, 6) & 1;
      bool flip = bits(n, i, 2, 7) % 100 < 5;
      data[size_t(n) * pixels + i] = on != flip ? 255 : 0;
    }
  }
  std::string path = std::string(VAEC_TEST_TMP) + "/smoke-images-idx3-ubyte.gz";
  std::string error;
  REQUIRE(vae::writeIdx(path, {images, 28, 28}, data, error));
  auto reader = vae::IdxReader::open(path, error);
  INFO(error);
  REQUIRE(reader);

  auto model = compile("mnist_vae", 32);
  const vae_model &d = model->desc();
  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  vae::AlignedBuffer state = model->newOptimizerState();
  model->initParams(params.data(), 3);
  std::vector<uint8_t> raw;
  std::vector<float> x(size_t(d.batch * d.input_size)), eps(size_t(d.batch * d.latent_size));
  float first = 0, lastMean = 0;
  std::vector<float> ones = model->exampleWeights(size_t(d.batch));
  for (uint32_t step = 1; step <= 200; ++step) {
    if ((step - 1) % (images / d.batch) == 0) // a new epoch: 20 batches
      REQUIRE(reader->rewind(error));
    REQUIRE(reader->read(size_t(d.batch), raw, error));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float(raw[i]) / 255.0f;
    for (size_t i = 0; i < eps.size(); ++i) {
      auto w = vae::philox4x32_10({uint32_t(i), step, 0, 0}, {8, 0});
      double u1 = (double(w[0]) + 1.0) / 4294967296.0, u2 = double(w[1]) / 4294967296.0;
      eps[i] = float(std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2));
    }
    float terms[3];
    model->trainStep(params.data(), state.data(), arena.bytes(), x.data(), eps.data(), ones.data(),
                     step, model->desc().defaults, terms);
    REQUIRE(std::isfinite(terms[0]));
    if (step == 1)
      first = terms[0];
    if (step > 180)
      lastMean += terms[0] / 20;
  }
  INFO("loss at step 1: " << first << ", mean of steps 181-200: " << lastMean);
  // Random weights give ~550 nats; the four patterns carry ~40 nats of noise.
  CHECK(lastMean < 0.5f * first);
}

TEST_CASE("the KL weight of a training step scales the KL term", "[train]") {
  auto model = compile("mnist_vae", 7);
  const vae_model &d = model->desc();
  CHECK(d.beta == 1.0);
  CHECK(d.warmup_epochs == 0);
  CHECK(d.defaults.kl_weight == 1.0f);
  Matrix x = pixels(7, d.input_size), e = normals(7, d.latent_size);
  std::vector<float> xf = toFloat(x), ef = toFloat(e);
  for (float weight : {0.0f, 0.25f, 1.0f}) {
    vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
    vae::AlignedBuffer state = model->newOptimizerState();
    model->initParams(params.data(), 11);
    float terms[3];
    model->trainStep(params.data(), state.data(), arena.bytes(), xf.data(), ef.data(),
                     model->exampleWeights(7).data(), 1, model->hyperparams(weight), terms);
    INFO("kl weight " << weight);
    CHECK(terms[0] == Approx(terms[1] + weight * terms[2]).epsilon(1e-5));
  }
}

// Fusion, memory planning and the parallel matmul loops change where values
// live and which thread computes them, not what they are: three training
// steps give the same parameters (within 1e-6 relative) with any of them off.
TEST_CASE("train_step is the same with fusion or memory planning or threads off", "[train]") {
  auto run = [](const std::string &flags, const std::string &tag) {
    auto model = vaec::test::compileAndLoad(std::string(VAEC_MODELS_DIR) + "/seed_vae.vdl",
                                            "seed_vae_b7" + tag, "--batch 7 " + flags);
    const vae_model &d = model->desc();
    vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
    vae::AlignedBuffer state = model->newOptimizerState();
    model->initParams(params.data(), 5);
    std::vector<float> x = toFloat(pixels(7, d.input_size)), e = toFloat(normals(7, d.latent_size));
    float terms[3];
    for (int64_t step = 1; step <= 3; ++step)
      model->trainStep(params.data(), state.data(), arena.bytes(), x.data(), e.data(),
                       model->exampleWeights(7).data(), step, model->hyperparams(1.0f), terms);
    return std::vector<float>(params.data(), params.data() + d.param_floats);
  };
  std::vector<float> both = run("", "_default");
  for (const char *flag : {"--no-fusion", "--no-memory-plan", "--no-parallel"}) {
    std::vector<float> other = run(flag, std::string("_") + (flag + 5));
    REQUIRE(other.size() == both.size());
    double worst = 0;
    for (size_t i = 0; i < both.size(); ++i)
      worst = std::max(worst, std::fabs(double(other[i]) - double(both[i])) /
                                  std::max(1e-3, std::fabs(double(both[i]))));
    INFO(flag << ": worst relative difference " << worst);
    CHECK(worst <= 1e-6);
  }
}

// Data-parallel training takes a step apart: grad_step, then (after the
// gradients are summed across processes) apply_update. Together they must
// make train_step's step: the same loss, parameters and optimizer state,
// for Adam, AdamW with clipping and SGD with momentum, over several steps.
TEST_CASE("grad_step then apply_update is train_step", "[train]") {
  std::string models = VAEC_MODELS_DIR;
  std::string text;
  {
    std::ifstream in(models + "/mnist_vae.vdl");
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  const std::string adam = "optimizer adam(lr = 1e-3);";
  REQUIRE(text.find(adam) != std::string::npos);
  for (auto [name, optimizer] : std::vector<std::pair<std::string, std::string>>{
           {"adam", adam},
           {"adamw_clip", "optimizer adamw(lr = 1e-3, weight_decay = 0.01);\n  clip_grad_norm 5;"},
           {"sgd", "optimizer sgd(lr = 0.01, momentum = 0.9);"}}) {
    SECTION(name) {
      std::string vdl = text;
      vdl.replace(vdl.find(adam), adam.size(), optimizer);
      std::string source = std::string(VAEC_TEST_TMP) + "/mnist_vae_" + name + "_split.vdl";
      std::ofstream(source) << vdl;
      auto model =
          vaec::test::compileAndLoad(source, "mnist_vae_" + name + "_split_b7", "--batch 7");
      const vae_model &d = model->desc();
      vae::AlignedBuffer fused = model->newParams(), split = model->newParams();
      vae::AlignedBuffer fusedState = model->newOptimizerState(),
                         splitState = model->newOptimizerState();
      vae::AlignedBuffer arena = model->newArena(), grads = model->newParams();
      model->initParams(fused.data(), 3);
      model->initParams(split.data(), 3);
      std::vector<float> x(size_t(d.batch * d.input_size)), eps(size_t(d.batch * d.latent_size));
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = vae::uniformFloat(vae::philox4x32_10({uint32_t(i), 5, 0, 0}, {9, 9})[0]);
      for (size_t i = 0; i < eps.size(); ++i)
        eps[i] = vae::uniformFloat(vae::philox4x32_10({uint32_t(i), 6, 0, 0}, {9, 9})[0]) - 0.5f;
      std::vector<float> weights = model->exampleWeights(size_t(d.batch));
      for (int64_t step = 1; step <= 3; ++step) {
        vae_hyperparams hyper = model->hyperparams(1.0f);
        float trainTerms[3], gradTerms[3];
        model->trainStep(fused.data(), fusedState.data(), arena.bytes(), x.data(), eps.data(),
                         weights.data(), step, hyper, trainTerms);
        model->gradStep(split.data(), arena.bytes(), x.data(), eps.data(), weights.data(),
                        gradTerms, grads.data());
        model->applyUpdate(split.data(), splitState.data(), arena.bytes(), grads.data(), step,
                           hyper);
        INFO("step " << step);
        CHECK(gradTerms[0] == Approx(trainTerms[0]).epsilon(1e-6));
        auto distance = [](const vae::AlignedBuffer &a, const vae::AlignedBuffer &b, size_t n) {
          double off = 0, norm = 0;
          for (size_t i = 0; i < n; ++i) {
            off += (double(a.data()[i]) - b.data()[i]) * (double(a.data()[i]) - b.data()[i]);
            norm += double(a.data()[i]) * a.data()[i];
          }
          return std::sqrt(off / std::max(norm, 1e-30));
        };
        CHECK(distance(fused, split, size_t(d.param_floats)) < 1e-6);
        CHECK(distance(fusedState, splitState, size_t(d.opt_state_floats)) < 1e-5);
        // The step moved the parameters (the comparison is not of two copies
        // of the initial ones).
        if (step == 1) {
          vae::AlignedBuffer initial = model->newParams();
          model->initParams(initial.data(), 3);
          CHECK(distance(initial, split, size_t(d.param_floats)) > 1e-5);
        }
      }
    }
  }
}
