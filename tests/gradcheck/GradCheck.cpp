//===- GradCheck.cpp - every gradient rule against finite differences -----===//
//
// For every op of the vdl dialect that implements GradientOpInterface, a
// small @loss = sum(op(params...) * r) is differentiated by vdl-autodiff,
// and both @loss and the resulting @grad_step are evaluated in float64 by
// the interpreter of Interpreter.h; every gradient element is compared with a central
// finite difference. An op with a rule but no case here fails the run, so a
// new op cannot skip its check.
//
// Built without exceptions or RTTI (it links MLIR), hence no Catch2: it
// prints one line per op and exits non-zero on any failure.
//
//===----------------------------------------------------------------------===//

#include "Interpreter.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::gradcheck;

namespace {

//===----------------------------------------------------------------------===//
// One case per differentiable op
//===----------------------------------------------------------------------===//

struct Case {
  std::string body;       // ops computing %y from the arguments
  std::string args;       // the function's arguments
  std::string yType;      // type of %y
  double lo = -2, hi = 2; // parameter values (away from kinks: |v| > 0.1)
  int levels = 0;         // > 0: data are integers 0 ... levels - 1 (else in [0, 1])
};

/// `%y = vdl.OP %p ATTRS : T` on one 3x4 parameter.
Case unaryCase(const std::string &op, const std::string &attrs = "", double lo = -2,
               double hi = 2) {
  return {"%y = vdl." + op + " %p" + attrs + " : tensor<3x4xf32>",
          "%p: tensor<3x4xf32> {vdl.param = \"p\"}", "tensor<3x4xf32>", lo, hi};
}

Case binaryCase(const std::string &op, double lo = -2, double hi = 2) {
  return {"%y = vdl." + op + " %p, %q : tensor<3x4xf32>",
          "%p: tensor<3x4xf32> {vdl.param = \"p\"}, %q: tensor<3x4xf32> {vdl.param = \"q\"}",
          "tensor<3x4xf32>", lo, hi};
}

const std::map<std::string, Case> &cases() {
  static const std::map<std::string, Case> all = {
      {"vdl.dense",
       {"%y = vdl.dense %x, %w, %b : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<5xf32>) -> "
        "tensor<3x5xf32>",
        "%x: tensor<3x4xf32> {vdl.param = \"x\"}, %w: tensor<4x5xf32> {vdl.param = \"w\"}, "
        "%b: tensor<5xf32> {vdl.param = \"b\"}",
        "tensor<3x5xf32>"}},
      {"vdl.conv2d",
       {"%y = vdl.conv2d %x, %w, %b stride = 2 padding = 1 : (tensor<2x3x5x5xf32>, "
        "tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>",
        "%x: tensor<2x3x5x5xf32> {vdl.param = \"x\"}, %w: tensor<4x3x3x3xf32> {vdl.param = "
        "\"w\"}, %b: tensor<4xf32> {vdl.param = \"b\"}",
        "tensor<2x4x3x3xf32>"}},
      // No bias, stride 1, a 2x2 kernel; and a stride that leaves a row out.
      {"vdl.conv2d (no bias)",
       {"%y = vdl.conv2d %x, %w stride = 1 padding = 0 : (tensor<1x2x4x4xf32>, "
        "tensor<3x2x2x2xf32>) -> tensor<1x3x3x3xf32>",
        "%x: tensor<1x2x4x4xf32> {vdl.param = \"x\"}, %w: tensor<3x2x2x2xf32> {vdl.param = \"w\"}",
        "tensor<1x3x3x3xf32>"}},
      {"vdl.conv2d (stride 3)",
       {"%y = vdl.conv2d %x, %w stride = 3 padding = 1 : (tensor<2x2x6x6xf32>, "
        "tensor<2x2x3x3xf32>) -> tensor<2x2x2x2xf32>",
        "%x: tensor<2x2x6x6xf32> {vdl.param = \"x\"}, %w: tensor<2x2x3x3xf32> {vdl.param = \"w\"}",
        "tensor<2x2x2x2xf32>"}},
      {"vdl.conv2d_transpose",
       {"%y = vdl.conv2d_transpose %x, %w, %b stride = 2 padding = 1 output_padding = 1 : "
        "(tensor<2x3x3x3xf32>, tensor<3x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>",
        "%x: tensor<2x3x3x3xf32> {vdl.param = \"x\"}, %w: tensor<3x4x3x3xf32> {vdl.param = "
        "\"w\"}, %b: tensor<4xf32> {vdl.param = \"b\"}",
        "tensor<2x4x6x6xf32>"}},
      {"vdl.conv2d_transpose (stride 1)",
       {"%y = vdl.conv2d_transpose %x, %w stride = 1 padding = 1 output_padding = 0 : "
        "(tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x1x4x4xf32>",
        "%x: tensor<1x2x4x4xf32> {vdl.param = \"x\"}, %w: tensor<2x1x3x3xf32> {vdl.param = \"w\"}",
        "tensor<1x1x4x4xf32>"}},
      {"vdl.reshape",
       {"%y = vdl.reshape %p : tensor<3x4xf32> -> tensor<3x2x1x2xf32>",
        "%p: tensor<3x4xf32> {vdl.param = \"p\"}", "tensor<3x2x1x2xf32>"}},
      {"vdl.relu", unaryCase("relu")},
      {"vdl.tanh", unaryCase("tanh")},
      {"vdl.sigmoid", unaryCase("sigmoid")},
      {"vdl.softplus", unaryCase("softplus")},
      {"vdl.exp", unaryCase("exp")},
      {"vdl.log", unaryCase("log", "", 0.5, 3)},
      {"vdl.neg", unaryCase("neg")},
      {"vdl.leaky_relu", unaryCase("leaky_relu", " alpha = 0.2")},
      {"vdl.elu", unaryCase("elu", " alpha = 0.7")},
      {"vdl.add", binaryCase("add")},
      {"vdl.sub", binaryCase("sub")},
      {"vdl.mul", binaryCase("mul")},
      {"vdl.div", binaryCase("div", 0.5, 3)},
      {"vdl.min", binaryCase("min")},
      {"vdl.max", binaryCase("max")},
      {"vdl.constant",
       {"%c = vdl.constant 1.5 : tensor<3x4xf32>\n  %y = vdl.mul %p, %c : tensor<3x4xf32>",
        "%p: tensor<3x4xf32> {vdl.param = \"p\"}", "tensor<3x4xf32>"}},
      {"vdl.reparameterize",
       {"%y = vdl.reparameterize %mu, %lv, %e : tensor<3x4xf32>",
        "%mu: tensor<3x4xf32> {vdl.param = \"mu\"}, %lv: tensor<3x4xf32> {vdl.param = \"lv\"}, "
        "%e: tensor<3x4xf32> {vdl.param = \"e\"}",
        "tensor<3x4xf32>"}},
      {"vdl.kl_normal",
       {"%y = vdl.kl_normal %mu, %lv prior(0.5, 1.5) : tensor<3x4xf32> -> tensor<3xf32>",
        "%mu: tensor<3x4xf32> {vdl.param = \"mu\"}, %lv: tensor<3x4xf32> {vdl.param = \"lv\"}",
        "tensor<3xf32>"}},
      {"vdl.bernoulli_log_prob",
       {"%y = vdl.bernoulli_log_prob %l, %t : tensor<3x4xf32> -> tensor<3xf32>",
        "%l: tensor<3x4xf32> {vdl.param = \"l\"}, %t: tensor<3x4xf32>", "tensor<3xf32>"}},
      {"vdl.gaussian_log_prob",
       {"%y = vdl.gaussian_log_prob %m, %lv, %t : tensor<3x4xf32> -> tensor<3xf32>",
        "%m: tensor<3x4xf32> {vdl.param = \"m\"}, %lv: tensor<3x4xf32> {vdl.param = \"lv\"}, "
        "%t: tensor<3x4xf32>",
        "tensor<3xf32>"}},
      {"vdl.gaussian_fixed_log_prob",
       {"%y = vdl.gaussian_fixed_log_prob %m, %t sigma = 0.7 : tensor<3x4xf32> -> tensor<3xf32>",
        "%m: tensor<3x4xf32> {vdl.param = \"m\"}, %t: tensor<3x4xf32>", "tensor<3xf32>"}},
      {"vdl.discretized_logistic_log_prob",
       {"%y = vdl.discretized_logistic_log_prob %m, %ls, %t bins = 4 : tensor<3x4xf32> -> "
        "tensor<3xf32>",
        "%m: tensor<3x4xf32> {vdl.param = \"m\"}, %ls: tensor<3x4xf32> {vdl.param = \"ls\"}, "
        "%t: tensor<3x4xf32>",
        "tensor<3xf32>", -1.5, 1.5, /*levels=*/4}},
      {"vdl.reduce_mean",
       {"%y = vdl.reduce_mean %p : tensor<3x4xf32> -> tensor<f32>",
        "%p: tensor<3x4xf32> {vdl.param = \"p\"}", "tensor<f32>"}},
      {"vdl.reduce_sum",
       {"%y = vdl.reduce_sum %p : tensor<3x4xf32> -> tensor<f32>",
        "%p: tensor<3x4xf32> {vdl.param = \"p\"}", "tensor<f32>"}},
      {"vdl.elbo",
       {"%y = vdl.elbo %a, %k, %beta : tensor<f32>",
        "%a: tensor<f32> {vdl.param = \"a\"}, %k: tensor<f32> {vdl.param = \"k\"}, "
        "%beta: tensor<f32> {vdl.param = \"beta\"}",
        "tensor<f32>"}},
  };
  return all;
}

/// loss = sum(y * r) with r a parameter too: every output element weighs in.
std::string lossSource(const Case &c) {
  return "func.func @loss(" + c.args + ", %r: " + c.yType +
         " {vdl.param = \"r\"}) -> tensor<f32> {\n  " + c.body +
         "\n  %yr = vdl.mul %y, %r : " + c.yType + "\n  %loss = vdl.reduce_sum %yr : " + c.yType +
         " -> tensor<f32>\n  return %loss : tensor<f32>\n}\n";
}

/// Max over parameters of |analytic - central difference| / max(1, |fd|).
bool check(MLIRContext &context, const std::string &name, const Case &c, double &worst) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(lossSource(c), &context);
  if (!module)
    return false;
  PassManager pm(&context);
  pm.addPass(vaec::createAutodiff());
  if (failed(pm.run(*module)))
    return false;
  auto loss = module->lookupSymbol<func::FuncOp>("loss");
  auto grad = module->lookupSymbol<func::FuncOp>("grad_step");

