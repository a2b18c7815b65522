//===- VdlReference.cpp - float64 interpreter of any VDL model ------------===//

#include "VdlReference.h"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace vaec::reference {

namespace {

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Matrix sigmoid(const Matrix &a) { return 1.0 / (1.0 + xt::exp(-a)); }
Matrix softplus(const Matrix &a) { return xt::log1p(xt::exp(-xt::abs(a))) + xt::maximum(a, 0.0); }

/// a · b for a [n, k] and b [k, m] (transposes spelled out by the caller).
Matrix matmul(const Matrix &a, const Matrix &b) {
  size_t n = a.shape(0), k = a.shape(1), m = b.shape(1);
  Matrix c = xt::zeros<double>({n, m});
  for (size_t i = 0; i < n; ++i)
    for (size_t l = 0; l < k; ++l) {
      double ail = a(i, l);
      for (size_t j = 0; j < m; ++j)
        c(i, j) += ail * b(l, j);
    }
  return c;
}

Matrix transpose(const Matrix &m) { return xt::transpose(m); }

/// The sum over each row: one number per example.
std::vector<double> rowSums(const Matrix &m) {
  std::vector<double> sums(m.shape(0), 0.0);
  for (size_t i = 0; i < m.shape(0); ++i)
    for (size_t j = 0; j < m.shape(1); ++j)
      sums[i] += m(i, j);
  return sums;
}

/// The sum over the batch, [1, n]: a bias's gradient.
Matrix columnSums(const Matrix &m) {
  Matrix sums = xt::zeros<double>({size_t(1), m.shape(1)});
  for (size_t i = 0; i < m.shape(0); ++i)
    for (size_t j = 0; j < m.shape(1); ++j)
      sums(0, j) += m(i, j);
  return sums;
}

/// Scales row b of `m` by `scale[b]`.
Matrix scaleRows(const Matrix &m, const std::vector<double> &scale) {
  Matrix r = m;
  for (size_t i = 0; i < m.shape(0); ++i)
    xt::row(r, i) *= scale[i];
  return r;
}

/// Calls `tap(xi, wi, yi)` for every product `x[xi] * w[wi]` that a
/// convolution adds into `y[yi]` (flat indices into a batch of CHW images and
/// the weight): conv2d's input [C, H, W] to output [O, OH, OW], weight
/// [O, C, k, k]; conv2d_transpose's weight [C, O, k, k], where each input
/// pixel (y, x) lands on output pixel (y s + i - p, x s + j - p).
template <typename Tap> void forEachTap(const CallExpr &e, size_t batch, Tap tap) {
  const std::vector<int64_t> &in = e.operand(0)->type.shape, &out = e.type.shape;
  bool transpose = e.callee == "conv2d_transpose";
  int64_t channels = in[0], height = in[1], width = in[2];
  int64_t filters = out[0], outHeight = out[1], outWidth = out[2];
  int64_t k = int64_t(e.number(2)), s = int64_t(e.number(3)), p = int64_t(e.number(4));
  for (size_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t o = 0; o < filters; ++o)
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            size_t wi = size_t(((transpose ? c * filters + o : o * channels + c) * k + i) * k + j);
            // The big image (conv2d's input, conv2d_transpose's output) at
            // small pixel (y, x) times the stride, plus the tap.
            int64_t smallHeight = transpose ? height : outHeight;
            int64_t smallWidth = transpose ? width : outWidth;
            int64_t bigHeight = transpose ? outHeight : height;
            int64_t bigWidth = transpose ? outWidth : width;
            for (int64_t y = 0; y < smallHeight; ++y)
              for (int64_t x = 0; x < smallWidth; ++x) {
                int64_t bigY = y * s + i - p, bigX = x * s + j - p;
                if (bigY < 0 || bigY >= bigHeight || bigX < 0 || bigX >= bigWidth)
                  continue;
                size_t inPixel = size_t(transpose ? y * width + x : bigY * width + bigX);
                size_t outPixel = size_t(transpose ? bigY * outWidth + bigX : y * outWidth + x);
                tap(b * size_t(channels * height * width) + size_t(c * height * width) + inPixel,
                    wi,
                    b * size_t(filters * outHeight * outWidth) + size_t(o * outHeight * outWidth) +
                        outPixel);
              }
          }
}

