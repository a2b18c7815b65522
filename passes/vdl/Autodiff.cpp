//===- Autodiff.cpp - the vdl-autodiff pass -------------------------------===//
//
// Reverse mode over one straight-line function: the vdl dialect has no
// control flow, so the tape is the op list itself.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>

namespace vaec {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using namespace vaec::vdl;

namespace {

/// Builds the backward pass of `func` in place, before its return, and
/// returns d(result 0)/d(argument) for every parameter argument.
FailureOr<SmallVector<Value>> differentiate(func::FuncOp func) {
  Block &body = func.front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder b(ret);

  // Values that depend on a parameter: only their adjoints are built.
  llvm::DenseSet<Value> active;
  SmallVector<BlockArgument> params;
  for (BlockArgument arg : body.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), VDLDialect::kParamAttrName)) {
      active.insert(arg);
      params.push_back(arg);
    }
  SmallVector<Operation *> tape;
  for (Operation &op : body.without_terminator()) {
    tape.push_back(&op);
    if (llvm::any_of(op.getOperands(), [&](Value v) { return active.contains(v); }))
      active.insert(op.result_begin(), op.result_end());
  }

  DenseMap<Value, Value> adjoint;
  auto accumulate = [&](Value value, Value contribution, Location loc) {
    Value &slot = adjoint[value];
    slot = slot ? b.create<AddOp>(loc, slot, contribution).getResult() : contribution;
  };
  Value loss = ret.getOperand(0);
  adjoint[loss] = b.create<ConstantOp>(loss.getLoc(), loss.getType(), b.getF32FloatAttr(1.0f));

  for (Operation *op : llvm::reverse(tape)) {
    if (op->getNumResults() != 1 || !adjoint.count(op->getResult(0)) ||
        !active.contains(op->getResult(0)))
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule) {
      op->emitError() << "no gradient rule for '" << op->getName()
                      << "': cannot differentiate the loss through it";
      return failure();
    }
    SmallVector<bool> needed;
    for (Value operand : op->getOperands())
      needed.push_back(active.contains(operand));
    SmallVector<Value> operandAdjoints;
    if (failed(rule.buildGradients(b, adjoint[op->getResult(0)], needed, operandAdjoints)))
      return failure();
    for (auto [operand, contribution] : llvm::zip(op->getOperands(), operandAdjoints))
      if (contribution)
        accumulate(operand, contribution, op->getLoc());
  }

  SmallVector<Value> gradients;
  for (BlockArgument param : params) {
    Value g = adjoint.lookup(param);
    // A parameter the loss does not use has a zero gradient.
    if (!g)
      g = b.create<ConstantOp>(param.getLoc(), param.getType(), b.getF32FloatAttr(0.0f));
    gradients.push_back(g);
  }
  return gradients;
}

/// Adds the `weights` input (one float per example, after the last input)
/// and scales every per-example term by it before its batch mean: the mean
/// of w_b * term_b. Full batches pass ones; a padded last batch passes
/// batch/n for its n real examples and 0 for the padding, so the loss and
/// every gradient are those of the real examples alone.
void addExampleWeights(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  auto batchAttr =
      func->getParentOfType<ModuleOp>()->getAttrOfType<IntegerAttr>(VDLDialect::kBatchAttrName);
  SmallVector<ReduceMeanOp> means;
  func.walk([&](ReduceMeanOp mean) {
    auto type = cast<RankedTensorType>(mean.getInput().getType());
    if (type.getRank() == 1 && (!batchAttr || type.getDimSize(0) == batchAttr.getInt()))
      means.push_back(mean);
  });
  if (means.empty())
    return;
  unsigned position = 0;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, VDLDialect::kInputAttrName))
      position = i + 1;
  Builder attrs(ctx);
  func.insertArgument(position, means.front().getInput().getType(),
                      attrs.getDictionaryAttr(attrs.getNamedAttr(VDLDialect::kInputAttrName,
                                                                 attrs.getStringAttr("weights"))),
                      func.getLoc());
  Value weights = func.getArgument(position);
  for (ReduceMeanOp mean : means) {
    OpBuilder b(mean);
    Value weighted = b.create<MulOp>(mean.getLoc(), mean.getInput(), weights);
    mean.getInputMutable().assign(weighted);
  }
}

