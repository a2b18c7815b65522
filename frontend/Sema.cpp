//===- Sema.cpp - VDL semantic checks -------------------------------------===//

#include "frontend/Sema.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <limits>

using namespace vaec;
using llvm::SMLoc;

namespace {

//===----------------------------------------------------------------------===//
// Builtin signatures
//===----------------------------------------------------------------------===//

/// Count: an integer >= 1; Offset: an integer >= 0 (a padding).
enum class ArgKind { Tensor, TensorOrNumber, Number, Count, Offset, Sizes };
constexpr double kNoDefault = std::numeric_limits<double>::quiet_NaN();
/// A parameter that may be left out without a value (gaussian's logvar/sigma).
constexpr double kOptional = std::numeric_limits<double>::infinity();

struct ParamSpec {
  const char *name;
  ArgKind kind;
  double defaultValue = kNoDefault;
  bool required() const { return std::isnan(defaultValue); }
};

struct BuiltinSpec {
  const char *name;
  /// Reshape: the same elements in another shape (flatten, reshape).
  /// Conv: a convolution of an image [channels, height, width].
  enum Role { Layer, Elementwise, Distribution, Reshape, Conv } role;
  std::vector<ParamSpec> params;
};

const std::vector<BuiltinSpec> &expressionBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"dense", BuiltinSpec::Layer,
       {{"x", ArgKind::Tensor}, {"units", ArgKind::Count}}},
      {"conv2d", BuiltinSpec::Conv,
       {{"x", ArgKind::Tensor},
        {"filters", ArgKind::Count},
        {"kernel", ArgKind::Count, 3},
        {"stride", ArgKind::Count, 1},
        {"padding", ArgKind::Offset, 0}}},
      {"conv2d_transpose", BuiltinSpec::Conv,
       {{"x", ArgKind::Tensor},
        {"filters", ArgKind::Count},
        {"kernel", ArgKind::Count, 3},
        {"stride", ArgKind::Count, 1},
        {"padding", ArgKind::Offset, 0},
        {"output_padding", ArgKind::Offset, 0}}},
      {"flatten", BuiltinSpec::Reshape, {{"x", ArgKind::Tensor}}},
      {"reshape", BuiltinSpec::Reshape, {{"x", ArgKind::Tensor}, {"shape", ArgKind::Sizes}}},
      {"relu", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"tanh", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"sigmoid", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"softplus", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"exp", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"log", BuiltinSpec::Elementwise, {{"x", ArgKind::TensorOrNumber}}},
      {"leaky_relu", BuiltinSpec::Elementwise,
       {{"x", ArgKind::TensorOrNumber}, {"alpha", ArgKind::Number, 0.01}}},
      {"elu", BuiltinSpec::Elementwise,
       {{"x", ArgKind::TensorOrNumber}, {"alpha", ArgKind::Number, 1.0}}},
      {"normal", BuiltinSpec::Distribution,
       {{"mu", ArgKind::Tensor}, {"logvar", ArgKind::Tensor}}},
      {"bernoulli", BuiltinSpec::Distribution, {{"logits", ArgKind::Tensor}}},
      {"gaussian", BuiltinSpec::Distribution,
       {{"mean", ArgKind::Tensor},
        {"logvar", ArgKind::Tensor, kOptional},
        {"sigma", ArgKind::Number, kOptional}}},
  };
  return specs;
}

const BuiltinSpec kPriorNormal = {
    "normal", BuiltinSpec::Distribution,
    {{"mean", ArgKind::Number}, {"std", ArgKind::Number}}};

const std::vector<BuiltinSpec> &optimizerBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"adam", BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number, 1e-3},
        {"beta1", ArgKind::Number, 0.9},
        {"beta2", ArgKind::Number, 0.999},
        {"eps", ArgKind::Number, 1e-8}}},
      {"adamw", BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number, 1e-3},
        {"beta1", ArgKind::Number, 0.9},
        {"beta2", ArgKind::Number, 0.999},
        {"eps", ArgKind::Number, 1e-8},
        {"weight_decay", ArgKind::Number, 0.01}}},
      {"sgd", BuiltinSpec::Elementwise,
       {{"lr", ArgKind::Number}, {"momentum", ArgKind::Number, 0.0}}},
  };
  return specs;
}