/// Reverse mode: every tensor value is a node holding its value and, once
/// the backward sweep reaches it, its adjoint. A node's closure turns its
/// adjoint into contributions to its operands (and to parameter gradients).
class Tape {
public:
  using Backward = std::function<void(Tape &, const Matrix &)>;
  explicit Tape(Parameters *paramGrads) : paramGrads(paramGrads) {}

  size_t push(Matrix value, Backward backward = nullptr) {
    nodes.push_back({std::move(value), Matrix(), std::move(backward)});
    return nodes.size() - 1;
  }
  const Matrix &value(size_t node) const { return nodes[node].value; }
  void accumulate(size_t node, const Matrix &grad) {
    Matrix &adjoint = nodes[node].grad;
    if (adjoint.size() == 0)
      adjoint = grad;
    else
      adjoint += grad;
  }
  void accumulateParam(int index, const Matrix &grad) {
    if (paramGrads)
      (*paramGrads)[size_t(index)] += grad;
  }
  /// Nodes are pushed after their operands: reverse order is topological.
  void backward() {
    for (size_t i = nodes.size(); i-- > 0;)
      if (nodes[i].backward && nodes[i].grad.size() != 0)
        nodes[i].backward(*this, nodes[i].grad);
  }

private:
  struct Node {
    Matrix value, grad;
    Backward backward;
  };
  std::vector<Node> nodes;
  Parameters *paramGrads;
};

/// Evaluates the expressions of one block on a tape.
class BlockEvaluator {
public:
  BlockEvaluator(Tape &tape, const Parameters &params, const Module &module)
      : tape(tape), params(params), module(module) {}

  /// Binds the block's argument, runs its statements, and returns the
  /// resolved arguments of its return call (null where defaulted).
  std::vector<const Expr *> run(const Block &block, size_t argument) {
    scope.clear();
    scope[block.param] = argument;
    for (const Stmt &stmt : block.stmts) {
      if (!stmt.isReturn) {
        // Named numbers are folded into every use by Sema.
        if (stmt.value->type.kind == SemaType::Tensor)
          scope[stmt.name] = eval(*stmt.value);
        continue;
      }
      const auto &call = llvm::cast<CallExpr>(*stmt.value);
      returned = &call;
      return {call.resolved.begin(), call.resolved.end()};
    }
    throw std::runtime_error("block without a return");
  }
  const CallExpr *returnedCall() const { return returned; }

  size_t eval(const Expr &expr) {
    if (expr.type.kind != SemaType::Tensor)
      throw std::runtime_error("eval of a non-tensor expression");
    switch (expr.getKind()) {
    case Expr::Name:
      return scope.at(llvm::cast<NameExpr>(expr).name);
    case Expr::Negate: {
      size_t a = eval(*llvm::cast<NegateExpr>(expr).operand);
      return tape.push(-tape.value(a), [a](Tape &t, const Matrix &g) { t.accumulate(a, -g); });
    }
    case Expr::Binary:
      return binary(llvm::cast<BinaryExpr>(expr));
    case Expr::Call:
      return call(llvm::cast<CallExpr>(expr));
    case Expr::Number:
    case Expr::List: // sizes of a reshape: read by call(), never evaluated
      break;
    }
    throw std::runtime_error("unexpected expression");
  }

private:
  size_t binary(const BinaryExpr &e) {
    bool lhsTensor = e.lhs->type.kind == SemaType::Tensor;
    bool rhsTensor = e.rhs->type.kind == SemaType::Tensor;
    char op = e.op;
    if (lhsTensor && rhsTensor) {
      size_t a = eval(*e.lhs), b = eval(*e.rhs);
      const Matrix &va = tape.value(a), &vb = tape.value(b);
      switch (op) {
      case '+':
        return tape.push(va + vb, [a, b](Tape &t, const Matrix &g) {
          t.accumulate(a, g);
          t.accumulate(b, g);
        });
      case '-':
        return tape.push(va - vb, [a, b](Tape &t, const Matrix &g) {
          t.accumulate(a, g);
          t.accumulate(b, -g);
        });
      case '*':
        return tape.push(va * vb, [a, b, va, vb](Tape &t, const Matrix &g) {
          t.accumulate(a, g * vb);
          t.accumulate(b, g * va);
        });
      default: // '/'
        return tape.push(va / vb, [a, b, va, vb](Tape &t, const Matrix &g) {
          t.accumulate(a, g / vb);
          t.accumulate(b, -g * va / (vb * vb));
        });
      }
    }
    // One side is a number, folded by Sema.
    size_t a = eval(lhsTensor ? *e.lhs : *e.rhs);
    double c = lhsTensor ? e.rhs->type.value : e.lhs->type.value;
    const Matrix &v = tape.value(a);
    auto linear = [&](Matrix value, double slope) {
      return tape.push(std::move(value),
                       [a, slope](Tape &t, const Matrix &g) { t.accumulate(a, g * slope); });
    };
    switch (op) {
    case '+':
      return linear(v + c, 1.0);
    case '-':
      return lhsTensor ? linear(v - c, 1.0) : linear(c - v, -1.0);
    case '*':
      return linear(v * c, c);
    default:
      if (lhsTensor)
        return linear(v / c, 1.0 / c);
      return tape.push(c / v,
                       [a, c, v](Tape &t, const Matrix &g) { t.accumulate(a, -g * c / (v * v)); });
    }
  }

