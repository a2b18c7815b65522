//===- Interpreter.h - a float64 interpreter of the vdl dialect -*- C++ -*-===//
//
// The oracle of vdl-gradcheck (GradCheck.cpp): runs a func.func of vdl ops,
// forward ops and gradient ops alike, on float64 tensors, each op by its
// definition, independently of the dialect's lowering.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TESTS_GRADCHECK_INTERPRETER_H
#define VAEC_TESTS_GRADCHECK_INTERPRETER_H

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>
#include <vector>

namespace vaec::gradcheck {

using namespace mlir;
using namespace vaec::vdl;

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  size_t rows() const { return shape.empty() ? 1 : size_t(shape[0]); }
  size_t rowSize() const { return rows() ? data.size() / rows() : 0; }
};

inline Tensor like(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  Tensor t;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  t.data.assign(size_t(type.getNumElements()), 0.0);
  return t;
}

inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
inline double alphaOf(Operation *op) {
  return cast<FloatAttr>(op->getAttr("alpha")).getValueAsDouble();
}
inline double attr(Operation *op, StringRef name) {
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

} // namespace vaec::gradcheck

#endif // VAEC_TESTS_GRADCHECK_INTERPRETER_H
