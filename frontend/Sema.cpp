//===- Sema.cpp - VDL semantic checks -------------------------------------===//

#include "frontend/Sema.h"
#include "frontend/Checker.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

using namespace vaec;
using namespace vaec::sema;

void Checker::run(std::optional<int64_t> batchOverride) {
  checkDeclarations();
  if (!module.input || !module.latent)
    return checkTrain(batchOverride);
  SemaType inputType = SemaType::tensor(module.input->shape);
  SemaType latentType = SemaType::tensor({module.latent->size});
  if (module.encoder)
    checkBlock(*module.encoder, true, inputType, module.input->name, "input");
  if (module.decoder)
    checkBlock(*module.decoder, false, latentType, module.latent->name, "latent variable");
  checkPrior();
  checkTrain(batchOverride);
}

void Checker::checkDeclarations() {
  if (module.name.empty()) {
    diags.error(SMLoc::getFromPointer(diags.getSourceMgr()
                                          .getMemoryBuffer(diags.getSourceMgr().getMainFileID())
                                          ->getBufferStart()),
                "no 'model' in this file");
    return;
  }
  auto missing = [&](const char *what) {
    diags.error(module.loc, "model '" + module.name + "' has no " + what);
  };
  if (!module.input) {
    missing("'input' declaration");
  } else {
    InputDecl &input = *module.input;
    if (input.elementType != "f32")
      diags.error(input.elementTypeLoc,
                  "unsupported element type '" + input.elementType + "'; inputs are f32");
    int64_t elements = 1;
    for (size_t i = 0; i < input.shape.size(); ++i) {
      if (input.shape[i] <= 0 || input.shape[i] > Limits::kMaxDim) {
        diags.error(input.dimLocs[i], "input dimension must be in [1, " +
                                          llvm::Twine(Limits::kMaxDim) + "], got " +
                                          llvm::Twine(input.shape[i]));
        input.shape[i] = 1; // keep checking with a harmless size
      }
      elements *= input.shape[i];
    }
    if (input.shape.size() > Limits::kMaxRank)
      diags.error(input.loc, "input has " + llvm::Twine(input.shape.size()) +
                                 " dimensions; at most " + llvm::Twine(Limits::kMaxRank) +
                                 " (channels, height, width and one more)");
    else if (elements > Limits::kMaxDim)
      diags.error(input.loc, "input has " + llvm::Twine(elements) +
                                 " elements per example; the limit is " +
                                 llvm::Twine(Limits::kMaxDim));
  }
  if (!module.latent) {
    missing("'latent' declaration");
  } else if (module.latent->size <= 0 || module.latent->size > Limits::kMaxDim) {
    diags.error(module.latent->sizeLoc, "latent size must be in [1, " +
                                            llvm::Twine(Limits::kMaxDim) + "], got " +
                                            llvm::Twine(module.latent->size));
    module.latent->size = 1;
  }
  if (module.input && module.latent && module.input->name == module.latent->name) {
    diags.error(module.latent->loc,
                "latent variable '" + module.latent->name + "' has the name of the input");
  }
  if (!module.encoder)
    missing("encoder");
  if (!module.decoder)
    missing("decoder");
  if (!module.prior)
    missing("prior");
}

std::string Checker::newParamName(llvm::StringRef stmtLabel) {
  std::string base = blockName + "." + stmtLabel.str();
  std::string name = base;
  for (int i = 1; usedParamNames.count(name); ++i)
    name = base + "_" + std::to_string(i);
  usedParamNames.insert(name);
  return name;
}