  /// min(a, b), max(a, b): either side may be a number. Ties go to the
  /// first operand, as vaec's rule (vdl.select_grad) has it.
  size_t minMax(const CallExpr &e) {
    const Expr &l = *e.operand(0), &r = *e.operand(1);
    bool lt = l.type.kind == SemaType::Tensor, rt = r.type.kind == SemaType::Tensor;
    size_t a = lt ? eval(l) : 0, b = rt ? eval(r) : 0;
    const Matrix &like = tape.value(lt ? a : b);
    Matrix va = lt ? tape.value(a) : Matrix(xt::zeros_like(like) + l.type.value);
    Matrix vb = rt ? tape.value(b) : Matrix(xt::zeros_like(like) + r.type.value);
    Matrix first = e.callee == "max" ? Matrix(xt::where(va >= vb, 1.0, 0.0))
                                     : Matrix(xt::where(va <= vb, 1.0, 0.0));
    Matrix value = first * va + (1.0 - first) * vb;
    return tape.push(std::move(value), [a, b, lt, rt, first](Tape &t, const Matrix &g) {
      if (lt)
        t.accumulate(a, g * first);
      if (rt)
        t.accumulate(b, g * (1.0 - first));
    });
  }

  size_t call(const CallExpr &e) {
    if (e.callee == "min" || e.callee == "max")
      return minMax(e);
    size_t a = eval(*e.operand(0));
    const Matrix &v = tape.value(a);
    const std::string &f = e.callee;
    // Values are [batch, elements of one example] in row-major order, so a
    // reshape leaves them as they are (and its gradient too).
    if (f == "flatten" || f == "reshape")
      return a;
    if (f == "dense") {
      int index = e.paramIndex;
      const Matrix &w = params.at(size_t(index)), &b = params.at(size_t(index) + 1);
      Matrix y = matmul(v, w) + b; // b is [1, out]: broadcast over rows
      return tape.push(std::move(y), [a, index, w, v](Tape &t, const Matrix &g) {
        t.accumulate(a, matmul(g, transpose(w)));
        t.accumulateParam(index, matmul(transpose(v), g));
        t.accumulateParam(index + 1, columnSums(g));
      });
    }
    if (f == "conv2d" || f == "conv2d_transpose") {
      int index = e.paramIndex;
      const Matrix &w = params.at(size_t(index)), &bias = params.at(size_t(index) + 1);
      size_t batch = v.shape(0), pixels = size_t(e.type.shape[1] * e.type.shape[2]);
      Matrix y = xt::zeros<double>({batch, size_t(numElements(e.type.shape))});
      forEachTap(e, batch, [&](size_t xi, size_t wi, size_t yi) {
        y.data()[yi] += v.data()[xi] * w.data()[wi];
      });
      for (size_t yi = 0; yi < y.size(); ++yi)
        y.data()[yi] += bias.data()[(yi / pixels) % bias.size()];
      return tape.push(std::move(y), [a, index, &e, w, v, pixels](Tape &t, const Matrix &g) {
        Matrix dx = xt::zeros_like(v), dw = xt::zeros_like(w);
        Matrix db = xt::zeros<double>({size_t(1), size_t(e.type.shape[0])});
        forEachTap(e, v.shape(0), [&](size_t xi, size_t wi, size_t yi) {
          dx.data()[xi] += g.data()[yi] * w.data()[wi];
          dw.data()[wi] += g.data()[yi] * v.data()[xi];
        });
        for (size_t yi = 0; yi < g.size(); ++yi)
          db.data()[(yi / pixels) % db.size()] += g.data()[yi];
        t.accumulate(a, dx);
        t.accumulateParam(index, dw);
        t.accumulateParam(index + 1, db);
      });
    }
    // Elementwise: the value and the derivative with respect to the input.
    Matrix value, slope;
    double alpha = e.resolved.size() > 1 ? e.number(1) : 0.0;
    if (f == "relu") {
      value = xt::maximum(v, 0.0);
      slope = xt::where(v > 0.0, 1.0, 0.0);
    } else if (f == "tanh") {
      value = xt::tanh(v);
      slope = 1.0 - value * value;
    } else if (f == "sigmoid") {
      value = sigmoid(v);
      slope = value * (1.0 - value);
    } else if (f == "softplus") {
      value = softplus(v);
      slope = sigmoid(v);
    } else if (f == "exp") {
      value = xt::exp(v);
      slope = value;
    } else if (f == "log") {
      value = xt::log(v);
      slope = 1.0 / v;
    } else if (f == "leaky_relu") {
      value = xt::where(v > 0.0, v, alpha * v);
      slope = xt::where(v > 0.0, 1.0, alpha);
    } else if (f == "clamp") { // the gradient passes at the bounds too (PyTorch)
      double hi = e.number(2);
      value = xt::minimum(xt::maximum(v, alpha), hi);
      slope = xt::where(v >= alpha && v <= hi, 1.0, 0.0);
    } else if (f == "elu") {
      value = xt::where(v > 0.0, v, alpha * xt::expm1(v));
      slope = xt::where(v > 0.0, 1.0, alpha * xt::exp(v));
    } else {
      throw std::runtime_error("the reference has no rule for '" + f + "'");
    }
    return tape.push(std::move(value),
                     [a, slope](Tape &t, const Matrix &g) { t.accumulate(a, g * slope); });
  }

