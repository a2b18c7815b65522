//===- DiffTest.cpp - differential testing of the whole compiler ----------===//
//
//   vdl-difftest [--seed S] [--count N | --seconds T] [--variants LIST] [--batch B]
//   vdl-difftest MODEL.vdl ...
//
// Compiles random valid models (tests/fuzz/ModelGenerator.h), or the given
// ones, to shared libraries with vaec, once per pass configuration (all
// passes, --no-fusion, --no-memory-plan, --no-parallel, and the GPU
// mapping run on the CPU: --target=nvptx-emulated), and checks every
// entry point of each library against the float64 reference interpreter
// (tests/reference/VdlReference.h) on the same weights, data and noise:
// the descriptor, eval_elbo, score, encode, decode, grad_step (on a padded
// batch, with the gradient buffer poisoned with NaN first) and two steps of
// train_step against the reference optimizer. Every line names the seed; a
// failing model's .vdl is kept in the work folder with the command that
// reproduces it. A compiler crash, a hang (timeout) or a crash of the
// generated code is a failure too.
//
//===----------------------------------------------------------------------===//

#include "ModelGenerator.h"

#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "runtime/Model.h"
#include "tests/reference/VdlReference.h"
#include "vae/philox.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;
using vaec::reference::Matrix;
using vaec::reference::Parameters;

namespace {

// Tolerances of float32 generated code against float64. Forward values:
// |a - e| <= tol * max(1, |e|). Gradients: max |g - r| over a parameter <=
// tol * (max |r| over it) + floor * (max |r| over all parameters), the floor
// for a parameter whose gradient cancels to almost nothing. Training: the
// relative L2 distance of each parameter after two optimizer steps.
constexpr double kForwardTolerance = 1e-4;
constexpr double kGradientTolerance = 1e-4;
constexpr double kGradientFloor = 1e-6;
constexpr double kTrainTolerance = 1e-4;
// Longest a compilation or a check may take before it counts as a hang.
constexpr int kTimeoutSeconds = 600;

struct Variant {
  std::string name, flags;
};

const std::map<std::string, std::string> &knownVariants() {
  static const std::map<std::string, std::string> variants = {
      {"default", ""},
      {"no-fusion", "--no-fusion"},
      {"no-memory-plan", "--no-memory-plan"},
      {"no-parallel", "--no-parallel"},
      {"none", "--no-fusion --no-memory-plan --no-parallel"},
      // Another instruction set than the host's best (SSE2 only): vector
      // widths and register blocks that do not match the code's.
      {"x86-64", "--cpu=x86-64"},
      // Each way of computing conv2d, whichever auto picks for a shape.
      {"conv-im2col", "--conv=im2col"},
      {"conv-direct", "--conv=direct"},
      // The GPU mapping (vdl-map-to-gpu), its launches run as CPU loops.
      {"nvptx-emulated", "--target=nvptx-emulated"}};
  return variants;
}

/// Inputs in [0, 1) and standard normal noise, from Philox with keys of
/// their own: the same for every library of a model.
Matrix pixels(size_t rows, size_t cols, uint32_t stream) {
  Matrix x = xt::zeros<double>({rows, cols});
  for (size_t i = 0; i < x.size(); ++i)
    x.flat(i) = vae::uniformFloat(vae::philox4x32_10({uint32_t(i), stream, 0, 0}, {21, 3})[0]);
  return x;
}

Matrix normals(size_t rows, size_t cols, uint32_t stream) {
  Matrix e = xt::zeros<double>({rows, cols});
  for (size_t i = 0; i < e.size(); ++i) {
    auto w = vae::philox4x32_10({uint32_t(i), stream, 0, 0}, {22, 4});
    double u1 = (double(w[0]) + 1.0) / 4294967296.0, u2 = double(w[1]) / 4294967296.0;
    // Rounded to float: the library sees the float, the reference the same.
    e.flat(i) = double(float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2)));
  }
  return e;
}

std::vector<float> toFloat(const Matrix &m) { return {m.begin(), m.end()}; }

Matrix rounded(const Matrix &m) {
  Matrix r = m;
  for (double &v : r)
    v = double(float(v));
  return r;
}