/// The optimizer of the module's `vdl.train` dictionary. Its constants are
/// not compiled in: train_step reads them from its `hyper` argument.
struct Optimizer {
  bool adam = true; // adam or adamw (sgd otherwise)
  /// `clip_grad_norm` in the train block: the global norm is computed and
  /// the gradients clipped (to the run-time clip_norm).
  bool clips = false;
  unsigned slots() const { return adam ? 2 : 1; }

  static Optimizer from(ModuleOp module) {
    Optimizer o;
    auto train = module->getAttrOfType<DictionaryAttr>(VDLDialect::kTrainAttrName);
    if (auto name = train ? train.getAs<StringAttr>("optimizer") : StringAttr())
      o.adam = name.getValue() != "sgd";
    if (auto clip = train ? train.getAs<FloatAttr>("clip_grad_norm") : FloatAttr())
      o.clips = clip.getValueAsDouble() > 0;
    return o;
  }
};

/// The fields of vae_hyperparams (abi.h), in order: train_step's `hyper`
/// argument is a tensor<8xf32> of them.
enum HyperField {
  kLr,
  kKlWeight,
  kBeta1,
  kBeta2,
  kEps,
  kMomentum,
  kWeightDecay,
  kClipNorm,
  kHyperFields
};

/// The optimizer state, step and hyperparameter arguments of an update
/// (train_step and apply_update): state slots right after the parameters,
/// slot-major, then `step` and `hyper` last. Each hyperparameter is a 0-d
/// slice of `hyper`: after bufferization a view of the caller's struct.
struct UpdateArguments {
  SmallVector<std::pair<unsigned, StringAttr>> params; // argument, name
  SmallVector<SmallVector<Value>> state;
  Value step, hyper;
  RankedTensorType scalar;

  UpdateArguments(func::FuncOp func, const Optimizer &opt) : state(opt.slots()) {
    MLIRContext *ctx = func.getContext();
    Builder attrs(ctx);
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (auto name = func.getArgAttrOfType<StringAttr>(i, VDLDialect::kParamAttrName))
        params.push_back({i, name});
    unsigned insertAt = params.empty() ? 0 : params.back().first + 1;
    for (unsigned slot = 0; slot < opt.slots(); ++slot)
      for (auto [index, name] : params) {
        Type type = func.getArgumentTypes()[index];
        func.insertArgument(
            insertAt, type,
            attrs.getDictionaryAttr({attrs.getNamedAttr(VDLDialect::kStateOfAttrName, name),
                                     attrs.getNamedAttr(VDLDialect::kStateSlotAttrName,
                                                        attrs.getI64IntegerAttr(slot))}),
            func.getArgument(index).getLoc());
        state[slot].push_back(func.getArgument(insertAt++));
      }
    func.insertArgument(func.getNumArguments(), IntegerType::get(ctx, 64),
                        attrs.getDictionaryAttr(attrs.getNamedAttr(VDLDialect::kInputAttrName,
                                                                   attrs.getStringAttr("step"))),
                        func.getLoc());
    step = func.getArguments().back();
    func.insertArgument(func.getNumArguments(),
                        RankedTensorType::get({kHyperFields}, Float32Type::get(ctx)),
                        attrs.getDictionaryAttr(attrs.getNamedAttr(VDLDialect::kInputAttrName,
                                                                   attrs.getStringAttr("hyper"))),
                        func.getLoc());
    hyper = func.getArguments().back();
    scalar = RankedTensorType::get({}, Float32Type::get(ctx));
  }