  std::mt19937_64 rng(std::hash<std::string>()(name));
  std::vector<Tensor> args;
  std::vector<bool> isParam;
  for (BlockArgument arg : loss.getArguments()) {
    Tensor t = like(arg);
    bool param = bool(loss.getArgAttr(arg.getArgNumber(), VDLDialect::kParamAttrName));
    for (double &v : t.data) {
      if (!param && c.levels > 0) // a discrete likelihood's target
        v = double(std::uniform_int_distribution<int>(0, c.levels - 1)(rng));
      else if (!param) // data, e.g. a likelihood's target: in [0, 1]
        v = std::uniform_real_distribution<double>(0, 1)(rng);
      else if (c.lo >= 0) // a positive domain (log, a divisor)
        v = std::uniform_real_distribution<double>(c.lo, c.hi)(rng);
      else // both signs, away from the kinks of relu and friends at 0
        v = std::uniform_real_distribution<double>(0.1, c.hi)(rng) *
            (std::bernoulli_distribution(0.5)(rng) ? 1 : -1);
    }
    args.push_back(t);
    isParam.push_back(param);
  }

  Interpreter interp;
  std::vector<Tensor> out, grads;
  if (!interp.run(grad, args, grads))
    return false;
  auto lossAt = [&](const std::vector<Tensor> &a) {
    if (!interp.run(loss, a, out))
      std::abort();
    return out[0].data[0];
  };
  const double h = 1e-6;
  worst = 0;
  size_t gradIndex = 1; // results: loss, then one gradient per parameter
  for (size_t i = 0; i < args.size(); ++i) {
    if (!isParam[i])
      continue;
    const Tensor &analytic = grads[gradIndex++];
    for (size_t j = 0; j < args[i].data.size(); ++j) {
      std::vector<Tensor> plus = args, minus = args;
      plus[i].data[j] += h;
      minus[i].data[j] -= h;
      double fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
      worst = std::max(worst, std::fabs(analytic.data[j] - fd) / std::max(1.0, std::fabs(fd)));
    }
  }
  return true;
}

} // namespace

