//===- MLIRGen.cpp - VDL AST to the vdl dialect ---------------------------===//
//
// For a model with parameters P, input x: f32[D...], latent z: f32[L] and
// batch B, emits
//
//   func.func @encode(P_enc..., %x: tensor<BxD>) -> (mu, logvar)
//   func.func @decode(P_dec..., %z: tensor<BxL>) -> likelihood parameters
//   func.func @loss(P..., %x: tensor<BxD>, %eps: tensor<BxL>)
//       -> (loss, reconstruction, kl)      all tensor<f32>, nats per example
//   func.func @score(P..., %x, %eps)
//       -> (loss, reconstruction, kl)      all tensor<B>, one per example
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace vaec;
namespace vdl = vaec::vdl;

namespace {

/// A distribution returned by a block: its builtin and its tensor parameters
/// in signature order (absent optional parameters left out).
struct EmittedDistribution {
  std::string kind;
  SmallVector<Value> values;
  const CallExpr *call = nullptr;
};

class Generator {
public:
  Generator(MLIRContext &context, const Module &module, llvm::SourceMgr &sourceMgr)
      : builder(&context), module(module), sourceMgr(sourceMgr), batch(module.train.batch) {}

  OwningOpRef<ModuleOp> run();

private:
  Location loc(llvm::SMLoc smLoc) {
    auto [line, col] = sourceMgr.getLineAndColumn(smLoc);
    return FileLineColLoc::get(builder.getContext(), module.filename, line, col);
  }
  RankedTensorType batched(ArrayRef<int64_t> features) {
    SmallVector<int64_t> shape{batch};
    shape.append(features.begin(), features.end());
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  RankedTensorType paramType(const Param &param) {
    return RankedTensorType::get(param.shape, builder.getF32Type());
  }

  /// Creates `name(params..., inputs...)` and binds the parameters. Returns
  /// the entry block's trailing (non-parameter) arguments.
  func::FuncOp createFunction(StringRef name, llvm::SMLoc smLoc, bool encoderParams,
                              bool decoderParams,
                              ArrayRef<std::pair<StringRef, RankedTensorType>> inputs,
                              SmallVectorImpl<Value> &inputValues);
  /// Creates the function, fills it with `body(inputs)`, returns what the
  /// body yields and sets the result types.
  void emitFunction(StringRef name, llvm::SMLoc smLoc, bool encoderParams, bool decoderParams,
                    ArrayRef<std::pair<StringRef, RankedTensorType>> inputs,
                    function_ref<std::pair<SmallVector<Value>, Location>(ArrayRef<Value>)> body);
  /// Per-example log-likelihood and KL of a batch, and where they come from.
  struct PerExample {
    Value logProb, kl;
    Location llLoc, klLoc;
  };
  PerExample emitPerExample(Value x, Value eps);
  /// The body of @loss: posterior, sample, KL, likelihood, ELBO.
  std::pair<SmallVector<Value>, Location> emitLoss(Value x, Value eps);
  /// The body of @score: the loss terms of every example.
  std::pair<SmallVector<Value>, Location> emitScore(Value x, Value eps);
  EmittedDistribution emitBlock(const vaec::Block &block, Value argument);
  Value emit(const Expr &expr);
  Value splat(double value, Type type, Location location) {
    return builder.create<vdl::ConstantOp>(location, type,
                                           builder.getF32FloatAttr(static_cast<float>(value)));
  }

  OpBuilder builder;
  const Module &module;
  llvm::SourceMgr &sourceMgr;
  int64_t batch;
  llvm::StringMap<Value> scope;
  DenseMap<int, Value> paramValues;
};

func::FuncOp Generator::createFunction(StringRef name, llvm::SMLoc smLoc, bool encoderParams,
                                       bool decoderParams,
                                       ArrayRef<std::pair<StringRef, RankedTensorType>> inputs,
                                       SmallVectorImpl<Value> &inputValues) {
  MLIRContext *ctx = builder.getContext();
  SmallVector<int> used;
  for (int i = 0, e = static_cast<int>(module.params.size()); i < e; ++i)
    if (module.params[i].inEncoder ? encoderParams : decoderParams)
      used.push_back(i);

  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  for (int i : used) {
    const Param &param = module.params[i];
    argTypes.push_back(paramType(param));
    NamedAttribute attrs[] = {
        builder.getNamedAttr(vdl::VDLDialect::kParamAttrName, builder.getStringAttr(param.name)),
        builder.getNamedAttr(vdl::VDLDialect::kInitAttrName,
                             vdl::UniformFanInAttr::get(ctx, param.fanIn))};
    argAttrs.push_back(builder.getDictionaryAttr(attrs));
  }
  for (auto &[inputName, type] : inputs) {
    argTypes.push_back(type);
    argAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr(vdl::VDLDialect::kInputAttrName, builder.getStringAttr(inputName))));
  }