/// A model parsed and checked by the frontend: what the reference walks.
struct ParsedModel {
  llvm::SourceMgr sourceMgr;
  vaec::Module module;
  std::string diagnostics;
  bool ok = false;
};

std::unique_ptr<ParsedModel> parse(const std::string &path, std::optional<int64_t> batch) {
  auto parsed = std::make_unique<ParsedModel>();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    parsed->diagnostics = "cannot read " + path;
    return parsed;
  }
  parsed->sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  llvm::StringRef text = parsed->sourceMgr.getMemoryBuffer(1)->getBuffer();
  llvm::raw_string_ostream os(parsed->diagnostics);
  vaec::DiagnosticEngine diags(parsed->sourceMgr, os);
  vaec::Parser parser(text, path, diags);
  parsed->module = parser.parseModule();
  parsed->ok = !diags.hadError() && vaec::analyze(parsed->module, diags, batch);
  diags.finish();
  return parsed;
}

/// Checks one compiled library against the reference; collects what differs.
class LibraryCheck {
public:
  LibraryCheck(const vaec::Module &module, const vae::Model &model)
      : module(module), model(model), d(model.desc()), reference(module) {}

  /// A batch of inputs: pixels in [0, 1), or a discrete likelihood's
  /// integers 0 ... bins - 1 (the same draws, scaled and floored).
  Matrix inputs(size_t rows, uint32_t stream) const {
    Matrix x = pixels(rows, size_t(d.input_size), stream);
    if (d.likelihood_bins > 0)
      x = xt::floor(x * double(d.likelihood_bins));
    return x;
  }

  std::vector<std::string> run() {
    if (!checkDescriptor())
      return failures;
    size_t batch = size_t(d.batch), in = size_t(d.input_size), latent = size_t(d.latent_size);
    vae::AlignedBuffer params = model.newParams(), arena = model.newArena();
    model.initParams(params.data(), 1234);
    checkInit(params.data(), 1234);
    Parameters p = read(params.data());
    Matrix x = inputs(batch, 0), eps = normals(batch, latent, 0);
    std::vector<float> xf = toFloat(x), ef = toFloat(eps);
    vaec::reference::Evaluation expected = reference.evaluate(p, x, eps);
    if (!finite(expected))
      return failures;

    // eval_elbo: batch means, loss = reconstruction + beta kl.
    double beta = module.train.beta;
    std::vector<double> ones(batch, 1.0);
    float terms[3];
    model.evalElbo(params.data(), arena.bytes(), xf.data(), ef.data(), terms);
    compareTerms("eval_elbo", terms, expected, ones, beta);

    // score: the same terms per example.
    std::vector<float> loss(batch), rec(batch), kl(batch);
    model.score(params.data(), arena.bytes(), xf.data(), ef.data(), loss.data(), rec.data(),
                kl.data());
    for (size_t b = 0; b < batch; ++b) {
      double e = expected.reconstruction[b] + beta * expected.kl[b];
      compareValue(fmt::format("score loss of example {}", b), loss[b], e);
      compareValue(fmt::format("score reconstruction of example {}", b), rec[b],
                   expected.reconstruction[b]);
      compareValue(fmt::format("score kl of example {}", b), kl[b], expected.kl[b]);
    }

    // encode, then decode of the compiled means.
    std::vector<float> mu(batch * latent), logvar(batch * latent);
    model.encode(params.data(), arena.bytes(), xf.data(), mu.data(), logvar.data());
    compareElements("encode mu", mu, expected.mu);
    compareElements("encode logvar", logvar, expected.logvar);
    Matrix z = xt::adapt(std::vector<double>(mu.begin(), mu.end()), {batch, latent});
    std::vector<Matrix> decoded = reference.decode(p, z);
    std::vector<float> out0(batch * in), out1(batch * in);
    model.decode(params.data(), arena.bytes(), mu.data(), out0.data(), out1.data());
    compareElements("decode output 0", out0, decoded[0]);
    if (decoded.size() == 2)
      compareElements("decode output 1", out1, decoded[1]);

    checkGradients(params.data(), p, x, eps, ef);
    checkTraining(params.data(), p);
    return failures;
  }

private:
  bool checkDescriptor() {
    auto require = [&](bool ok, const std::string &what) {
      if (!ok)
        failures.push_back("descriptor: " + what);
      return ok;
    };
    int64_t inputSize = 1;
    for (int64_t dim : module.input->shape)
      inputSize *= dim;
    bool ok = require(d.batch == module.train.batch,
                      fmt::format("batch {} vs {}", d.batch, module.train.batch)) &
              require(d.input_size == inputSize,
                      fmt::format("input size {} vs {}", d.input_size, inputSize)) &
              require(d.latent_size == module.latent->size,
                      fmt::format("latent size {} vs {}", d.latent_size, module.latent->size)) &
              require(d.beta == module.train.beta,
                      fmt::format("beta {} vs {}", d.beta, module.train.beta)) &
              require(d.num_params == int64_t(module.params.size()),
                      fmt::format("{} parameters vs {}", d.num_params, module.params.size()));
    for (const vaec::Param &param : module.params) {
      const vae_param *p = model.param(param.name);
      if (!require(p != nullptr, "no parameter " + param.name))
        continue;
      std::vector<int64_t> shape(p->shape, p->shape + p->rank);
      ok &= require(shape == param.shape, "shape of " + param.name);
      ok &= require(p->offset >= 0 && p->offset + p->size <= d.param_floats,
                    "offset of " + param.name);
    }
    return ok;
  }