void Checker::checkBlock(Block &block, bool isEncoder, const SemaType &argType,
                         llvm::StringRef expectedParam, llvm::StringRef paramKind) {
  scope.clear();
  blockName = isEncoder ? "encoder" : "decoder";
  inEncoder = isEncoder;
  if (block.param != expectedParam) {
    diags.error(block.paramLoc, "the " + blockName + " takes the " + paramKind + " '" +
                                    expectedParam + "', not '" + block.param + "'");
    // Bind the declared name too, so its uses report nothing further.
    scope[expectedParam] = {argType, block.paramLoc};
  }
  scope[block.param] = {argType, block.paramLoc};

  const Stmt *returnStmt = nullptr;
  for (Stmt &stmt : block.stmts) {
    if (returnStmt) {
      diags.error(stmt.loc, "statement after the " + blockName + "'s return is never reached");
      break;
    }
    if (stmt.isReturn) {
      returnStmt = &stmt;
      label = "out";
      SemaType type = check(*stmt.value, /*allowDistribution=*/true);
      if (type.isError())
        continue;
      auto *call = llvm::dyn_cast<CallExpr>(stmt.value.get());
      llvm::StringRef expected = isEncoder ? "a normal(mu = ..., logvar = ...) posterior"
                                           : "a likelihood: bernoulli(logits = ...), "
                                             "gaussian(mean = ..., logvar | sigma = ...) or "
                                             "discretized_logistic(mean = ..., log_scale = ...)";
      if (type.kind != SemaType::Distribution) {
        diags.error(stmt.value->loc,
                    "the " + blockName + " must return " + expected + ", not " + type.str());
      } else if (isEncoder) {
        if (call->callee != "normal")
          diags.error(call->loc, "the encoder must return " + expected + ", not " + call->callee);
        else
          checkPosterior(*call);
      } else {
        if (call->callee == "normal")
          diags.error(call->loc, "the decoder must return " + expected + ", not normal");
        else
          checkLikelihood(*call);
      }
      continue;
    }
    label = stmt.name;
    SemaType type = check(*stmt.value);
    if (findBuiltin(expressionBuiltins(), stmt.name)) {
      diags.error(stmt.loc, "'" + stmt.name +
                                "' names a builtin function and cannot be "
                                "assigned");
      continue;
    }
    auto [it, inserted] = scope.try_emplace(stmt.name, Binding{type, stmt.loc});
    if (!inserted) {
      diags.error(stmt.loc, "redefinition of '" + stmt.name + "'");
      diags.note(it->second.loc, "previous definition is here");
      continue;
    }
  }
  if (!returnStmt)
    diags.error(block.endLoc, "the " + blockName + " has no return statement");
}

void Checker::checkPosterior(CallExpr &call) {
  const LatentDecl &latent = *module.latent;
  for (size_t i = 0; i < 2; ++i) {
    Expr *arg = call.operand(i);
    if (arg->type.kind == SemaType::Tensor && arg->type.shape != std::vector<int64_t>{latent.size})
      diags.error(arg->loc, llvm::Twine("posterior ") +
                                findBuiltin(expressionBuiltins(), "normal")->params[i].name +
                                " has shape " + arg->type.str() + " but the latent '" +
                                latent.name + "' has size " + llvm::Twine(latent.size));
  }
}

void Checker::checkLikelihood(CallExpr &call) {
  const std::vector<int64_t> &inputShape = module.input->shape;
  for (size_t i = 0; i < call.resolved.size(); ++i) {
    Expr *arg = call.operand(i);
    if (!arg || arg->type.kind != SemaType::Tensor)
      continue;
    if (arg->type.shape != inputShape) {
      // The same elements in another shape: say how to fix it.
      std::string sizes = SemaType::sizes(inputShape).str().substr(std::strlen("the sizes "));
      std::string hint = numElements(arg->type.shape) == numElements(inputShape)
                             ? "; reshape(..., " + sizes + ") gives it that shape"
                             : "";
      diags.error(arg->loc, "likelihood parameter has shape " + arg->type.str() +
                                " but the input '" + module.input->name + "' is " +
                                SemaType::tensor(inputShape).str() + hint);
    }
  }
  if (call.callee == "discretized_logistic") {
    double bins = call.number(2);
    if (!(bins >= 2 && bins <= 256 && bins == std::floor(bins)))
      diags.error(call.operand(2) ? call.operand(2)->loc : call.loc,
                  "bins must be an integer from 2 to 256 (the data's values 0 ... bins - 1), got " +
                      formatNumber(bins));
  }
  if (call.callee == "gaussian") {
    bool hasLogvar = call.operand(1) != nullptr;
    bool hasSigma = call.operand(2) != nullptr;
    if (hasLogvar == hasSigma)
      diags.error(call.loc, "gaussian takes exactly one of 'logvar' (learned "
                            "variance) or 'sigma' (fixed)");
    if (hasSigma && !(call.number(2) > 0))
      diags.error(call.operand(2)->loc,
                  "sigma must be positive, got " + formatNumber(call.number(2)));
  }
}