  Tape &tape;
  const Parameters &params;
  const Module &module;
  std::map<std::string, size_t> scope;
  const CallExpr *returned = nullptr;
};

/// Node ids of one pass through the model.
struct Outputs {
  size_t mu, logvar;
  std::vector<size_t> likelihood;
  const CallExpr *likelihoodCall;
};

/// The whole model on `tape`: encoder, reparameterization, decoder.
Outputs run(Tape &tape, const Module &module, const Parameters &params, const Matrix &x,
            const Matrix &eps) {
  Outputs out;
  BlockEvaluator encoder(tape, params, module);
  std::vector<const Expr *> posterior = encoder.run(*module.encoder, tape.push(x));
  out.mu = encoder.eval(*posterior[0]);
  out.logvar = encoder.eval(*posterior[1]);
  Matrix sigma = xt::exp(0.5 * tape.value(out.logvar));
  size_t mu = out.mu, logvar = out.logvar;
  size_t z =
      tape.push(tape.value(mu) + sigma * eps, [mu, logvar, sigma, eps](Tape &t, const Matrix &g) {
        t.accumulate(mu, g);
        t.accumulate(logvar, g * 0.5 * sigma * eps);
      });
  BlockEvaluator decoder(tape, params, module);
  std::vector<const Expr *> likelihood = decoder.run(*module.decoder, z);
  out.likelihoodCall = decoder.returnedCall();
  for (const Expr *arg : likelihood)
    if (arg && arg->type.kind == SemaType::Tensor)
      out.likelihood.push_back(decoder.eval(*arg));
  return out;
}

} // namespace