  /// vae_init_params: PyTorch's nn.Linear init, uniform within
  /// ±1/sqrt(fan_in), drawn by Philox per (parameter, element) as
  /// runtime/include/vae/philox.h spells out.
  void checkInit(const float *params, uint64_t seed) {
    for (int64_t i = 0; i < d.num_params; ++i) {
      const vae_param &p = d.params[i];
      const vaec::Param *source = nullptr;
      for (const vaec::Param &param : module.params)
        if (param.name == p.name)
          source = &param;
      double bound = 1.0 / std::sqrt(double(source->fanIn));
      if (std::fabs(p.init_bound - bound) > 1e-12 * bound)
        failures.push_back(fmt::format("descriptor: init bound of {} is {} for fan-in {}", p.name,
                                       p.init_bound, source->fanIn));
      for (int64_t e = 0; e < p.size; ++e) {
        float expected = vae::initUniform(seed, uint32_t(i), uint32_t(e), float(bound));
        if (!(std::fabs(params[p.offset + e] - expected) <= 1e-7)) {
          failures.push_back(fmt::format("vae_init_params: {}[{}] is {} vs {}", p.name, e,
                                         params[p.offset + e], expected));
          break;
        }
      }
    }
  }

  /// The parameters of a buffer, in float64, in Module::params order.
  Parameters read(const float *buffer) const {
    Parameters p = reference.zeros();
    for (size_t i = 0; i < module.params.size(); ++i) {
      const vae_param *param = model.param(module.params[i].name);
      std::copy(buffer + param->offset, buffer + param->offset + param->size, p[i].begin());
    }
    return p;
  }

  /// A model whose reference values overflow says nothing about the
  /// compiler: reported as a failure of the model, not of vaec.
  bool finite(const vaec::reference::Evaluation &e) {
    bool ok = xt::all(xt::isfinite(e.mu)) && xt::all(xt::isfinite(e.logvar));
    for (size_t b = 0; b < e.kl.size(); ++b)
      ok = ok && std::isfinite(e.kl[b]) && std::isfinite(e.reconstruction[b]);
    if (!ok)
      failures.push_back("the reference itself is not finite on this model: a generator bug");
    return ok;
  }

  void compareValue(const std::string &what, double actual, double expected) {
    double error = std::fabs(actual - expected) / std::max(1.0, std::fabs(expected));
    if (!(error <= kForwardTolerance)) // NaN fails too
      failures.push_back(fmt::format("{}: {} vs reference {} (relative error {:.2e})", what, actual,
                                     expected, error));
  }