  auto func = builder.create<func::FuncOp>(loc(smLoc), name, builder.getFunctionType(argTypes, {}));
  func.setAllArgAttrs(argAttrs);
  mlir::Block *entry = func.addEntryBlock();
  paramValues.clear();
  for (auto [index, paramIndex] : llvm::enumerate(used)) {
    BlockArgument arg = entry->getArgument(index);
    arg.setLoc(loc(module.params[paramIndex].loc));
    paramValues[paramIndex] = arg;
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    inputValues.push_back(entry->getArgument(used.size() + i));
  builder.setInsertionPointToStart(entry);
  return func;
}

Value Generator::emit(const Expr &expr) {
  Location location = loc(expr.loc);
  switch (expr.getKind()) {
  case Expr::Number:
    llvm_unreachable("numbers are splatted by their tensor context");
  case Expr::Name:
    return scope.lookup(llvm::cast<NameExpr>(expr).name);
  case Expr::Negate:
    return builder.create<vdl::NegOp>(location, emit(*llvm::cast<NegateExpr>(expr).operand));
  case Expr::Binary: {
    auto &binary = llvm::cast<BinaryExpr>(expr);
    Type type = batched(expr.type.shape);
    auto operand = [&](const Expr &side) {
      return side.type.kind == SemaType::Number ? splat(side.type.value, type, loc(side.loc))
                                                : emit(side);
    };
    Value lhs = operand(*binary.lhs), rhs = operand(*binary.rhs);
    switch (binary.op) {
    case '+':
      return builder.create<vdl::AddOp>(location, lhs, rhs);
    case '-':
      return builder.create<vdl::SubOp>(location, lhs, rhs);
    case '*':
      return builder.create<vdl::MulOp>(location, lhs, rhs);
    default:
      return builder.create<vdl::DivOp>(location, lhs, rhs);
    }
  }
  case Expr::Call:
    break;
  case Expr::List:
    llvm_unreachable("lists are reshape's sizes, read by Sema");
  }
  auto &call = llvm::cast<CallExpr>(expr);
  StringRef callee = call.callee;
  if (callee == "dense") {
    Value input = emit(*call.operand(0));
    return builder.create<vdl::DenseOp>(location, input, paramValues.lookup(call.paramIndex),
                                        paramValues.lookup(call.paramIndex + 1));
  }
  if (callee == "conv2d" || callee == "conv2d_transpose") {
    Value input = emit(*call.operand(0));
    Type type = batched(expr.type.shape);
    Value filter = paramValues.lookup(call.paramIndex);
    Value bias = paramValues.lookup(call.paramIndex + 1);
    auto integer = [&](size_t i) {
      return builder.getI64IntegerAttr(static_cast<int64_t>(call.number(i)));
    };
    if (callee == "conv2d")
      return builder.create<vdl::Conv2DOp>(location, type, input, filter, bias, integer(3),
                                           integer(4));
    return builder.create<vdl::Conv2DTransposeOp>(location, type, input, filter, bias, integer(3),
                                                  integer(4), integer(5));
  }
  if (callee == "min" || callee == "max") {
    Type type = batched(expr.type.shape);
    auto operand = [&](const Expr &side) {
      return side.type.kind == SemaType::Number ? splat(side.type.value, type, loc(side.loc))
                                                : emit(side);
    };
    Value a = operand(*call.operand(0)), b = operand(*call.operand(1));
    if (callee == "min")
      return builder.create<vdl::MinOp>(location, a, b);
    return builder.create<vdl::MaxOp>(location, a, b);
  }
  Value x = emit(*call.operand(0));
  if (callee == "clamp") {
    // min(max(x, lo), hi): the gradient passes where lo <= x <= hi, bounds
    // included, as PyTorch's clamp's does.
    Type type = x.getType();
    Value lo = splat(call.number(1), type, location), hi = splat(call.number(2), type, location);
    return builder.create<vdl::MinOp>(location, builder.create<vdl::MaxOp>(location, x, lo), hi);
  }
  if (callee == "flatten" || callee == "reshape")
    return builder.create<vdl::ReshapeOp>(location, batched(expr.type.shape), x);
  if (callee == "relu")
    return builder.create<vdl::ReluOp>(location, x);
  if (callee == "tanh")
    return builder.create<vdl::TanhOp>(location, x);
  if (callee == "sigmoid")
    return builder.create<vdl::SigmoidOp>(location, x);
  if (callee == "softplus")
    return builder.create<vdl::SoftplusOp>(location, x);
  if (callee == "exp")
    return builder.create<vdl::ExpOp>(location, x);
  if (callee == "log")
    return builder.create<vdl::LogOp>(location, x);
  auto alpha = builder.getF32FloatAttr(static_cast<float>(call.number(1)));
  if (callee == "leaky_relu")
    return builder.create<vdl::LeakyReluOp>(location, x, alpha);
  assert(callee == "elu" && "Sema admits no other builtin here");
  return builder.create<vdl::EluOp>(location, x, alpha);
}

EmittedDistribution Generator::emitBlock(const vaec::Block &block, Value argument) {
  scope.clear();
  scope[block.param] = argument;
  for (const Stmt &stmt : block.stmts) {
    if (!stmt.isReturn) {
      // Named constants have no IR: their uses splat the folded value.
      if (stmt.value->type.kind == SemaType::Tensor)
        scope[stmt.name] = emit(*stmt.value);
      continue;
    }
    auto &call = llvm::cast<CallExpr>(*stmt.value);
    EmittedDistribution dist{call.callee, {}, &call};
    for (Expr *arg : call.resolved)
      if (arg && arg->type.kind == SemaType::Tensor)
        dist.values.push_back(emit(*arg));
    return dist;
  }
  llvm_unreachable("Sema guarantees a return");
}

void Generator::emitFunction(
    StringRef name, llvm::SMLoc smLoc, bool encoderParams, bool decoderParams,
    ArrayRef<std::pair<StringRef, RankedTensorType>> inputs,
    function_ref<std::pair<SmallVector<Value>, Location>(ArrayRef<Value>)> body) {
  OpBuilder::InsertionGuard guard(builder);
  SmallVector<Value> inputValues;
  auto func = createFunction(name, smLoc, encoderParams, decoderParams, inputs, inputValues);
  auto [results, returnLoc] = body(inputValues);
  builder.create<func::ReturnOp>(returnLoc, results);
  func.setType(builder.getFunctionType(func.getArgumentTypes(), ValueRange(results).getTypes()));
}

Generator::PerExample Generator::emitPerExample(Value x, Value eps) {
  EmittedDistribution posterior = emitBlock(*module.encoder, x);
  Location postLoc = loc(posterior.call->loc);
  Value mu = posterior.values[0], logvar = posterior.values[1];
  Value z = builder.create<vdl::ReparameterizeOp>(postLoc, mu, logvar, eps);
  Location priorLoc = loc(module.priorLoc);
  Value kl =
      builder.create<vdl::KLNormalOp>(priorLoc, mu, logvar, static_cast<float>(module.priorMean),
                                      static_cast<float>(module.priorStd));

  EmittedDistribution likelihood = emitBlock(*module.decoder, z);
  Location llLoc = loc(likelihood.call->loc);
  Value logProb;
  if (likelihood.kind == "bernoulli")
    logProb = builder.create<vdl::BernoulliLogProbOp>(llLoc, likelihood.values[0], x);
  else if (likelihood.kind == "discretized_logistic")
    logProb = builder.create<vdl::DiscretizedLogisticLogProbOp>(
        llLoc, likelihood.values[0], likelihood.values[1], x,
        static_cast<int64_t>(likelihood.call->number(2)));
  else if (likelihood.values.size() == 2)
    logProb = builder.create<vdl::GaussianLogProbOp>(llLoc, likelihood.values[0],
                                                     likelihood.values[1], x);
  else
    logProb = builder.create<vdl::GaussianFixedLogProbOp>(
        llLoc, likelihood.values[0], x, static_cast<float>(likelihood.call->number(2)));
  return {logProb, kl, llLoc, priorLoc};
}

std::pair<SmallVector<Value>, Location> Generator::emitLoss(Value x, Value eps) {
  PerExample terms = emitPerExample(x, eps);
  Location lossLoc = loc(module.loc);
  Value meanLogProb = builder.create<vdl::ReduceMeanOp>(terms.llLoc, terms.logProb);
  Value meanKL = builder.create<vdl::ReduceMeanOp>(terms.klLoc, terms.kl);
  Value beta = builder.create<vdl::ConstantOp>(
      lossLoc, meanKL.getType(), builder.getF32FloatAttr(static_cast<float>(module.train.beta)));
  Value loss = builder.create<vdl::ElboOp>(lossLoc, meanLogProb, meanKL, beta);
  Value reconstruction = builder.create<vdl::NegOp>(terms.llLoc, meanLogProb);
  SmallVector<Value> results{loss, reconstruction, meanKL};
  return {results, lossLoc};
}

std::pair<SmallVector<Value>, Location> Generator::emitScore(Value x, Value eps) {
  // Per example: reconstruction = -log p(x|z), kl, loss = rec + beta kl.
  PerExample terms = emitPerExample(x, eps);
  Location lossLoc = loc(module.loc);
  Value reconstruction = builder.create<vdl::NegOp>(terms.llLoc, terms.logProb);
  Value beta = builder.create<vdl::ConstantOp>(
      lossLoc, terms.kl.getType(), builder.getF32FloatAttr(static_cast<float>(module.train.beta)));
  Value loss = builder.create<vdl::AddOp>(lossLoc, reconstruction,
                                          builder.create<vdl::MulOp>(lossLoc, terms.kl, beta));
  SmallVector<Value> results{loss, reconstruction, terms.kl};
  return {results, lossLoc};
}

OwningOpRef<ModuleOp> Generator::run() {
  OwningOpRef<ModuleOp> owned = ModuleOp::create(loc(module.loc));
  ModuleOp top = *owned;
  const TrainConfig &train = module.train;
  top->setAttr(vdl::VDLDialect::kModelAttrName, builder.getStringAttr(module.name));
  top->setAttr(vdl::VDLDialect::kBatchAttrName, builder.getI64IntegerAttr(batch));
  NamedAttribute settings[] = {
      builder.getNamedAttr("optimizer", builder.getStringAttr(train.optimizer)),
      builder.getNamedAttr("lr", builder.getF64FloatAttr(train.lr)),
      builder.getNamedAttr("momentum", builder.getF64FloatAttr(train.momentum)),
      builder.getNamedAttr("beta1", builder.getF64FloatAttr(train.beta1)),
      builder.getNamedAttr("beta2", builder.getF64FloatAttr(train.beta2)),
      builder.getNamedAttr("eps", builder.getF64FloatAttr(train.eps)),
      builder.getNamedAttr("weight_decay", builder.getF64FloatAttr(train.weightDecay)),
      builder.getNamedAttr("clip_grad_norm", builder.getF64FloatAttr(train.clipGradNorm)),
      builder.getNamedAttr("epochs", builder.getI64IntegerAttr(train.epochs)),
      builder.getNamedAttr("beta", builder.getF64FloatAttr(train.beta)),
      builder.getNamedAttr("warmup", builder.getI64IntegerAttr(train.warmup)),
      builder.getNamedAttr("seed", builder.getI64IntegerAttr(train.seed)),
  };
  top->setAttr(vdl::VDLDialect::kTrainAttrName, builder.getDictionaryAttr(settings));
  builder.setInsertionPointToEnd(top.getBody());

  RankedTensorType xType = batched(module.input->shape);
  RankedTensorType zType = batched({module.latent->size});
  StringRef xName = module.input->name, zName = module.latent->name;

  emitFunction("encode", module.encoder->loc, true, false, {{xName, xType}},
               [&](ArrayRef<Value> inputs) {
                 EmittedDistribution posterior = emitBlock(*module.encoder, inputs[0]);
                 return std::make_pair(posterior.values, loc(posterior.call->loc));
               });
  emitFunction("decode", module.decoder->loc, false, true, {{zName, zType}},
               [&](ArrayRef<Value> inputs) {
                 EmittedDistribution likelihood = emitBlock(*module.decoder, inputs[0]);
                 return std::make_pair(likelihood.values, loc(likelihood.call->loc));
               });
  emitFunction("loss", module.loc, true, true, {{xName, xType}, {"eps", zType}},
               [&](ArrayRef<Value> inputs) { return emitLoss(inputs[0], inputs[1]); });
  emitFunction("score", module.loc, true, true, {{xName, xType}, {"eps", zType}},
               [&](ArrayRef<Value> inputs) { return emitScore(inputs[0], inputs[1]); });
  return owned;
}

} // namespace

OwningOpRef<ModuleOp> vaec::mlirGen(MLIRContext &context, const Module &module,
                                    llvm::SourceMgr &sourceMgr) {
  context.getOrLoadDialect<vdl::VDLDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  return Generator(context, module, sourceMgr).run();
}