int main() {
  DialectRegistry registry;
  registry.insert<VDLDialect, func::FuncDialect, arith::ArithDialect, tensor::TensorDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  int passed = 0, failed = 0;
  double overall = 0;
  for (RegisteredOperationName op : context.getRegisteredOperations()) {
    if (op.getDialectNamespace() != "vdl" || !op.hasInterface<GradientOpInterface>())
      continue;
    std::string name = op.getStringRef().str();
    // The op's case, and its variants ("vdl.conv2d (no bias)").
    int found = 0;
    for (const auto &[caseName, c] : cases()) {
      if (caseName != name && caseName.rfind(name + " (", 0) != 0)
        continue;
      ++found;
      double worst = 0;
      bool ok = check(context, caseName, c, worst) && worst <= 1e-6;
      llvm::outs() << (ok ? "PASS " : "FAIL ") << caseName
                   << ": max |analytic - finite difference| / max(1, |fd|) = "
                   << llvm::format("%.2e", worst) << "\n";
      overall = std::max(overall, worst);
      ok ? ++passed : ++failed;
    }
    if (!found) {
      llvm::outs() << "FAIL " << name << ": has a gradient rule but no gradcheck case\n";
      ++failed;
    }
  }
  llvm::outs() << "worst gradient error over all ops: " << llvm::format("%.2e", overall) << "\n"
               << passed << " passed, " << failed << " failed\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}
