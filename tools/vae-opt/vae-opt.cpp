//===- vae-opt.cpp - mlir-opt for the vdl dialect -------------------------===//
//
// Runs any registered pass on any .mlir file, exactly like mlir-opt; this is
// how the lit tests exercise one pass at a time. Registers only what vaec
// uses (InitAllDialects/Passes would cost half a minute of compile time).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  vaec::registerCodegenDialects(registry);
  mlir::registerTransformsPasses();
  // One-Shot Bufferize and friends: to see what the in-place passes buy.
  mlir::bufferization::registerBufferizationPasses();
  vaec::registerPasses();
  vaec::registerCodegenPasses();
  mlir::PassPipelineRegistration<>(
      "vdl-codegen", "Lower linalg on tensors to the LLVM dialect as vaec does after vdl-fusion",
      [](mlir::OpPassManager &pm) { vaec::buildCodegenPipeline(pm, vaec::Stage::LLVMDialect); });
  llvm::cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << "vae-opt " VAEC_VERSION " (vaec's passes)\n"; });
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "vaec optimizer driver\n", registry));
}