void Checker::checkPrior() {
  if (!module.prior)
    return;
  auto *call = llvm::dyn_cast<CallExpr>(module.prior.get());
  if (!call || call->callee != "normal") {
    diags.error(module.prior->loc, "unsupported prior; expected normal(mean, std), e.g. "
                                   "normal(0, 1)");
    return;
  }
  scope.clear();
  if (!bindArguments(*call, kPriorNormal))
    return;
  module.priorMean = call->number(0);
  module.priorStd = call->number(1);
  if (!(module.priorStd > 0))
    diags.error(call->operand(1)->loc,
                "prior standard deviation must be positive, got " + formatNumber(module.priorStd));
  call->type.kind = SemaType::Distribution;
  call->type.distribution = "normal";
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

SemaType Checker::check(Expr &expr, bool allowDistribution) {
  SemaType type;
  switch (expr.getKind()) {
  case Expr::Number: {
    auto &number = llvm::cast<NumberExpr>(expr);
    type = SemaType::number(number.value, number.isInteger);
    break;
  }
  case Expr::Name: {
    auto &name = llvm::cast<NameExpr>(expr);
    auto it = scope.find(name.name);
    if (it == scope.end()) {
      std::vector<llvm::StringRef> names;
      for (auto &entry : scope)
        names.push_back(entry.getKey());
      llvm::sort(names); // (a StringMap's order is its hash's)
      diags.error(expr.loc, "use of undefined name '" + name.name + "'" +
                                suggestionOrList(name.name, names, "the names here are"));
      type = SemaType::error();
    } else {
      type = it->second.type;
    }
    break;
  }
  case Expr::Negate: {
    SemaType operand = check(*llvm::cast<NegateExpr>(expr).operand);
    type = operand;
    if (operand.kind == SemaType::Number)
      type.value = -operand.value;
    else if (operand.kind == SemaType::Distribution) {
      diags.error(expr.loc, "cannot negate a distribution");
      type = SemaType::error();
    }
    break;
  }
  case Expr::Binary:
    type = checkBinary(llvm::cast<BinaryExpr>(expr));
    break;
  case Expr::List: {
    std::vector<int64_t> sizes;
    type = SemaType::sizes({});
    for (auto &element : llvm::cast<ListExpr>(expr).elements) {
      SemaType size = check(*element);
      if (size.isError()) {
        type = SemaType::error();
      } else if (size.kind != SemaType::Number || !isIntegral(size.value) || size.value < 1 ||
                 size.value > Limits::kMaxDim) {
        diags.error(element->loc, "a size must be an integer in [1, " +
                                      std::to_string(Limits::kMaxDim) + "], got " + size.str());
        type = SemaType::error();
      } else if (!type.isError()) {
        type.shape.push_back(static_cast<int64_t>(size.value));
      }
    }
    if (!type.isError() && type.shape.size() > Limits::kMaxRank) {
      diags.error(expr.loc, "a shape has at most " + std::to_string(Limits::kMaxRank) +
                                " dimensions, this one " + std::to_string(type.shape.size()));
      type = SemaType::error();
    }
    break;
  }
  case Expr::Call:
    type = checkCall(llvm::cast<CallExpr>(expr), allowDistribution);
    break;
  }
  expr.type = type;
  return type;
}

SemaType Checker::checkBinary(BinaryExpr &binary) {
  SemaType lhs = check(*binary.lhs), rhs = check(*binary.rhs);
  if (lhs.isError() || rhs.isError())
    return SemaType::error();
  std::string op(1, binary.op);
  if (lhs.kind == SemaType::Distribution || rhs.kind == SemaType::Distribution) {
    diags.error(binary.loc, "operator '" + op + "' cannot take a distribution");
    return SemaType::error();
  }
  if (lhs.kind == SemaType::Shape || rhs.kind == SemaType::Shape) {
    diags.error(binary.loc, "operator '" + op + "' cannot take a list of sizes (" +
                                (lhs.kind == SemaType::Shape ? lhs : rhs).str() +
                                "); a list is the shape argument of reshape");
    return SemaType::error();
  }
  if (lhs.kind == SemaType::Number && rhs.kind == SemaType::Number) {
    double value = 0;
    switch (binary.op) {
    case '+':
      value = lhs.value + rhs.value;
      break;
    case '-':
      value = lhs.value - rhs.value;
      break;
    case '*':
      value = lhs.value * rhs.value;
      break;
    case '/':
      if (rhs.value == 0) {
        diags.error(binary.loc, "division by zero in a constant expression");
        return SemaType::error();
      }
      value = lhs.value / rhs.value;
      break;
    }
    if (!std::isfinite(value)) {
      diags.error(binary.loc, "constant expression overflows");
      return SemaType::error();
    }
    return SemaType::number(value, lhs.isInteger && rhs.isInteger && binary.op != '/');
  }
  if (lhs.kind == SemaType::Tensor && rhs.kind == SemaType::Tensor && lhs.shape != rhs.shape) {
    diags.error(binary.loc, "shape mismatch in '" + op + "': " + lhs.str() + " and " + rhs.str());
    return SemaType::error();
  }
  return lhs.kind == SemaType::Tensor ? lhs : rhs;
}

bool Checker::bindArguments(CallExpr &call, const BuiltinSpec &spec) {
  size_t numParams = spec.params.size();
  call.resolved.assign(numParams, nullptr);
  call.defaults.assign(numParams, 0.0);
  bool ok = true;
  size_t position = 0;
  for (Argument &arg : call.args) {
    size_t index = numParams;
    if (arg.keyword.empty()) {
      index = position++;
      if (index >= numParams) {
        diags.error(arg.loc, llvm::formatv("'{0}' takes at most {1} argument{2}", spec.name,
                                           numParams, numParams == 1 ? "" : "s")
                                 .str());
        return false;
      }
    } else {
      for (size_t i = 0; i < numParams; ++i)
        if (arg.keyword == spec.params[i].name)
          index = i;
      if (index == numParams) {
        std::vector<llvm::StringRef> names;
        for (const ParamSpec &param : spec.params)
          names.push_back(param.name);
        diags.error(arg.loc, "'" + llvm::Twine(spec.name) + "' has no parameter named '" +
                                 arg.keyword + "'" +
                                 suggestionOrList(arg.keyword, names, "its parameters are"));
        ok = false;
        continue;
      }
    }
    if (call.resolved[index]) {
      diags.error(arg.loc, "argument '" + llvm::Twine(spec.params[index].name) + "' of '" +
                               spec.name + "' is given twice");
      ok = false;
      continue;
    }
    call.resolved[index] = arg.value.get();
  }
  for (size_t i = 0; i < numParams; ++i) {
    const ParamSpec &param = spec.params[i];
    std::string what = "argument '" + std::string(param.name) + "' of '" + spec.name + "'";
    Expr *arg = call.resolved[i];
    if (!arg) {
      if (param.required()) {
        diags.error(call.loc, "missing " + what);
        ok = false;
      } else {
        call.defaults[i] = std::isinf(param.defaultValue) ? 0.0 : param.defaultValue;
      }
      continue;
    }
    std::string savedLabel = label;
    if (spec.role == BuiltinSpec::Distribution && param.kind == ArgKind::Tensor)
      label = param.name; // `normal(mu = dense(h, 20))` names `encoder.mu`
    SemaType type = check(*arg);
    label = savedLabel;
    if (type.isError()) {
      ok = false;
      continue;
    }
    bool isTensor = type.kind == SemaType::Tensor;
    bool isNumber = type.kind == SemaType::Number;
    switch (param.kind) {
    case ArgKind::Tensor:
      if (!isTensor) {
        diags.error(arg->loc, what + " must be a tensor, got " + type.str());
        ok = false;
      }
      break;
    case ArgKind::TensorOrNumber:
      if (!isTensor && !isNumber) {
        diags.error(arg->loc, what + " must be a tensor or a number, got " + type.str());
        ok = false;
      }
      break;
    case ArgKind::Number:
      if (!isNumber) {
        diags.error(arg->loc, what + " must be a constant number, got " + type.str());
        ok = false;
      }
      break;
    case ArgKind::Sizes:
      if (type.kind != SemaType::Shape) {
        diags.error(arg->loc, what + " must be a list of sizes like [32, 7, 7], got " + type.str());
        ok = false;
      }
      break;
    case ArgKind::Count:
    case ArgKind::Offset: {
      int least = param.kind == ArgKind::Count ? 1 : 0;
      if (!isNumber || !isIntegral(type.value) || type.value < least ||
          type.value > Limits::kMaxDim) {
        diags.error(arg->loc, what + " must be an integer in [" + std::to_string(least) + ", " +
                                  std::to_string(Limits::kMaxDim) + "], got " + type.str());
        ok = false;
      }
      break;
    }
    }
  }
  return ok;
}

/// Folds `f(x)` for a scalar argument, so `exp(-1)` is a plain number
/// (`alpha`: leaky_relu's and elu's slope, clamp's lower bound; `beta`:
/// clamp's upper bound).
static double foldElementwise(llvm::StringRef name, double x, double alpha, double beta) {
  if (name == "relu")
    return x > 0 ? x : 0;
  if (name == "tanh")
    return std::tanh(x);
  if (name == "sigmoid")
    return 1 / (1 + std::exp(-x));
  if (name == "softplus")
    return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
  if (name == "exp")
    return std::exp(x);
  if (name == "log")
    return std::log(x);
  if (name == "leaky_relu")
    return x > 0 ? x : alpha * x;
  if (name == "elu")
    return x > 0 ? x : alpha * std::expm1(x);
  if (name == "clamp")
    return std::min(std::max(x, alpha), beta);
  return x;
}

/// min(a, b) and max(a, b): as a binary operator, tensors of one shape or a
/// tensor and a number; two numbers fold.
SemaType Checker::checkMinMax(CallExpr &call) {
  const SemaType &a = call.operand(0)->type, &b = call.operand(1)->type;
  if (a.kind == SemaType::Number && b.kind == SemaType::Number)
    return SemaType::number(call.callee == "min" ? std::min(a.value, b.value)
                                                 : std::max(a.value, b.value),
                            a.isInteger && b.isInteger);
  if (a.kind == SemaType::Tensor && b.kind == SemaType::Tensor && a.shape != b.shape) {
    diags.error(call.loc,
                "shape mismatch in '" + call.callee + "': " + a.str() + " and " + b.str());
    return SemaType::error();
  }
  return a.kind == SemaType::Tensor ? a : b;
}

SemaType Checker::checkCall(CallExpr &call, bool allowDistribution) {
  const BuiltinSpec *spec = findBuiltin(expressionBuiltins(), call.callee);
  if (!spec) {
    diags.error(call.loc, "unknown function '" + call.callee + "'" +
                              suggestionOrList(call.callee, namesOf(expressionBuiltins()),
                                               "the functions are"));
    return SemaType::error();
  }
  if (spec->role == BuiltinSpec::Distribution && !allowDistribution) {
    diags.error(call.loc, "'" + call.callee +
                              "' builds a distribution; only the encoder's and "
                              "decoder's return statements may do that");
    return SemaType::error();
  }
  if (!bindArguments(call, *spec))
    return SemaType::error();

  switch (spec->role) {
  case BuiltinSpec::Distribution: {
    SemaType type{SemaType::Distribution};
    type.distribution = call.callee;
    return type;
  }
  case BuiltinSpec::Binary:
    return checkMinMax(call);
  case BuiltinSpec::Elementwise: {
    SemaType input = call.operand(0)->type;
    double alpha = call.resolved.size() > 1 ? call.number(1) : 0.0;
    double beta = call.resolved.size() > 2 ? call.number(2) : 0.0;
    if (call.callee == "clamp" && alpha > beta) {
      diags.error(call.loc,
                  "clamp's min " + formatNumber(alpha) + " is above its max " + formatNumber(beta));
      return SemaType::error();
    }
    if (input.kind == SemaType::Number) {
      double value = foldElementwise(call.callee, input.value, alpha, beta);
      if (!std::isfinite(value)) {
        diags.error(call.loc, "'" + call.callee + "' of " + formatNumber(input.value) +
                                  " is not a finite number");
        return SemaType::error();
      }
      return SemaType::number(value, false);
    }
    return input;
  }
  case BuiltinSpec::Conv:
    return checkConv(call);
  case BuiltinSpec::Reshape: {
    const SemaType &input = call.operand(0)->type;
    int64_t elements = numElements(input.shape);
    if (call.callee == "flatten")
      return SemaType::tensor({elements});
    const SemaType &target = call.operand(1)->type;
    if (numElements(target.shape) != elements) {
      diags.error(call.loc, "reshape of " + input.str() + " (" + std::to_string(elements) +
                                " elements) to " + shapeString(target.shape) + " (" +
                                std::to_string(numElements(target.shape)) +
                                " elements): the number of elements must not change");
      return SemaType::error();
    }
    return SemaType::tensor(target.shape);
  }
  case BuiltinSpec::Layer: {
    SemaType input = call.operand(0)->type;
    int64_t units = static_cast<int64_t>(call.number(1));
    if (input.shape.size() != 1) {
      diags.error(call.operand(0)->loc, "dense expects a rank-1 input (features of one example), "
                                        "got " +
                                            input.str() + "; flatten(...) makes it one");
      return SemaType::error();
    }
    int64_t fanIn = input.shape[0];
    if (fanIn * units > Limits::kMaxParamElements) {
      diags.error(call.loc,
                  "dense weight " + shapeString({fanIn, units}) + " has more than 2^28 elements");
      return SemaType::error();
    }
    std::string name = newParamName(label);
    call.paramIndex = static_cast<int>(module.params.size());
    module.params.push_back({name + ".weight", {fanIn, units}, fanIn, call.loc, inEncoder});
    module.params.push_back({name + ".bias", {units}, fanIn, call.loc, inEncoder});
    return SemaType::tensor({units});
  }
  }
  return SemaType::error();
}

/// conv2d(x, filters, kernel, stride, padding) and conv2d_transpose(...,
/// output_padding) of an image x: f32[C, H, W]. The weights are PyTorch's
/// (Conv2d: [filters, C, k, k]; ConvTranspose2d: [C, filters, k, k]) and so
/// is their initialization: uniform in ±1/sqrt(fan_in), fan_in C·k·k for
/// conv2d and filters·k·k for conv2d_transpose (PyTorch reads it from the
/// weight's second dimension).
SemaType Checker::checkConv(CallExpr &call) {
  bool transpose = call.callee == "conv2d_transpose";
  const SemaType &input = call.operand(0)->type;
  auto count = [&](size_t i) { return static_cast<int64_t>(call.number(i)); };
  int64_t filters = count(1), kernel = count(2), stride = count(3), padding = count(4);
  int64_t outputPadding = transpose ? count(5) : 0;
  if (input.shape.size() != 3) {
    diags.error(call.operand(0)->loc,
                call.callee + " expects an image [channels, height, width], got " + input.str() +
                    (input.shape.size() == 1 ? "; reshape(..., [C, H, W]) makes it one" : ""));
    return SemaType::error();
  }
  int64_t channels = input.shape[0];
  std::vector<int64_t> out{filters, 0, 0};
  for (int d = 0; d < 2; ++d) {
    int64_t size = input.shape[1 + d];
    const char *dimension = d == 0 ? "height" : "width";
    if (!transpose) {
      if (kernel > size + 2 * padding) {
        diags.error(call.loc, "conv2d kernel " + std::to_string(kernel) +
                                  " is larger than the padded input: " + input.str() +
                                  " with padding " + std::to_string(padding) + " has " + dimension +
                                  " " + std::to_string(size + 2 * padding));
        return SemaType::error();
      }
      out[1 + d] = (size + 2 * padding - kernel) / stride + 1;
    } else {
      if (outputPadding >= stride) {
        diags.error(call.loc, "conv2d_transpose output_padding " + std::to_string(outputPadding) +
                                  " must be smaller than its stride " + std::to_string(stride));
        return SemaType::error();
      }
      out[1 + d] = (size - 1) * stride - 2 * padding + kernel + outputPadding;
      if (out[1 + d] < 1 || out[1 + d] > Limits::kMaxDim) {
        diags.error(call.loc, "conv2d_transpose of " + input.str() + " would have " + dimension +
                                  " " + std::to_string(out[1 + d]) +
                                  " ((size - 1) * stride - 2 * padding + kernel + "
                                  "output_padding)");
        return SemaType::error();
      }
    }
  }
  int64_t fanIn = (transpose ? filters : channels) * kernel * kernel;
  std::vector<int64_t> weight = transpose ? std::vector<int64_t>{channels, filters, kernel, kernel}
                                          : std::vector<int64_t>{filters, channels, kernel, kernel};
  if (channels * filters * kernel * kernel > Limits::kMaxParamElements ||
      filters * out[1] * out[2] > Limits::kMaxDim) {
    diags.error(call.loc, call.callee + " of " + input.str() + " with " + std::to_string(filters) +
                              " filters of " + std::to_string(kernel) + "x" +
                              std::to_string(kernel) +
                              " is too large (weight or output over the limits)");
    return SemaType::error();
  }
  std::string name = newParamName(label);
  call.paramIndex = static_cast<int>(module.params.size());
  module.params.push_back({name + ".weight", weight, fanIn, call.loc, inEncoder});
  module.params.push_back({name + ".bias", {filters}, fanIn, call.loc, inEncoder});
  return SemaType::tensor(out);
}

//===----------------------------------------------------------------------===//
// Public entry points
//===----------------------------------------------------------------------===//

std::string vaec::shapeString(const std::vector<int64_t> &shape) {
  std::string s = "f32[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string vaec::formatNumber(double value) {
  // Whole numbers without an exponent up to 1e15; else the shortest text
  // that reads back exactly.
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

std::string SemaType::str() const {
  switch (kind) {
  case Unknown:
    return "an unchecked value";
  case Error:
    return "an invalid value";
  case Number:
    return "the number " + formatNumber(value);
  case Tensor:
    return shapeString(shape);
  case Distribution:
    return "a " + distribution + " distribution";
  case Shape: {
    std::string sizes = "the sizes [";
    for (size_t i = 0; i < shape.size(); ++i)
      sizes += (i ? ", " : "") + std::to_string(shape[i]);
    return sizes + "]";
  }
  }
  return "";
}

bool vaec::analyze(Module &module, DiagnosticEngine &diags, std::optional<int64_t> batchOverride) {
  unsigned before = diags.errorCount();
  Checker(module, diags).run(batchOverride);
  return diags.errorCount() == before;
}
