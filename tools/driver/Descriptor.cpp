//===- Descriptor.cpp - what the library's descriptor says of the model ---===//
//
// The model's facts the generated library's vae_model descriptor carries:
// taken from the checked AST (modelInfo), fingerprinted, and kept on the
// module as vdl.descriptor so that printed IR carries on to a library.
//
//===----------------------------------------------------------------------===//

#include "tools/driver/Descriptor.h"

#include "codegen/Pipeline.h"
#include "frontend/AST.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"

using namespace vaec;

namespace {

/// Calls `visit(key, field)` for every field of `info` that vdl.descriptor
/// carries (the layout and the device are the pipeline's and the target's).
template <typename Info, typename Visit> void forEachDescriptorField(Info &info, Visit visit) {
  visit("name", info.name);
  visit("batch", info.batch);
  visit("input_shape", info.inputShape);
  visit("latent_size", info.latentSize);
  visit("likelihood", info.likelihood);
  visit("decode_outputs", info.decodeOutputs);
  visit("likelihood_sigma", info.likelihoodSigma);
  visit("likelihood_bins", info.likelihoodBins);
  visit("beta", info.beta);
  visit("warmup_epochs", info.warmupEpochs);
  visit("epochs", info.epochs);
  visit("seed", info.seed);
  visit("prior_mean", info.priorMean);
  visit("prior_std", info.priorStd);
  visit("fingerprint", info.fingerprint);
  visit("optimizer", info.optimizer);
  visit("clips_gradients", info.clipsGradients);
  visit("hyperparams", info.hyperparams);
  visit("lr_schedule", info.lrSchedule);
  visit("patience", info.patience);
  visit("lr_warmup_epochs", info.lrWarmupEpochs);
  visit("lr_min", info.lrMin);
  visit("lr_step_epochs", info.lrStepEpochs);
  visit("lr_gamma", info.lrGamma);
  visit("val_fraction", info.valFraction);
}

} // namespace

mlir::DictionaryAttr vaec::descriptorAttr(mlir::MLIRContext *context, const ModelInfo &info) {
  mlir::Builder b(context);
  llvm::SmallVector<mlir::NamedAttribute> fields;
  forEachDescriptorField(info, [&](llvm::StringRef key, const auto &value) {
    using T = std::decay_t<decltype(value)>;
    mlir::Attribute attr;
    if constexpr (std::is_same_v<T, std::string>)
      attr = b.getStringAttr(value);
    else if constexpr (std::is_same_v<T, bool>)
      attr = b.getBoolAttr(value);
    else if constexpr (std::is_floating_point_v<T>)
      attr = b.getF64FloatAttr(value);
    else if constexpr (std::is_integral_v<T>)
      attr = b.getI64IntegerAttr(value);
    else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
      attr = b.getDenseI64ArrayAttr(value);
    else
      attr = b.getDenseF32ArrayAttr(value);
    fields.push_back(b.getNamedAttr(key, attr));
  });
  return b.getDictionaryAttr(fields);
}

bool vaec::descriptorFromAttr(mlir::DictionaryAttr dict, ModelInfo &info, std::string &error) {
  std::string missing;
  forEachDescriptorField(info, [&](llvm::StringRef key, auto &out) {
    using T = std::decay_t<decltype(out)>;
    mlir::Attribute value = dict.get(key);
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto text = llvm::dyn_cast_or_null<mlir::StringAttr>(value))
        return void(out = text.str());
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto flag = llvm::dyn_cast_or_null<mlir::BoolAttr>(value))
        return void(out = flag.getValue());
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto number = llvm::dyn_cast_or_null<mlir::FloatAttr>(value))
        return void(out = T(number.getValueAsDouble()));
    } else if constexpr (std::is_integral_v<T>) {
      if (auto number = llvm::dyn_cast_or_null<mlir::IntegerAttr>(value))
        return void(out = T(number.getInt()));
    } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
      if (auto array = llvm::dyn_cast_or_null<mlir::DenseI64ArrayAttr>(value))
        return void(out.assign(array.asArrayRef().begin(), array.asArrayRef().end()));
    } else {
      if (auto array = llvm::dyn_cast_or_null<mlir::DenseF32ArrayAttr>(value);
          array && array.size() == int64_t(out.size()))
        return void(std::copy(array.asArrayRef().begin(), array.asArrayRef().end(), out.begin()));
    }
    if (missing.empty())
      missing = key.str();
  });
  if (!missing.empty())
    error = "its vdl.descriptor has no valid '" + missing + "'";
  return missing.empty();
}