Evaluation VdlReference::evaluate(const Parameters &params, const Matrix &x,
                                  const Matrix &eps) const {
  Tape tape(nullptr);
  Outputs out = run(tape, module, params, x, eps);
  Evaluation e;
  e.mu = tape.value(out.mu);
  e.logvar = tape.value(out.logvar);
  for (size_t node : out.likelihood)
    e.likelihood.push_back(tape.value(node));

  // KL(N(mu, exp(lv)) || N(m, s^2)) = 0.5 sum((exp(lv) + (mu - m)^2) / s^2 - 1 - lv + 2 log s)
  double m = module.priorMean, s = module.priorStd;
  Matrix klTerms = 0.5 * ((xt::exp(e.logvar) + xt::square(e.mu - m)) / (s * s) - 1.0 - e.logvar +
                          2.0 * std::log(s));
  e.kl = rowSums(klTerms);

  Matrix logProb;
  const CallExpr &call = *out.likelihoodCall;
  if (call.callee == "bernoulli") {
    const Matrix &logits = e.likelihood[0];
    logProb = x * logits - softplus(logits);
  } else if (call.callee == "discretized_logistic") {
    logProb = discretizedLogisticLogProb(e.likelihood[0], e.likelihood[1], x, call.number(2));
  } else if (e.likelihood.size() == 2) {
    const Matrix &mean = e.likelihood[0], &lv = e.likelihood[1];
    logProb = -0.5 * (std::log(2 * M_PI) + lv + xt::square(x - mean) * xt::exp(-lv));
  } else {
    double sigma = call.number(2);
    logProb = -0.5 * xt::square((x - e.likelihood[0]) / sigma) - std::log(sigma) -
              0.5 * std::log(2 * M_PI);
  }
  e.reconstruction = rowSums(-logProb);
  return e;
}

Matrix vaec::reference::discretizedLogisticLogProb(const Matrix &mean, const Matrix &logScale,
                                                   const Matrix &x, double bins) {
  // The definition: the logistic's mass between the bin's edges on [-1, 1].
  double top = bins - 1, h = 1 / top;
  Matrix out = xt::zeros_like(x);
  auto cdf = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (size_t i = 0; i < x.size(); ++i) {
    double c = 2 * x.flat(i) / top - 1, s = std::exp(logScale.flat(i)), m = mean.flat(i);
    double upper = x.flat(i) < top ? cdf((c + h - m) / s) : 1.0;
    double lower = x.flat(i) > 0 ? cdf((c - h - m) / s) : 0.0;
    out.flat(i) = std::log(upper - lower);
  }
  return out;
}

std::pair<Matrix, Matrix> vaec::reference::discretizedLogisticGradients(const Matrix &mean,
                                                                        const Matrix &logScale,
                                                                        const Matrix &x,
                                                                        double bins) {
  // d log p / d mean and d log p / d log_scale (vdl.discretized_logistic_log_prob_grad).
  double top = bins - 1, h = 1 / top;
  Matrix dmean = xt::zeros_like(x), dlogScale = xt::zeros_like(x);
  for (size_t i = 0; i < x.size(); ++i) {
    double u = std::exp(-logScale.flat(i)), c = 2 * x.flat(i) / top - 1;
    double a = u * (c - mean.flat(i) + h), b = u * (c - mean.flat(i) - h), w = 2 * h * u;
    bool hasUpper = x.flat(i) < top, hasLower = x.flat(i) > 0;
    double up = hasUpper ? 1 / (1 + std::exp(a)) : 0, low = hasLower ? 1 / (1 + std::exp(-b)) : 0;
    double width = hasUpper && hasLower ? w / std::expm1(w) : 0;
    dmean.flat(i) = -u * (up - low);
    dlogScale.flat(i) = b * low - a * up - width;
  }
  return {dmean, dlogScale};
}

std::vector<Matrix> VdlReference::decode(const Parameters &params, const Matrix &z) const {
  Tape tape(nullptr);
  BlockEvaluator decoder(tape, params, module);
  std::vector<Matrix> outputs;
  for (const Expr *arg : decoder.run(*module.decoder, tape.push(z)))
    if (arg && arg->type.kind == SemaType::Tensor)
      outputs.push_back(tape.value(decoder.eval(*arg)));
  return outputs;
}