  /// Field `index` of `hyper`, built at the start of `func`.
  Value field(func::FuncOp func, HyperField index) const {
    OpBuilder b(&func.front(), func.front().begin());
    Value element = b.create<tensor::ExtractSliceOp>(
        func.getLoc(), hyper, ArrayRef<OpFoldResult>{b.getIndexAttr(index)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    return b.create<tensor::CollapseShapeOp>(func.getLoc(), scalar, element,
                                             ArrayRef<ReassociationIndices>{});
  }
};

/// Replaces the return of `func` by `results` followed by the optimizer's
/// update of every parameter from `gradients`: the new parameters, then the
/// new state, slot-major, each result named after what it updates.
void returnUpdates(func::FuncOp func, const Optimizer &opt, const UpdateArguments &args,
                   SmallVector<Value> results, ValueRange gradients) {
  MLIRContext *ctx = func.getContext();
  Builder attrs(ctx);
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  OpBuilder b(ret);
  Location loc = func.getLoc();
  RankedTensorType scalar = args.scalar;
  auto field = [&](HyperField index) { return args.field(func, index); };
  SmallVector<Value> newParams, newState[2];
  Value lr = field(kLr);
  // Clipping by the global norm: the sum of every gradient's squares (each
  // a fused square-and-sum over that gradient), one factor for them all.
  Value gradScale;
  if (opt.clips && !gradients.empty()) {
    Value normSq;
    for (Value gradient : gradients) {
      Value squares = b.create<ReduceSumOp>(loc, scalar, b.create<MulOp>(loc, gradient, gradient));
      normSq = normSq ? b.create<AddOp>(loc, normSq, squares).getResult() : squares;
    }
    gradScale = b.create<ClipCoefficientOp>(loc, normSq, field(kClipNorm));
  }
  auto paramAt = [&](unsigned i) { return func.getArgument(args.params[i].first); };
  if (opt.adam) {
    Value beta1 = field(kBeta1), beta2 = field(kBeta2), eps = field(kEps);
    Value weightDecay = field(kWeightDecay);
    // bc = 1 - beta^t = 1 - exp(t ln beta), once per step.
    Value t = b.create<tensor::FromElementsOp>(
        loc, scalar, ValueRange{b.create<arith::SIToFPOp>(loc, b.getF32Type(), args.step)});
    auto correction = [&](Value beta) -> Value {
      Value power = b.create<ExpOp>(loc, b.create<MulOp>(loc, t, b.create<LogOp>(loc, beta)));
      return b.create<SubOp>(loc, b.create<ConstantOp>(loc, scalar, b.getF32FloatAttr(1.0f)),
                             power);
    };
    Value bc1 = correction(beta1), bc2 = correction(beta2);
    for (unsigned i = 0; i < args.params.size(); ++i) {
      auto update = b.create<AdamUpdateOp>(paramAt(i).getLoc(), paramAt(i), gradients[i],
                                           args.state[0][i], args.state[1][i], bc1, bc2, lr, beta1,
                                           beta2, eps, weightDecay, gradScale);
      newParams.push_back(update.getNewParam());
      newState[0].push_back(update.getNewM());
      newState[1].push_back(update.getNewV());
    }
  } else {
    Value momentum = field(kMomentum);
    for (unsigned i = 0; i < args.params.size(); ++i) {
      auto update = b.create<SgdUpdateOp>(paramAt(i).getLoc(), paramAt(i), gradients[i],
                                          args.state[0][i], lr, momentum, gradScale);
      newParams.push_back(update.getNewParam());
      newState[0].push_back(update.getNewVelocity());
    }
  }
  SmallVector<DictionaryAttr> resultAttrs(results.size(), attrs.getDictionaryAttr({}));
  for (auto [i, param] : llvm::enumerate(args.params)) {
    results.push_back(newParams[i]);
    resultAttrs.push_back(
        attrs.getDictionaryAttr(attrs.getNamedAttr(VDLDialect::kUpdateOfAttrName, param.second)));
  }
  for (unsigned slot = 0; slot < opt.slots(); ++slot)
    for (auto [i, param] : llvm::enumerate(args.params)) {
      results.push_back(newState[slot][i]);
      resultAttrs.push_back(attrs.getDictionaryAttr(
          {attrs.getNamedAttr(VDLDialect::kStateOfAttrName, param.second),
           attrs.getNamedAttr(VDLDialect::kStateSlotAttrName, attrs.getI64IntegerAttr(slot))}));
    }
  b.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  func.setType(FunctionType::get(ctx, func.getArgumentTypes(), ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
}

/// Turns a clone of @grad_step into @train_step: optimizer-state arguments
/// per parameter and slot, a `step` and a `hyper` argument, and the update
/// of every parameter in place of its gradient.
void buildTrainStep(func::FuncOp train, const Optimizer &opt, unsigned forwardResults) {
  UpdateArguments args(train, opt);
  // The KL weight of this step (beta, annealed by KL warm-up in the
  // runtime) replaces @loss's constant beta, in the loss and its adjoint.
  Value klWeight = args.field(train, kKlWeight);
  train.walk([&](ElboOp elbo) { elbo.getBeta().replaceAllUsesWith(klWeight); });
  auto ret = cast<func::ReturnOp>(train.front().getTerminator());
  SmallVector<Value> results(ret.getOperands().take_front(forwardResults));
  SmallVector<Value> gradients(ret.getOperands().drop_front(forwardResults));
  returnUpdates(train, opt, args, results, gradients);
}

/// @apply_update(params..., state..., gradients..., step, hyper): the
/// update train_step makes, from gradients the caller computed (with
/// grad_step, then summed across processes): data-parallel training.
func::FuncOp buildApplyUpdate(func::FuncOp grad, const Optimizer &opt) {
  MLIRContext *ctx = grad.getContext();
  Builder attrs(ctx);
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<std::pair<Type, StringAttr>> params;
  for (unsigned i = 0, e = grad.getNumArguments(); i < e; ++i)
    if (auto name = grad.getArgAttrOfType<StringAttr>(i, VDLDialect::kParamAttrName)) {
      types.push_back(grad.getArgumentTypes()[i]);
      argAttrs.push_back(grad.getArgAttrDict(i));
      params.push_back({types.back(), name});
    }
  auto apply =
      func::FuncOp::create(grad.getLoc(), "apply_update", FunctionType::get(ctx, types, {}));
  apply.setAllArgAttrs(argAttrs);
  Block *body = apply.addEntryBlock();
  OpBuilder(ctx).atBlockEnd(body).create<func::ReturnOp>(grad.getLoc());
  UpdateArguments args(apply, opt);
  // The gradients after the state, before step and hyper.
  unsigned at = apply.getNumArguments() - 2;
  SmallVector<Value> gradients;
  for (auto [type, name] : params) {
    apply.insertArgument(
        at, type, attrs.getDictionaryAttr(attrs.getNamedAttr(VDLDialect::kGradOfAttrName, name)),
        grad.getLoc());
    gradients.push_back(apply.getArgument(at++));
  }
  returnUpdates(apply, opt, args, {}, gradients);
  return apply;
}

struct AutodiffPass : vaec::impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loss = module.lookupSymbol<func::FuncOp>("loss");
    if (!loss) {
      module.emitError("vdl-autodiff: no @loss function to differentiate");
      return signalPassFailure();
    }
    if (module.lookupSymbol("grad_step"))
      return; // already differentiated
    auto grad = loss.clone();
    grad.setSymName("grad_step");
    module.getBody()->getOperations().insertAfter(Block::iterator(loss), grad);
    addExampleWeights(grad);

    FailureOr<SmallVector<Value>> gradients = differentiate(grad);
    if (failed(gradients))
      return signalPassFailure();

    auto ret = cast<func::ReturnOp>(grad.front().getTerminator());
    SmallVector<Value> results(ret.getOperands());
    results.append(gradients->begin(), gradients->end());
    OpBuilder(ret).create<func::ReturnOp>(ret.getLoc(), results);
    ret.erase();

    unsigned forwardResults = loss.getNumResults();
    grad.setType(
        FunctionType::get(&getContext(), grad.getArgumentTypes(), ValueRange(results).getTypes()));
    SmallVector<DictionaryAttr> resultAttrs(results.size());
    Builder builder(&getContext());
    unsigned index = forwardResults;
    for (unsigned i = 0, e = grad.getNumArguments(); i < e; ++i)
      if (auto name = grad.getArgAttr(i, VDLDialect::kParamAttrName))
        resultAttrs[index++] =
            builder.getDictionaryAttr(builder.getNamedAttr(VDLDialect::kGradOfAttrName, name));
    for (unsigned i = 0; i < results.size(); ++i)
      grad.setResultAttrs(i, resultAttrs[i] ? resultAttrs[i] : builder.getDictionaryAttr({}));

    auto train = grad.clone();
    train.setSymName("train_step");
    module.getBody()->getOperations().insertAfter(Block::iterator(grad), train);
    Optimizer opt = Optimizer::from(module);
    buildTrainStep(train, opt, forwardResults);
    module.getBody()->getOperations().insertAfter(Block::iterator(train),
                                                  buildApplyUpdate(grad, opt));
  }
};

} // namespace
