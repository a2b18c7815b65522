//===- GradCheck.cpp - every gradient rule against finite differences -----===//
//
// For every op of the vdl dialect that implements GradientOpInterface, a
// small @loss = sum(op(params...) * r) is differentiated by vdl-autodiff,
// and both @loss and the resulting @grad_step are evaluated in float64 by
// the interpreter below; every gradient element is compared with a central
// finite difference. An op with a rule but no case here fails the run, so a
// new op cannot skip its check.
//
// Built without exceptions or RTTI (it links MLIR), hence no Catch2: it
// prints one line per op and exits non-zero on any failure.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"
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

namespace {

//===----------------------------------------------------------------------===//
// A float64 interpreter of the vdl dialect (the test oracle)
//===----------------------------------------------------------------------===//

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  size_t rows() const { return shape.empty() ? 1 : size_t(shape[0]); }
  size_t rowSize() const { return rows() ? data.size() / rows() : 0; }
};

Tensor like(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  Tensor t;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  t.data.assign(size_t(type.getNumElements()), 0.0);
  return t;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
double alphaOf(Operation *op) { return cast<FloatAttr>(op->getAttr("alpha")).getValueAsDouble(); }
double attr(Operation *op, StringRef name) {
  return cast<FloatAttr>(op->getAttr(name)).getValueAsDouble();
}

class Interpreter {
public:
  /// Runs `func` on `args`; returns its results. Fails on an op it lacks.
  bool run(func::FuncOp func, const std::vector<Tensor> &args, std::vector<Tensor> &results) {
    values.clear();
    for (auto [arg, value] : llvm::zip(func.getArguments(), args))
      values[arg] = value;
    for (Operation &op : func.front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        results.clear();
        for (Value v : ret.getOperands())
          results.push_back(values[v]);
        return true;
      }
      if (!step(&op)) {
        llvm::errs() << "gradcheck: the interpreter has no semantics for '" << op.getName()
                     << "'\n";
        return false;
      }
    }
    return false;
  }

private:
  const Tensor &in(Operation *op, unsigned i) { return values[op->getOperand(i)]; }

  /// vdl.conv2d, or (transpose) vdl.conv2d_transpose as its scatter.
  void convolve(Operation *op, const Tensor &x, const Tensor &w, const Tensor *bias, int64_t s,
                int64_t p, bool transpose) {
    Tensor y = like(op->getResult(0));
    int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    int64_t O = y.shape[1], OH = y.shape[2], OW = y.shape[3], K = w.shape[2];
    // The image the pixels scatter from (transposed) or gather into.
    int64_t small[2] = {transpose ? H : OH, transpose ? W : OW};
    int64_t large[2] = {transpose ? OH : H, transpose ? OW : W};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < K; ++i)
            for (int64_t j = 0; j < K; ++j)
              for (int64_t u = 0; u < small[0]; ++u)
                for (int64_t v = 0; v < small[1]; ++v) {
                  int64_t r = u * s + i - p, q = v * s + j - p;
                  if (r < 0 || r >= large[0] || q < 0 || q >= large[1])
                    continue;
                  if (!transpose)
                    y.data[size_t(((b * O + o) * OH + u) * OW + v)] +=
                        x.data[size_t(((b * C + c) * H + r) * W + q)] *
                        w.data[size_t(((o * C + c) * K + i) * K + j)];
                  else
                    y.data[size_t(((b * O + o) * OH + r) * OW + q)] +=
                        x.data[size_t(((b * C + c) * H + u) * W + v)] *
                        w.data[size_t(((c * O + o) * K + i) * K + j)];
                }
    if (bias)
      for (size_t i = 0; i < y.data.size(); ++i)
        y.data[i] += bias->data[(i / size_t(OH * OW)) % size_t(O)];
    values[op->getResult(0)] = y;
  }

  template <typename F> void unary(Operation *op, F f) {
    Tensor out = like(op->getResult(0));
    const Tensor &x = in(op, 0);
    for (size_t i = 0; i < out.data.size(); ++i)
      out.data[i] = f(x.data[i]);
    values[op->getResult(0)] = out;
  }
  template <typename F> void binary(Operation *op, F f) {
    Tensor out = like(op->getResult(0));
    const Tensor &a = in(op, 0), &b = in(op, 1);
    for (size_t i = 0; i < out.data.size(); ++i)
      out.data[i] = f(a.data[i], b.data[i]);
    values[op->getResult(0)] = out;
  }
  /// out[b] = sum_j f(i, inputs...) over example b's elements.
  template <typename F> void perExample(Operation *op, F f) {
    Tensor out = like(op->getResult(0));
    const Tensor &first = in(op, 0);
    for (size_t b = 0; b < first.rows(); ++b)
      for (size_t j = 0; j < first.rowSize(); ++j)
        out.data[b] += f(b * first.rowSize() + j);
    values[op->getResult(0)] = out;
  }
  /// outs[k][i] = f(i, g[b])[k] over every element i of example b.
  template <typename F> void perExampleGrad(Operation *op, unsigned adjoint, F f) {
    std::vector<Tensor> outs;
    for (Value r : op->getResults())
      outs.push_back(like(r));
    const Tensor &first = in(op, 0), &g = in(op, adjoint);
    for (size_t b = 0; b < first.rows(); ++b)
      for (size_t j = 0; j < first.rowSize(); ++j) {
        size_t i = b * first.rowSize() + j;
        std::vector<double> r = f(i, g.data[b]);
        for (size_t k = 0; k < outs.size(); ++k)
          outs[k].data[i] = r[k];
      }
    for (size_t k = 0; k < outs.size(); ++k)
      values[op->getResult(k)] = outs[k];
  }

  bool step(Operation *op) {
    return llvm::TypeSwitch<Operation *, bool>(op)
        // Convolutions, straight from their definitions (NCHW, square
        // kernels): y[b, o, oy, ox] += x[b, c, oy s + i - p, ox s + j - p] w[o, c, i, j].
        .Case([&](Conv2DOp conv) {
          convolve(op, in(op, 0), in(op, 1), conv.getBias() ? &in(op, 2) : nullptr,
                   conv.getStride(), conv.getPadding(), /*transpose=*/false);
          return true;
        })
        .Case([&](Conv2DTransposeOp conv) {
          convolve(op, in(op, 0), in(op, 1), conv.getBias() ? &in(op, 2) : nullptr,
                   conv.getStride(), conv.getPadding(), /*transpose=*/true);
          return true;
        })
        .Case([&](Conv2DFilterGradOp grad) {
          const Tensor &x = in(op, 0), &dy = in(op, 1);
          Tensor dw = like(op->getResult(0));
          int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
          int64_t O = dy.shape[1], OH = dy.shape[2], OW = dy.shape[3], K = dw.shape[2];
          int64_t s = grad.getStride(), p = grad.getPadding();
          for (int64_t b = 0; b < B; ++b)
            for (int64_t o = 0; o < O; ++o)
              for (int64_t c = 0; c < C; ++c)
                for (int64_t i = 0; i < K; ++i)
                  for (int64_t j = 0; j < K; ++j)
                    for (int64_t oy = 0; oy < OH; ++oy)
                      for (int64_t ox = 0; ox < OW; ++ox) {
                        int64_t y = oy * s + i - p, xx = ox * s + j - p;
                        if (y < 0 || y >= H || xx < 0 || xx >= W)
                          continue;
                        dw.data[size_t(((o * C + c) * K + i) * K + j)] +=
                            dy.data[size_t(((b * O + o) * OH + oy) * OW + ox)] *
                            x.data[size_t(((b * C + c) * H + y) * W + xx)];
                      }
          values[op->getResult(0)] = dw;
          return true;
        })
        .Case([&](ChannelSumOp) {
          const Tensor &x = in(op, 0);
          Tensor out = like(op->getResult(0));
          size_t C = size_t(x.shape[1]), pixels = size_t(x.shape[2] * x.shape[3]);
          for (size_t i = 0; i < x.data.size(); ++i)
            out.data[(i / pixels) % C] += x.data[i];
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ReshapeOp) { // the same elements, another shape
          Tensor out = like(op->getResult(0));
          out.data = in(op, 0).data;
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](DenseOp) {
          const Tensor &x = in(op, 0), &w = in(op, 1), &b = in(op, 2);
          Tensor out = like(op->getResult(0));
          size_t B = x.shape[0], K = x.shape[1], N = w.shape[1];
          for (size_t i = 0; i < B; ++i)
            for (size_t n = 0; n < N; ++n) {
              double s = b.data[n];
              for (size_t k = 0; k < K; ++k)
                s += x.data[i * K + k] * w.data[k * N + n];
              out.data[i * N + n] = s;
            }
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](MatmulOp mm) {
          const Tensor &a = in(op, 0), &b = in(op, 1);
          Tensor out = like(op->getResult(0));
          bool ta = mm.getTransposeLhs(), tb = mm.getTransposeRhs();
          size_t M = out.shape[0], N = out.shape[1];
          size_t K = ta ? a.shape[0] : a.shape[1];
          auto A = [&](size_t i, size_t k) {
            return ta ? a.data[k * a.shape[1] + i] : a.data[i * a.shape[1] + k];
          };
          auto Bm = [&](size_t k, size_t j) {
            return tb ? b.data[j * b.shape[1] + k] : b.data[k * b.shape[1] + j];
          };
          for (size_t i = 0; i < M; ++i)
            for (size_t j = 0; j < N; ++j)
              for (size_t k = 0; k < K; ++k)
                out.data[i * N + j] += A(i, k) * Bm(k, j);
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ReluOp) {
          unary(op, [](double x) { return std::max(x, 0.0); });
          return true;
        })
        .Case([&](TanhOp) {
          unary(op, [](double x) { return std::tanh(x); });
          return true;
        })
        .Case([&](SigmoidOp) {
          unary(op, sigmoid);
          return true;
        })
        .Case([&](SoftplusOp) {
          unary(op, softplus);
          return true;
        })
        .Case([&](ExpOp) {
          unary(op, [](double x) { return std::exp(x); });
          return true;
        })
        .Case([&](LogOp) {
          unary(op, [](double x) { return std::log(x); });
          return true;
        })
        .Case([&](NegOp) {
          unary(op, [](double x) { return -x; });
          return true;
        })
        .Case([&](LeakyReluOp) {
          double a = alphaOf(op);
          unary(op, [a](double x) { return x > 0 ? x : a * x; });
          return true;
        })
        .Case([&](EluOp) {
          double a = alphaOf(op);
          unary(op, [a](double x) { return x > 0 ? x : a * std::expm1(x); });
          return true;
        })
        .Case([&](AddOp) {
          binary(op, [](double a, double b) { return a + b; });
          return true;
        })
        .Case([&](SubOp) {
          binary(op, [](double a, double b) { return a - b; });
          return true;
        })
        .Case([&](MulOp) {
          binary(op, [](double a, double b) { return a * b; });
          return true;
        })
        .Case([&](DivOp) {
          binary(op, [](double a, double b) { return a / b; });
          return true;
        })
        .Case([&](ConstantOp c) {
          Tensor out = like(op->getResult(0));
          std::fill(out.data.begin(), out.data.end(), c.getValue().convertToDouble());
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](MinOp) {
          binary(op, [](double a, double b) { return std::min(a, b); });
          return true;
        })
        .Case([&](MaxOp) {
          binary(op, [](double a, double b) { return std::max(a, b); });
          return true;
        })
        .Case([&](SelectGradOp) {
          Tensor out = like(op->getResult(0));
          const Tensor &a = in(op, 0), &b = in(op, 1), &dy = in(op, 2);
          for (size_t i = 0; i < out.data.size(); ++i)
            out.data[i] = a.data[i] >= b.data[i] ? dy.data[i] : 0.0;
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ReparameterizeOp) {
          Tensor out = like(op->getResult(0));
          const Tensor &mu = in(op, 0), &lv = in(op, 1), &e = in(op, 2);
          for (size_t i = 0; i < out.data.size(); ++i)
            out.data[i] = mu.data[i] + std::exp(0.5 * lv.data[i]) * e.data[i];
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](KLNormalOp kl) {
          double m = kl.getPriorMean().convertToDouble(), s = kl.getPriorStd().convertToDouble();
          const Tensor &mu = in(op, 0), &lv = in(op, 1);
          perExample(op, [&](size_t i) {
            double d = mu.data[i] - m;
            return 0.5 * ((std::exp(lv.data[i]) + d * d) / (s * s) - 1 - lv.data[i]) + std::log(s);
          });
          return true;
        })
        .Case([&](BernoulliLogProbOp) {
          const Tensor &l = in(op, 0), &t = in(op, 1);
          perExample(op, [&](size_t i) { return l.data[i] * t.data[i] - softplus(l.data[i]); });
          return true;
        })
        .Case([&](GaussianLogProbOp) {
          const Tensor &m = in(op, 0), &lv = in(op, 1), &t = in(op, 2);
          perExample(op, [&](size_t i) {
            double d = t.data[i] - m.data[i];
            return -0.5 * (lv.data[i] + d * d * std::exp(-lv.data[i]) + std::log(2 * M_PI));
          });
          return true;
        })
        .Case([&](GaussianFixedLogProbOp g) {
          double s = g.getSigma().convertToDouble();
          const Tensor &m = in(op, 0), &t = in(op, 1);
          perExample(op, [&](size_t i) {
            double d = (t.data[i] - m.data[i]) / s;
            return -0.5 * d * d - std::log(s) - 0.5 * std::log(2 * M_PI);
          });
          return true;
        })
        .Case([&](DiscretizedLogisticLogProbOp dl) {
          // The definition: the logistic's mass over the target's bin.
          double top = double(dl.getBins() - 1), h = 1 / top;
          const Tensor &m = in(op, 0), &ls = in(op, 1), &t = in(op, 2);
          perExample(op, [&](size_t i) {
            double c = 2 * t.data[i] / top - 1, s = std::exp(ls.data[i]);
            double upper = t.data[i] < top ? sigmoid((c + h - m.data[i]) / s) : 1.0;
            double lower = t.data[i] > 0 ? sigmoid((c - h - m.data[i]) / s) : 0.0;
            return std::log(upper - lower);
          });
          return true;
        })
        .Case<ReduceSumOp, ReduceMeanOp>([&](Operation *) {
          Tensor out = like(op->getResult(0));
          const Tensor &x = in(op, 0);
          for (double v : x.data)
            out.data[0] += v;
          if (isa<ReduceMeanOp>(op))
            out.data[0] /= double(x.data.size());
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ElboOp) {
          Tensor out = like(op->getResult(0));
          out.data[0] = in(op, 2).data[0] * in(op, 1).data[0] - in(op, 0).data[0];
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ReduceRowsOp) {
          Tensor out = like(op->getResult(0));
          const Tensor &x = in(op, 0);
          for (size_t b = 0; b < x.rows(); ++b)
            for (size_t j = 0; j < x.rowSize(); ++j)
              out.data[j] += x.data[b * x.rowSize() + j];
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](BroadcastOp bc) {
          Tensor out = like(op->getResult(0));
          std::fill(out.data.begin(), out.data.end(),
                    in(op, 0).data[0] * bc.getScale().convertToDouble());
          values[op->getResult(0)] = out;
          return true;
        })
        .Case([&](ReluGradOp) {
          binary(op, [](double x, double dy) { return x > 0 ? dy : 0.0; });
          return true;
        })
        .Case([&](TanhGradOp) {
          binary(op, [](double y, double dy) { return dy * (1 - y * y); });
          return true;
        })
        .Case([&](SigmoidGradOp) {
          binary(op, [](double y, double dy) { return dy * y * (1 - y); });
          return true;
        })
        .Case([&](SoftplusGradOp) {
          binary(op, [](double x, double dy) { return dy * sigmoid(x); });
          return true;
        })
        .Case([&](LeakyReluGradOp) {
          double a = alphaOf(op);
          binary(op, [a](double x, double dy) { return x > 0 ? dy : a * dy; });
          return true;
        })
        .Case([&](EluGradOp) {
          double a = alphaOf(op);
          binary(op, [a](double x, double dy) { return x > 0 ? dy : a * std::exp(x) * dy; });
          return true;
        })
        .Case([&](KLNormalGradOp) {
          double m = attr(op, "prior_mean"), s = attr(op, "prior_std");
          const Tensor &mu = in(op, 0), &lv = in(op, 1);
          perExampleGrad(op, 2, [&](size_t i, double g) -> std::vector<double> {
            return {g * (mu.data[i] - m) / (s * s), g * 0.5 * (std::exp(lv.data[i]) / (s * s) - 1)};
          });
          return true;
        })
        .Case([&](BernoulliLogProbGradOp) {
          const Tensor &l = in(op, 0), &t = in(op, 1);
          perExampleGrad(op, 2, [&](size_t i, double g) -> std::vector<double> {
            return {g * (t.data[i] - sigmoid(l.data[i]))};
          });
          return true;
        })
        .Case([&](GaussianLogProbGradOp) {
          const Tensor &m = in(op, 0), &lv = in(op, 1), &t = in(op, 2);
          perExampleGrad(op, 3, [&](size_t i, double g) -> std::vector<double> {
            double d = t.data[i] - m.data[i], iv = std::exp(-lv.data[i]);
            return {g * d * iv, g * 0.5 * (d * d * iv - 1)};
          });
          return true;
        })
        .Case([&](DiscretizedLogisticLogProbGradOp dl) {
          double top = double(dl.getBins() - 1), h = 1 / top;
          const Tensor &m = in(op, 0), &ls = in(op, 1), &t = in(op, 2);
          perExampleGrad(op, 3, [&](size_t i, double g) -> std::vector<double> {
            double u = std::exp(-ls.data[i]), c = 2 * t.data[i] / top - 1;
            double a = u * (c - m.data[i] + h), b = u * (c - m.data[i] - h), w = 2 * h * u;
            bool hasUpper = t.data[i] < top, hasLower = t.data[i] > 0;
            double up = hasUpper ? sigmoid(-a) : 0, low = hasLower ? sigmoid(b) : 0;
            double width = hasUpper && hasLower ? w / std::expm1(w) : 0;
            return {-g * u * (up - low), g * (b * low - a * up - width)};
          });
          return true;
        })
        .Case([&](GaussianFixedLogProbGradOp) {
          double s = attr(op, "sigma");
          const Tensor &m = in(op, 0), &t = in(op, 1);
          perExampleGrad(op, 2, [&](size_t i, double g) -> std::vector<double> {
            return {g * (t.data[i] - m.data[i]) / (s * s)};
          });
          return true;
        })
        .Default([](Operation *) { return false; });
  }

  llvm::DenseMap<Value, Tensor> values;
};

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