  void compareElements(const std::string &what, const std::vector<float> &actual,
                       const Matrix &expected) {
    if (actual.size() != expected.size()) {
      failures.push_back(fmt::format("{}: {} values vs {}", what, actual.size(), expected.size()));
      return;
    }
    for (size_t i = 0; i < actual.size(); ++i) {
      double e = expected.flat(i);
      double error = std::fabs(actual[i] - e) / std::max(1.0, std::fabs(e));
      if (!(error <= kForwardTolerance)) {
        failures.push_back(fmt::format("{}: element {} is {} vs reference {} (relative error "
                                       "{:.2e})",
                                       what, i, actual[i], e, error));
        return; // the first one says enough
      }
    }
  }

  /// Batch means weighted per example, as grad_step and train_step report.
  void compareTerms(const std::string &what, const float terms[3],
                    const vaec::reference::Evaluation &e, const std::vector<double> &weights,
                    double klWeight) {
    double rec = 0, kl = 0, batch = double(weights.size());
    for (size_t b = 0; b < weights.size(); ++b) {
      rec += weights[b] * e.reconstruction[b] / batch;
      kl += weights[b] * e.kl[b] / batch;
    }
    compareValue(what + " loss", terms[0], rec + klWeight * kl);
    compareValue(what + " reconstruction", terms[1], rec);
    compareValue(what + " kl", terms[2], kl);
  }

  /// Example weights of a batch whose first `real` rows are data.
  std::vector<double> weightsFor(size_t real) const {
    std::vector<float> w = model.exampleWeights(real);
    return {w.begin(), w.end()};
  }

  void compareGradients(const std::string &what, const float *actual, const Parameters &expected) {
    double global = 0;
    for (const Matrix &g : expected)
      global = std::max(global, double(xt::amax(xt::abs(g))()));
    for (size_t i = 0; i < module.params.size(); ++i) {
      const vae_param *param = model.param(module.params[i].name);
      double scale = double(xt::amax(xt::abs(expected[i]))());
      double worst = 0;
      bool finiteValues = true;
      for (int64_t k = 0; k < param->size; ++k) {
        float g = actual[param->offset + k];
        finiteValues = finiteValues && std::isfinite(g);
        worst = std::max(worst, std::fabs(double(g) - expected[i].flat(size_t(k))));
      }
      double tolerance = kGradientTolerance * scale + kGradientFloor * global;
      if (!finiteValues || !(worst <= tolerance))
        failures.push_back(fmt::format(
            "{} of {}: {}max error {:.3e}, max |reference| {:.3e}, tolerance {:.3e}", what,
            module.params[i].name, finiteValues ? "" : "not finite (never written?), ", worst,
            scale, tolerance));
    }
  }

  /// grad_step on a padded batch (when the batch has room for padding): the
  /// padding rows hold data that must not reach the gradients. The gradient
  /// buffer starts as NaN, so an unwritten gradient shows.
  void checkGradients(const float *params, const Parameters &p, const Matrix &x, const Matrix &eps,
                      const std::vector<float> &ef) {
    size_t batch = size_t(d.batch);
    size_t real = batch > 2 ? batch - batch / 3 : batch;
    std::vector<double> weights = weightsFor(real);
    std::vector<float> wf(weights.begin(), weights.end()), xf = toFloat(x);
    vae::AlignedBuffer grads = model.newParams(), arena = model.newArena();
    std::fill(grads.data(), grads.data() + d.param_floats, std::numeric_limits<float>::quiet_NaN());
    float terms[3];
    model.gradStep(params, arena.bytes(), xf.data(), ef.data(), wf.data(), terms, grads.data());
    // abi.h: gradients are laid out like the parameters, the padding zero.
    std::vector<bool> inParam(size_t(d.param_floats), false);
    for (int64_t i = 0; i < d.num_params; ++i)
      std::fill_n(inParam.begin() + d.params[i].offset, d.params[i].size, true);
    for (int64_t k = 0; k < d.param_floats; ++k)
      if (!inParam[size_t(k)] && grads.data()[k] != 0.0f) {
        failures.push_back(fmt::format("grad_step: padding float {} of the gradient buffer is {}, "
                                       "not 0",
                                       k, grads.data()[k]));
        break;
      }
    compareTerms(fmt::format("grad_step ({} of {} rows real)", real, batch), terms,
                 reference.evaluate(p, x, eps), weights, module.train.beta);
    compareGradients(fmt::format("grad_step ({} of {} rows real) gradient", real, batch),
                     grads.data(), reference.gradients(p, x, eps, weights, module.train.beta));
  }