/// `schedule ...`: the learning rate of each step, set by the runtime;
/// `warmup` epochs of linear warm-up from 0 first.
const std::vector<BuiltinSpec> &scheduleBuiltins() {
  static const std::vector<BuiltinSpec> specs = {
      {"constant", BuiltinSpec::Elementwise, {{"warmup", ArgKind::Number, 0.0}}},
      {"cosine", BuiltinSpec::Elementwise,
       {{"warmup", ArgKind::Number, 0.0}, {"min_lr", ArgKind::Number, 0.0}}},
      {"step", BuiltinSpec::Elementwise,
       {{"every", ArgKind::Number},
        {"gamma", ArgKind::Number, 0.1},
        {"warmup", ArgKind::Number, 0.0}}},
  };
  return specs;
}

const BuiltinSpec kElboLoss = {
    "elbo", BuiltinSpec::Elementwise,
    {{"beta", ArgKind::Number, 1.0}, {"warmup", ArgKind::Number, 0.0}}};

const BuiltinSpec *findBuiltin(const std::vector<BuiltinSpec> &specs,
                               llvm::StringRef name) {
  for (const BuiltinSpec &spec : specs)
    if (name == spec.name)
      return &spec;
  return nullptr;
}

/// " (did you mean 'relu'?)" when a candidate is within two edits.
template <typename Range>
std::string suggestion(llvm::StringRef name, const Range &candidates) {
  std::string best;
  unsigned bestDistance = 3;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    // Only suggest when the edit is small against the name (`q` is not a
    // typo of `x`).
    if (distance < bestDistance && candidate != name &&
        2 * distance <= name.size()) {
      bestDistance = distance;
      best = candidate.str();
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

/// suggestion(), or where no candidate is close, all of them: "; the
/// parameters of 'leaky_relu' are: x, alpha".
template <typename Range>
std::string suggestionOrList(llvm::StringRef name, const Range &candidates,
                             llvm::StringRef what) {
  std::string close = suggestion(name, candidates);
  if (!close.empty() || std::begin(candidates) == std::end(candidates))
    return close;
  std::string list;
  for (llvm::StringRef candidate : candidates)
    list += (list.empty() ? "" : ", ") + candidate.str();
  return "; " + what.str() + ": " + list;
}

std::vector<llvm::StringRef> namesOf(const std::vector<BuiltinSpec> &specs) {
  std::vector<llvm::StringRef> names;
  for (const BuiltinSpec &spec : specs)
    names.push_back(spec.name);
  return names;
}

/// Elements of a tensor of `shape`, saturating (sizes are at most 2^24 each).
int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t elements = 1;
  for (int64_t size : shape)
    elements = elements > std::numeric_limits<int64_t>::max() / size
                   ? std::numeric_limits<int64_t>::max()
                   : elements * size;
  return elements;
}

bool isIntegral(double value) {
  return std::isfinite(value) && value == std::floor(value);
}

//===----------------------------------------------------------------------===//
// The checker
//===----------------------------------------------------------------------===//

struct Binding {
  SemaType type;
  SMLoc loc;
};

class Checker {
public:
  Checker(Module &module, DiagnosticEngine &diags)
      : module(module), diags(diags) {}

  void run(std::optional<int64_t> batchOverride);

private:
  void checkDeclarations();
  void checkBlock(Block &block, bool isEncoder, const SemaType &argType,
                  llvm::StringRef expectedParam, llvm::StringRef paramKind);
  void checkPosterior(CallExpr &call);
  void checkLikelihood(CallExpr &call);
  void checkPrior();
  void checkTrain(std::optional<int64_t> batchOverride);

  SemaType check(Expr &expr, bool allowDistribution = false);
  SemaType checkCall(CallExpr &call, bool allowDistribution);
  SemaType checkBinary(BinaryExpr &binary);
  /// Binds `call`'s arguments to `spec`'s parameters and checks their kinds.
  bool bindArguments(CallExpr &call, const BuiltinSpec &spec);
  SemaType checkConstant(Expr &expr, llvm::StringRef what);
  std::optional<int64_t> checkCount(Expr &expr, llvm::StringRef what,
                                    int64_t min, int64_t max);
  std::string newParamName(llvm::StringRef label);
  SemaType checkConv(CallExpr &call);

  Module &module;
  DiagnosticEngine &diags;

  // State of the block being checked.
  llvm::StringMap<Binding> scope;
  std::string blockName;
  std::string label; // names the dense layers of the statement
  bool inEncoder = false;
  llvm::StringSet<> usedParamNames;
};

void Checker::run(std::optional<int64_t> batchOverride) {
  checkDeclarations();
  if (!module.input || !module.latent)
    return checkTrain(batchOverride);
  SemaType inputType = SemaType::tensor(module.input->shape);
  SemaType latentType = SemaType::tensor({module.latent->size});
  if (module.encoder)
    checkBlock(*module.encoder, true, inputType, module.input->name, "input");
  if (module.decoder)
    checkBlock(*module.decoder, false, latentType, module.latent->name,
               "latent variable");
  checkPrior();
  checkTrain(batchOverride);
}

void Checker::checkDeclarations() {
  if (module.name.empty()) {
    diags.error(SMLoc::getFromPointer(
                    diags.getSourceMgr()
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
      diags.error(input.elementTypeLoc, "unsupported element type '" +
                                            input.elementType +
                                            "'; inputs are f32");
    int64_t elements = 1;
    for (size_t i = 0; i < input.shape.size(); ++i) {
      if (input.shape[i] <= 0 || input.shape[i] > Limits::kMaxDim) {
        diags.error(input.dimLocs[i],
                    "input dimension must be in [1, " +
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
  } else if (module.latent->size <= 0 ||
             module.latent->size > Limits::kMaxDim) {
    diags.error(module.latent->sizeLoc,
                "latent size must be in [1, " + llvm::Twine(Limits::kMaxDim) +
                    "], got " + llvm::Twine(module.latent->size));
    module.latent->size = 1;
  }
  if (module.input && module.latent &&
      module.input->name == module.latent->name) {
    diags.error(module.latent->loc, "latent variable '" + module.latent->name +
                                        "' has the name of the input");
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
                         llvm::StringRef expectedParam,
                         llvm::StringRef paramKind) {
  scope.clear();
  blockName = isEncoder ? "encoder" : "decoder";
  inEncoder = isEncoder;
  if (block.param != expectedParam) {
    diags.error(block.paramLoc, "the " + blockName + " takes the " +
                                    paramKind + " '" + expectedParam +
                                    "', not '" + block.param + "'");
    // Bind the declared name too, so its uses report nothing further.
    scope[expectedParam] = {argType, block.paramLoc};
  }
  scope[block.param] = {argType, block.paramLoc};

  const Stmt *returnStmt = nullptr;
  for (Stmt &stmt : block.stmts) {
    if (returnStmt) {
      diags.error(stmt.loc, "statement after the " + blockName +
                                "'s return is never reached");
      break;
    }
    if (stmt.isReturn) {
      returnStmt = &stmt;
      label = "out";
      SemaType type = check(*stmt.value, /*allowDistribution=*/true);
      if (type.isError())
        continue;
      auto *call = llvm::dyn_cast<CallExpr>(stmt.value.get());
      llvm::StringRef expected =
          isEncoder ? "a normal(mu = ..., logvar = ...) posterior"
                    : "a likelihood: bernoulli(logits = ...) or "
                      "gaussian(mean = ..., logvar | sigma = ...)";
      if (type.kind != SemaType::Distribution) {
        diags.error(stmt.value->loc, "the " + blockName + " must return " +
                                         expected + ", not " + type.str());
      } else if (isEncoder) {
        if (call->callee != "normal")
          diags.error(call->loc, "the encoder must return " + expected +
                                     ", not " + call->callee);
        else
          checkPosterior(*call);
      } else {
        if (call->callee == "normal")
          diags.error(call->loc, "the decoder must return " + expected +
                                     ", not normal");
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
    if (arg->type.kind == SemaType::Tensor &&
        arg->type.shape != std::vector<int64_t>{latent.size})
      diags.error(arg->loc, llvm::Twine("posterior ") +
                                findBuiltin(expressionBuiltins(), "normal")->params[i].name +
                                " has shape " + arg->type.str() +
                                " but the latent '" + latent.name +
                                "' has size " + llvm::Twine(latent.size));
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
      diags.error(arg->loc, "likelihood parameter has shape " +
                                arg->type.str() + " but the input '" +
                                module.input->name + "' is " +
                                SemaType::tensor(inputShape).str() + hint);
    }
  }
  if (call.callee == "gaussian") {
    bool hasLogvar = call.operand(1) != nullptr;
    bool hasSigma = call.operand(2) != nullptr;
    if (hasLogvar == hasSigma)
      diags.error(call.loc, "gaussian takes exactly one of 'logvar' (learned "
                            "variance) or 'sigma' (fixed)");
    if (hasSigma && !(call.number(2) > 0))
      diags.error(call.operand(2)->loc,
                  "sigma must be positive, got " +
                      formatNumber(call.number(2)));
  }
}

void Checker::checkPrior() {
  if (!module.prior)
    return;
  auto *call = llvm::dyn_cast<CallExpr>(module.prior.get());
  if (!call || call->callee != "normal") {
    diags.error(module.prior->loc,
                "unsupported prior; expected normal(mean, std), e.g. "
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
                "prior standard deviation must be positive, got " +
                    formatNumber(module.priorStd));
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
    diags.error(binary.loc,
                "operator '" + op + "' cannot take a distribution");
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
    case '+': value = lhs.value + rhs.value; break;
    case '-': value = lhs.value - rhs.value; break;
    case '*': value = lhs.value * rhs.value; break;
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
    return SemaType::number(value, lhs.isInteger && rhs.isInteger &&
                                       binary.op != '/');
  }
  if (lhs.kind == SemaType::Tensor && rhs.kind == SemaType::Tensor &&
      lhs.shape != rhs.shape) {
    diags.error(binary.loc, "shape mismatch in '" + op + "': " + lhs.str() +
                                " and " + rhs.str());
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
        diags.error(arg.loc, llvm::formatv("'{0}' takes at most {1} argument{2}",
                                           spec.name, numParams,
                                           numParams == 1 ? "" : "s")
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
                                 suggestionOrList(arg.keyword, names,
                                                  "its parameters are"));
        ok = false;
        continue;
      }
    }
    if (call.resolved[index]) {
      diags.error(arg.loc, "argument '" + llvm::Twine(spec.params[index].name) +
                               "' of '" + spec.name + "' is given twice");
      ok = false;
      continue;
    }
    call.resolved[index] = arg.value.get();
  }
  for (size_t i = 0; i < numParams; ++i) {
    const ParamSpec &param = spec.params[i];
    std::string what = "argument '" + std::string(param.name) + "' of '" +
                       spec.name + "'";
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
        diags.error(arg->loc, what + " must be a tensor or a number, got " +
                                  type.str());
        ok = false;
      }
      break;
    case ArgKind::Number:
      if (!isNumber) {
        diags.error(arg->loc, what + " must be a constant number, got " +
                                  type.str());
        ok = false;
      }
      break;
    case ArgKind::Sizes:
      if (type.kind != SemaType::Shape) {
        diags.error(arg->loc, what + " must be a list of sizes like [32, 7, 7], got " +
                                  type.str());
        ok = false;
      }
      break;
    case ArgKind::Count:
    case ArgKind::Offset: {
      int least = param.kind == ArgKind::Count ? 1 : 0;
      if (!isNumber || !isIntegral(type.value) || type.value < least ||
          type.value > Limits::kMaxDim) {
        diags.error(arg->loc, what + " must be an integer in [" + std::to_string(least) +
                                  ", " + std::to_string(Limits::kMaxDim) + "], got " +
                                  type.str());
        ok = false;
      }
      break;
    }
    }
  }
  return ok;
}

/// Folds `f(x)` for a scalar argument, so `exp(-1)` is a plain number.
double foldElementwise(llvm::StringRef name, double x, double alpha) {
  if (name == "relu") return x > 0 ? x : 0;
  if (name == "tanh") return std::tanh(x);
  if (name == "sigmoid") return 1 / (1 + std::exp(-x));
  if (name == "softplus") return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
  if (name == "exp") return std::exp(x);
  if (name == "log") return std::log(x);
  if (name == "leaky_relu") return x > 0 ? x : alpha * x;
  if (name == "elu") return x > 0 ? x : alpha * std::expm1(x);
  return x;
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
  case BuiltinSpec::Elementwise: {
    SemaType input = call.operand(0)->type;
    double alpha = call.resolved.size() > 1 ? call.number(1) : 0.0;
    if (input.kind == SemaType::Number) {
      double value = foldElementwise(call.callee, input.value, alpha);
      if (!std::isfinite(value)) {
        diags.error(call.loc, "'" + call.callee + "' of " +
                                  formatNumber(input.value) +
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
      diags.error(call.operand(0)->loc,
                  "dense expects a rank-1 input (features of one example), "
                  "got " + input.str() + "; flatten(...) makes it one");
      return SemaType::error();
    }
    int64_t fanIn = input.shape[0];
    if (fanIn * units > Limits::kMaxParamElements) {
      diags.error(call.loc, "dense weight " + shapeString({fanIn, units}) +
                                " has more than 2^28 elements");
      return SemaType::error();
    }
    std::string name = newParamName(label);
    call.paramIndex = static_cast<int>(module.params.size());
    module.params.push_back({name + ".weight", {fanIn, units}, fanIn, call.loc,
                             inEncoder});
    module.params.push_back({name + ".bias", {units}, fanIn, call.loc,
                             inEncoder});
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
                call.callee + " expects an image [channels, height, width], got " +
                    input.str() +
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
                                  " with padding " + std::to_string(padding) + " has " +
                                  dimension + " " + std::to_string(size + 2 * padding));
        return SemaType::error();
      }
      out[1 + d] = (size + 2 * padding - kernel) / stride + 1;
    } else {
      if (outputPadding >= stride) {
        diags.error(call.loc, "conv2d_transpose output_padding " +
                                  std::to_string(outputPadding) +
                                  " must be smaller than its stride " + std::to_string(stride));
        return SemaType::error();
      }
      out[1 + d] = (size - 1) * stride - 2 * padding + kernel + outputPadding;
      if (out[1 + d] < 1 || out[1 + d] > Limits::kMaxDim) {
        diags.error(call.loc, "conv2d_transpose of " + input.str() + " would have " +
                                  dimension + " " + std::to_string(out[1 + d]) +
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
    diags.error(call.loc, call.callee + " of " + input.str() + " with " +
                              std::to_string(filters) + " filters of " +
                              std::to_string(kernel) + "x" + std::to_string(kernel) +
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
// train { ... }
//===----------------------------------------------------------------------===//

SemaType Checker::checkConstant(Expr &expr, llvm::StringRef what) {
  SemaType type = check(expr);
  if (!type.isError() && type.kind != SemaType::Number) {
    diags.error(expr.loc, what + " must be a constant number, got " +
                              type.str());
    return SemaType::error();
  }
  return type;
}

std::optional<int64_t> Checker::checkCount(Expr &expr, llvm::StringRef what,
                                           int64_t min, int64_t max) {
  SemaType type = checkConstant(expr, what);
  if (type.isError())
    return std::nullopt;
  if (!isIntegral(type.value) || type.value < static_cast<double>(min) ||
      type.value > static_cast<double>(max)) {
    diags.error(expr.loc, what + " must be an integer in [" +
                              llvm::Twine(min) + ", " + llvm::Twine(max) +
                              "], got " + formatNumber(type.value));
    return std::nullopt;
  }
  return static_cast<int64_t>(type.value);
}

void Checker::checkTrain(std::optional<int64_t> batchOverride) {
  scope.clear();
  static const char *const keys[] = {"optimizer", "batch",    "epochs",           "loss",
                                     "seed",      "schedule", "clip_grad_norm",   "validation_split",
                                     "patience"};
  llvm::StringMap<SMLoc> seen;
  TrainConfig &train = module.train;
  for (Setting &setting : module.settings) {
    auto [it, inserted] = seen.try_emplace(setting.key, setting.loc);
    if (!inserted) {
      diags.error(setting.loc, "train setting '" + setting.key +
                                   "' is given twice");
      diags.note(it->second, "first given here");
      continue;
    }
    Expr &value = *setting.value;
    if (setting.key == "batch") {
      if (auto n = checkCount(value, "batch", 1, Limits::kMaxBatch))
        train.batch = *n;
    } else if (setting.key == "epochs") {
      if (auto n = checkCount(value, "epochs", 1, 1000000))
        train.epochs = *n;
    } else if (setting.key == "seed") {
      if (auto n = checkCount(value, "seed", 0, (int64_t{1} << 53)))
        train.seed = *n;
    } else if (setting.key == "clip_grad_norm") {
      SemaType type = checkConstant(value, "clip_grad_norm");
      if (type.isError())
        continue;
      if (type.value > 0 && std::isfinite(type.value))
        train.clipGradNorm = type.value;
      else
        diags.error(value.loc, "clip_grad_norm must be positive, got " +
                                   formatNumber(type.value));
    } else if (setting.key == "validation_split") {
      SemaType type = checkConstant(value, "validation_split");
      if (type.isError())
        continue;
      if (type.value > 0 && type.value < 1)
        train.valFraction = type.value;
      else
        diags.error(value.loc, "validation_split must be in (0, 1), got " +
                                   formatNumber(type.value));
    } else if (setting.key == "patience") {
      if (auto n = checkCount(value, "patience", 0, 1000000))
        train.patience = *n;
    } else if (setting.key == "optimizer" || setting.key == "loss" ||
               setting.key == "schedule") {
      llvm::StringRef key = setting.key;
      auto *call = llvm::dyn_cast<CallExpr>(&value);
      std::vector<llvm::StringRef> names =
          key == "optimizer"  ? namesOf(optimizerBuiltins())
          : key == "schedule" ? namesOf(scheduleBuiltins())
                              : std::vector<llvm::StringRef>{"elbo"};
      const BuiltinSpec *spec =
          !call                ? nullptr
          : key == "optimizer" ? findBuiltin(optimizerBuiltins(), call->callee)
          : key == "schedule"  ? findBuiltin(scheduleBuiltins(), call->callee)
                               : (call->callee == "elbo" ? &kElboLoss : nullptr);
      if (!spec) {
        llvm::StringRef expected =
            key == "optimizer"  ? "an optimizer: adam(...), adamw(...) or sgd(lr = ...)"
            : key == "schedule" ? "a schedule: constant(...), cosine(...) or step(every = ...)"
                                : "elbo(beta = ..., warmup = ...)";
        std::string found =
            call ? "'" + call->callee + "'" + suggestion(call->callee, names) : "an expression";
        diags.error(value.loc, "expected " + expected + ", found " + found);
        continue;
      }
      if (!bindArguments(*call, *spec))
        continue;
      auto positive = [&](size_t i, const char *what) {
        if (call->number(i) > 0)
          return true;
        diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                    llvm::Twine(what) + " must be positive, got " +
                        formatNumber(call->number(i)));
        return false;
      };
      auto unitInterval = [&](size_t i, const char *what) {
        double v = call->number(i);
        if (v >= 0 && v < 1)
          return true;
        diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                    llvm::Twine(what) + " must be in [0, 1), got " +
                        formatNumber(v));
        return false;
      };
      auto nonNegative = [&](size_t i, const char *what) {
        if (call->number(i) >= 0 && std::isfinite(call->number(i)))
          return true;
        diags.error(call->operand(i) ? call->operand(i)->loc : call->loc,
                    llvm::Twine(what) + " must be non-negative, got " +
                        formatNumber(call->number(i)));
        return false;
      };
      if (key == "schedule") {
        train.schedule = call->callee;
        size_t warmup = call->callee == "step" ? 2 : 0;
        if (nonNegative(warmup, "the learning-rate warm-up"))
          train.lrWarmup = call->number(warmup);
        if (call->callee == "cosine" && nonNegative(1, "min_lr"))
          train.lrMin = call->number(1);
        if (call->callee == "step") {
          if (positive(0, "every (epochs)"))
            train.lrStepEpochs = call->number(0);
          if (positive(1, "gamma"))
            train.lrGamma = call->number(1);
        }
      } else if (call->callee == "adam" || call->callee == "adamw") {
        train.optimizer = call->callee;
        if (positive(0, "learning rate"))
          train.lr = call->number(0);
        if (unitInterval(1, "beta1"))
          train.beta1 = call->number(1);
        if (unitInterval(2, "beta2"))
          train.beta2 = call->number(2);
        if (positive(3, "eps"))
          train.eps = call->number(3);
        if (call->callee == "adamw" && nonNegative(4, "weight_decay"))
          train.weightDecay = call->number(4);
      } else if (call->callee == "sgd") {
        train.optimizer = "sgd";
        if (positive(0, "learning rate"))
          train.lr = call->number(0);
        if (unitInterval(1, "momentum"))
          train.momentum = call->number(1);
      } else {
        double beta = call->number(0), warmup = call->number(1);
        if (beta >= 0)
          train.beta = beta;
        else
          diags.error(call->operand(0)->loc,
                      "beta must be non-negative, got " + formatNumber(beta));
        if (isIntegral(warmup) && warmup >= 0 && warmup <= 1000000)
          train.warmup = static_cast<int64_t>(warmup);
        else
          diags.error(call->operand(1)->loc,
                      "warmup must be a whole number of epochs in [0, "
                      "1000000], got " + formatNumber(warmup));
      }
    } else {
      diags.error(setting.loc, "unknown train setting '" + setting.key + "'" +
                                   suggestionOrList(setting.key, keys,
                                                    "the train settings are"));
    }
  }
  if (batchOverride)
    train.batch = *batchOverride;
}

} // namespace

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
  case Unknown: return "an unchecked value";
  case Error: return "an invalid value";
  case Number: return "the number " + formatNumber(value);
  case Tensor: return shapeString(shape);
  case Distribution: return "a " + distribution + " distribution";
  case Shape: {
    std::string sizes = "the sizes [";
    for (size_t i = 0; i < shape.size(); ++i)
      sizes += (i ? ", " : "") + std::to_string(shape[i]);
    return sizes + "]";
  }
  }
  return "";
}

bool vaec::analyze(Module &module, DiagnosticEngine &diags,
                   std::optional<int64_t> batchOverride) {
  unsigned before = diags.errorCount();
  Checker(module, diags).run(batchOverride);
  return diags.errorCount() == before;
}