Parameters VdlReference::zeros() const {
  Parameters p;
  // Weights [rows, the rest]: a convolution's [O, C, k, k] as [O, C k k],
  // the same elements in the same order.
  for (const Param &param : module.params) {
    size_t rows = param.shape.size() >= 2 ? size_t(param.shape[0]) : 1;
    size_t elements = size_t(numElements(param.shape));
    p.push_back(xt::zeros<double>({rows, elements / rows}));
  }
  return p;
}

Parameters VdlReference::gradients(const Parameters &params, const Matrix &x, const Matrix &eps,
                                   const std::vector<double> &weights, double klWeight) const {
  Parameters grads = zeros();
  Tape tape(&grads);
  Outputs out = run(tape, module, params, x, eps);
  double batch = double(x.shape(0));
  std::vector<double> perExample(weights.size()), perExampleKL(weights.size());
  for (size_t b = 0; b < weights.size(); ++b) {
    perExample[b] = weights[b] / batch;
    perExampleKL[b] = weights[b] * klWeight / batch;
  }
  // The KL term.
  double m = module.priorMean, s2 = module.priorStd * module.priorStd;
  const Matrix &mu = tape.value(out.mu), &lv = tape.value(out.logvar);
  tape.accumulate(out.mu, scaleRows((mu - m) / s2, perExampleKL));
  tape.accumulate(out.logvar, scaleRows(0.5 * (xt::exp(lv) / s2 - 1.0), perExampleKL));
  // The reconstruction term, -log p(x | z).
  const CallExpr &call = *out.likelihoodCall;
  const Matrix &first = tape.value(out.likelihood[0]);
  if (call.callee == "bernoulli") {
    tape.accumulate(out.likelihood[0], scaleRows(sigmoid(first) - x, perExample));
  } else if (call.callee == "discretized_logistic") {
    auto [dmean, dlogScale] =
        discretizedLogisticGradients(first, tape.value(out.likelihood[1]), x, call.number(2));
    tape.accumulate(out.likelihood[0], scaleRows(-dmean, perExample));
    tape.accumulate(out.likelihood[1], scaleRows(-dlogScale, perExample));
  } else if (out.likelihood.size() == 2) {
    const Matrix &llv = tape.value(out.likelihood[1]);
    Matrix precision = xt::exp(-llv);
    tape.accumulate(out.likelihood[0], scaleRows((first - x) * precision, perExample));
    tape.accumulate(out.likelihood[1],
                    scaleRows(0.5 * (1.0 - xt::square(x - first) * precision), perExample));
  } else {
    double sigma = call.number(2);
    tape.accumulate(out.likelihood[0], scaleRows((first - x) / (sigma * sigma), perExample));
  }
  tape.backward();
  return grads;
}

ReferenceOptimizer::ReferenceOptimizer(const TrainConfig &config, const Parameters &shapes)
    : config(config) {
  for (const Matrix &p : shapes) {
    first.push_back(xt::zeros_like(p));
    second.push_back(xt::zeros_like(p));
  }
}

void ReferenceOptimizer::update(Parameters &params, const Parameters &grads, int64_t step) {
  // clip_grad_norm: one factor from the global norm (PyTorch's clip_grad_norm_).
  double scale = 1;
  if (config.clipGradNorm > 0) {
    double squares = 0;
    for (const Matrix &g : grads)
      squares += xt::sum(xt::square(g))();
    scale = std::min(1.0, config.clipGradNorm / (std::sqrt(squares) + 1e-6));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Matrix g = grads[i] * scale;
    if (config.optimizer == "sgd") {
      first[i] = config.momentum * first[i] + g;
      params[i] -= config.lr * first[i];
      continue;
    }
    first[i] = config.beta1 * first[i] + (1 - config.beta1) * g;
    second[i] = config.beta2 * second[i] + (1 - config.beta2) * g * g;
    double correction1 = 1 - std::pow(config.beta1, double(step));
    double correction2 = 1 - std::pow(config.beta2, double(step));
    // AdamW's decoupled decay first (0 for Adam).
    params[i] *= 1 - config.lr * config.weightDecay;
    params[i] -=
        config.lr * (first[i] / correction1) / (xt::sqrt(second[i] / correction2) + config.eps);
  }
}

} // namespace vaec::reference