std::string vaec::modelFingerprint(llvm::StringRef text, llvm::StringRef filename,
                                   const ModelInfo &info) {
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, filename),
                                             llvm::SMLoc());
  DiagnosticEngine diags(sourceMgr, llvm::nulls());
  // (Locations point into the source manager's copy.)
  Parser parser(sourceMgr.getMemoryBuffer(id)->getBuffer(), filename, diags);
  Module ast = parser.parseModule();
  if (diags.hadError() || !analyze(ast, diags, /*batch=*/1))
    return "";
  mlir::DialectRegistry registry;
  registerCodegenDialects(registry);
  mlir::MLIRContext context(registry);
  context.disableMultithreading();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlirGen(context, ast, sourceMgr);
  auto hash = [](llvm::StringRef part) {
    std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(part));
    return llvm::toHex(llvm::ArrayRef(digest).take_front(8), /*LowerCase=*/true);
  };
  auto printed = [&](llvm::StringRef name) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    if (auto func = module->lookupSymbol<mlir::func::FuncOp>(name))
      func.print(os, mlir::OpPrintingFlags().enableDebugInfo(false));
    return ir;
  };
  return "encoder=" + hash(printed("encode")) + " decoder=" +
         hash(printed("decode") +
              llvm::formatv(" likelihood {0} sigma {1}", info.likelihood, info.likelihoodSigma)
                  .str() +
              (info.likelihoodBins ? " bins " + std::to_string(info.likelihoodBins) : "")) +
         " prior=" + hash(llvm::formatv("normal {0} {1}", info.priorMean, info.priorStd).str());
}

ModelInfo vaec::modelInfo(const Module &ast) {
  ModelInfo info;
  info.name = ast.name;
  info.batch = ast.train.batch;
  info.inputShape = ast.input->shape;
  info.latentSize = ast.latent->size;
  info.beta = ast.train.beta;
  info.warmupEpochs = ast.train.warmup;
  info.priorMean = ast.priorMean;
  info.priorStd = ast.priorStd;
  info.epochs = ast.train.epochs;
  info.seed = ast.train.seed;
  const TrainConfig &train = ast.train;
  info.optimizer = train.optimizer == "sgd" ? 2 : train.optimizer == "adamw" ? 3 : 1;
  info.clipsGradients = train.clipGradNorm > 0;
  info.hyperparams = {float(train.lr),          float(train.beta),        float(train.beta1),
                      float(train.beta2),       float(train.eps),         float(train.momentum),
                      float(train.weightDecay), float(train.clipGradNorm)};
  info.lrSchedule = train.schedule == "cosine" ? 1 : train.schedule == "step" ? 2 : 0;
  info.patience = int32_t(train.patience);
  info.lrWarmupEpochs = train.lrWarmup;
  info.lrMin = train.lrMin;
  info.lrStepEpochs = train.lrStepEpochs;
  info.lrGamma = train.lrGamma;
  info.valFraction = train.valFraction;
  auto *likelihood = llvm::cast<CallExpr>(ast.decoder->stmts.back().value.get());
  if (likelihood->callee == "bernoulli") {
    info.likelihood = 1;
    info.decodeOutputs = 1;
  } else if (likelihood->callee == "discretized_logistic") {
    info.likelihood = 4;
    info.decodeOutputs = 2;
    info.likelihoodBins = int64_t(likelihood->number(2));
  } else if (likelihood->operand(1)) {
    info.likelihood = 2;
    info.decodeOutputs = 2;
  } else {
    info.likelihood = 3;
    info.decodeOutputs = 1;
    info.likelihoodSigma = likelihood->number(2);
  }
  return info;
}