  /// Two train_step calls (the second on a padded batch, with another KL
  /// weight) against the reference optimizer on reference gradients.
  void checkTraining(const float *initial, Parameters expected) {
    size_t batch = size_t(d.batch), in = size_t(d.input_size), latent = size_t(d.latent_size);
    vae::AlignedBuffer params = model.newParams(), arena = model.newArena();
    vae::AlignedBuffer state = model.newOptimizerState();
    std::copy(initial, initial + d.param_floats, params.data());
    vaec::reference::ReferenceOptimizer optimizer(module.train, expected);
    bool adam = module.train.optimizer != "sgd";
    Parameters illConditioned = reference.zeros();
    for (int64_t step = 1; step <= 2; ++step) {
      Matrix x = inputs(batch, uint32_t(step)), eps = normals(batch, latent, uint32_t(step));
      std::vector<float> xf = toFloat(x), ef = toFloat(eps);
      size_t real = step == 2 && batch > 1 ? batch - 1 : batch;
      double klWeight = step == 1 ? module.train.beta : 0.5;
      std::vector<double> weights = weightsFor(real);
      std::vector<float> wf(weights.begin(), weights.end());
      // The reference steps from float parameters, as the library does.
      Parameters at = expected;
      for (Matrix &m : at)
        m = rounded(m);
      float terms[3];
      model.trainStep(params.data(), state.data(), arena.bytes(), xf.data(), ef.data(), wf.data(),
                      step, model.hyperparams(float(klWeight)), terms);
      compareTerms(fmt::format("train_step {}", step), terms, reference.evaluate(at, x, eps),
                   weights, klWeight);
      Parameters grads = reference.gradients(at, x, eps, weights, klWeight);
      if (adam)
        markIllConditioned(grads, illConditioned);
      optimizer.update(expected, grads, step);
    }
    Parameters actual = read(params.data());
    for (size_t i = 0; i < expected.size(); ++i) {
      Matrix diff = actual[i] - expected[i];
      double norm = double(xt::sum(xt::square(expected[i]))());
      double squared = 0, worstIll = 0;
      size_t ill = 0;
      for (size_t k = 0; k < diff.size(); ++k) {
        if (adam && illConditioned[i].flat(k)) {
          ++ill;
          worstIll = std::max(worstIll, std::fabs(diff.flat(k)));
        } else {
          squared += diff.flat(k) * diff.flat(k);
        }
      }
      double relative = std::sqrt(squared / std::max(norm, 1e-30));
      double bound = 2 * 2 * module.train.lr; // two steps, each at most lr either way
      if (!(relative <= kTrainTolerance) || !(worstIll <= bound))
        failures.push_back(fmt::format(
            "{} after 2 {} steps: relative L2 difference {:.3e}; {} element(s) whose gradient "
            "is within float32 error of 0 differ by up to {:.3e} (bound {:.3e})",
            module.params[i].name, module.train.optimizer, relative, ill, worstIll, bound));
    }
  }

  /// Adam divides each gradient by its own magnitude: where the gradient is
  /// within float32's error of zero (the gradient tolerance above), its sign
  /// and size are noise, and so is the update, up to lr either way. Such
  /// elements are checked against that bound instead of the relative one.
  void markIllConditioned(const Parameters &grads, Parameters &mask) const {
    double global = 0;
    for (const Matrix &g : grads)
      global = std::max(global, double(xt::amax(xt::abs(g))()));
    for (size_t i = 0; i < grads.size(); ++i) {
      double scale = double(xt::amax(xt::abs(grads[i]))());
      double tolerance = kGradientTolerance * scale + kGradientFloor * global;
      for (size_t k = 0; k < grads[i].size(); ++k)
        if (std::fabs(grads[i].flat(k)) <= tolerance)
          mask[i].flat(k) = 1.0;
    }
  }

  const vaec::Module &module;
  const vae::Model &model;
  const vae_model &d;
  vaec::reference::VdlReference reference;
  std::vector<std::string> failures;
};

/// Runs `command` with a time limit; returns a description of what went
/// wrong, or an empty string.
std::string runCommand(const std::string &command) {
  std::string limited = fmt::format("timeout -s KILL {} {}", kTimeoutSeconds, command);
  int status = std::system(limited.c_str());
  if (status == -1)
    return "could not start: " + command;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 137)
    return fmt::format("timed out after {} s", kTimeoutSeconds);
  if (WIFEXITED(status) && WEXITSTATUS(status) > 128)
    return fmt::format("crashed (signal {})", WEXITSTATUS(status) - 128);
  return fmt::format("exited with status {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/// Loads `library` and checks it in a child process, so that a crash of the
/// generated code is reported (with its seed) instead of ending the run.
std::vector<std::string> checkInChild(const vaec::Module &module, const std::string &library) {
  std::fflush(stdout);
  int pipeFds[2];
  if (pipe(pipeFds) != 0)
    return {"pipe() failed"};
  pid_t pid = fork();
  if (pid == 0) {
    close(pipeFds[0]);
    alarm(kTimeoutSeconds);
    std::string error, report;
    auto model = vae::Model::load(library, error);
    std::vector<std::string> failures =
        model ? LibraryCheck(module, *model).run() : std::vector<std::string>{error};
    for (const std::string &f : failures)
      report += f + "\n";
    for (size_t done = 0; done < report.size();) {
      ssize_t n = write(pipeFds[1], report.data() + done, report.size() - done);
      if (n <= 0)
        break;
      done += size_t(n);
    }
    _exit(failures.empty() ? 0 : 1);
  }
  close(pipeFds[1]);
  std::string report;
  char chunk[4096];
  for (ssize_t n; (n = read(pipeFds[0], chunk, sizeof chunk)) > 0;)
    report.append(chunk, size_t(n));
  close(pipeFds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<std::string> failures;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);)
    failures.push_back(line);
  if (WIFSIGNALED(status))
    failures.push_back(
        WTERMSIG(status) == SIGALRM
            ? fmt::format("the checks timed out after {} s", kTimeoutSeconds)
            : fmt::format("the generated code crashed (signal {})", WTERMSIG(status)));
  else if (failures.empty() && WEXITSTATUS(status) != 0)
    failures.push_back(fmt::format("the check process exited with {}", WEXITSTATUS(status)));
  return failures;
}

struct Tally {
  int models = 0, builds = 0, failedModels = 0;
};

/// Compiles `path` in every variant and checks each library. Returns
/// whether everything agreed.
bool checkModel(const std::string &path, const std::string &label, const std::string &vaec,
                const fs::path &work, const std::vector<Variant> &variants, bool keep,
                std::optional<int64_t> batch, Tally &tally) {
  auto started = std::chrono::steady_clock::now();
  ++tally.models;
  std::vector<std::string> failures;
  auto parsed = parse(path, batch);
  if (!parsed->ok) {
    failures.push_back("the frontend rejects it:\n" + parsed->diagnostics);
  } else {
    std::string stem = fs::path(path).stem().string();
    std::string batchFlag;
    if (batch) {
      stem += fmt::format("_b{}", *batch);
      batchFlag = fmt::format(" --batch {}", *batch);
    }
    for (const Variant &variant : variants) {
      fs::path library = work / (stem + "." + variant.name + ".so");
      fs::path log = work / (stem + "." + variant.name + ".log");
      // --verify-each: a pass that leaves invalid IR is named, not just a crash.
      std::string command = fmt::format("{} {} --verify-each {}{} -o {}", vaec, path, variant.flags,
                                        batchFlag, library.string());
      ++tally.builds;
      std::string error = runCommand(command + " > " + log.string() + " 2>&1");
      std::vector<std::string> found;
      if (!error.empty()) {
        std::ifstream in(log);
        std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        found.push_back(fmt::format("vaec {}: {}\n{}", error, command, output.substr(0, 4000)));
      } else {
        found = checkInChild(parsed->module, library.string());
      }
      for (const std::string &f : found)
        failures.push_back(fmt::format("[{}] {}", variant.name, f));
      if (found.empty() && !keep) {
        fs::remove(library);
        fs::remove(log);
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{} {} ({} builds, {:.1f} s)\n", failures.empty() ? "[ok]  " : "[FAIL]", label,
             variants.size(), seconds);
  const size_t shown = 12;
  for (size_t i = 0; i < failures.size() && i < shown; ++i)
    fmt::print("        {}\n", failures[i]);
  if (failures.size() > shown)
    fmt::print("        ... and {} more\n", failures.size() - shown);
  std::fflush(stdout);
  if (!failures.empty())
    ++tally.failedModels;
  return failures.empty();
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"vdl-difftest: compile random (or given) VDL models with vaec, with every pass "
               "on and off, and check each library against a float64 reference interpreter.",
               "vdl-difftest"};
  std::vector<std::string> files;
  uint64_t seed =
      uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007;
  int64_t count = 0;
  double seconds = 0;
  std::string vaec = VAEC_BINARY, workDir = "difftest-work";
  std::vector<std::string> variantNames = {"default", "no-fusion", "no-memory-plan", "no-parallel",
                                           "nvptx-emulated"};
  bool keep = false, print = false;
  app.add_option("models", files, "check these .vdl files instead of generated ones");
  app.add_option("--seed", seed, "first seed of the generated models (default: from the clock)");
  app.add_option("--count", count, "how many models to generate (default 10, or until --seconds)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seconds", seconds, "start no new model after this many seconds")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--vaec", vaec, "the compiler to test")->capture_default_str();
  app.add_option("--work", workDir, "folder for the models, libraries and logs")
      ->capture_default_str();
  app.add_option(
         "--variants", variantNames,
         "pass configurations: default, no-fusion, no-memory-plan, no-parallel, none (all "
         "three off), x86-64 (--cpu=x86-64: SSE2 only), nvptx-emulated (the GPU kernels as CPU "
         "loops), conv-im2col, conv-direct (vaec --conv)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_flag("--keep", keep, "keep the libraries of models that pass");
  std::optional<int64_t> batch;
  app.add_option("--batch", batch, "compile and check the models at this batch size (vaec --batch)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_flag("--print", print, "print the generated model of --seed and exit");
  CLI11_PARSE(app, argc, argv);

  if (print) {
    fmt::print("{}", vaec::fuzz::generateModel(seed).source);
    return 0;
  }
  std::vector<Variant> variants;
  for (const std::string &name : variantNames) {
    auto it = knownVariants().find(name);
    if (it == knownVariants().end()) {
      fmt::print(stderr, "vdl-difftest: error: unknown variant '{}'\n", name);
      return 2;
    }
    variants.push_back({name, it->second});
  }
  fs::path work = fs::absolute(workDir);
  fs::create_directories(work);

  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  Tally tally;
  if (!files.empty()) {
    for (const std::string &file : files)
      checkModel(fs::absolute(file).string(), file, vaec, work, variants, keep, batch, tally);
  } else {
    if (count == 0 && seconds == 0)
      count = 10;
    fmt::print("vdl-difftest: seeds from {}, variants {}, work folder {}\n", seed,
               fmt::join(variantNames, ","), work.string());
    uint64_t s = seed;
    for (; (count == 0 || int64_t(s - seed) < count) && (seconds == 0 || elapsed() < seconds);
         ++s) {
      vaec::fuzz::GeneratedModel generated = vaec::fuzz::generateModel(s);
      fs::path path = work / fmt::format("fuzz_{}.vdl", s);
      std::ofstream(path) << generated.source;
      bool ok = checkModel(path.string(), fmt::format("seed {}: {}", s, generated.summary), vaec,
                           work, variants, keep, batch, tally);
      if (ok && !keep)
        fs::remove(path);
      else if (!ok)
        fmt::print("        reproduce: vdl-difftest --seed {} --count 1   (model: {})\n", s,
                   path.string());
    }
    if (s > seed)
      fmt::print("vdl-difftest: seeds {}..{}\n", seed, s - 1);
  }
  fmt::print("vdl-difftest: {} models, {} libraries built and checked, {} failing, {:.0f} s\n",
             tally.models, tally.builds, tally.failedModels, elapsed());
  return tally.failedModels == 0 ? 0 : 1;
}
