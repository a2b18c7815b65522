//===- NVVMIntrinsics.cpp - the vdl-nvvm-intrinsics pass ------------------===//
//
// convert-gpu-to-nvvm calls libdevice for math ops (__nv_sqrtf); a vaec
// library links no libdevice (no CUDA toolkit at build time), and the NVPTX
// backend lowers the LLVM intrinsics of these few to single instructions.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringSwitch.h"

namespace vaec {
#define GEN_PASS_DEF_NVVMINTRINSICS
#include "codegen/gpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// The intrinsic that computes libdevice's `callee` on f32 (nullptr: none
/// here).
Operation *createIntrinsic(OpBuilder &b, LLVM::CallOp call, StringRef callee) {
  Location loc = call.getLoc();
  ValueRange args = call.getArgOperands();
  Type type = call.getResult().getType();
  if (callee == "__nv_sqrtf") // sqrt.rn.f32: correctly rounded, as on the CPU
    return b.create<LLVM::SqrtOp>(loc, type, args[0]);
  if (callee == "__nv_fabsf")
    return b.create<LLVM::FAbsOp>(loc, type, args[0]);
  if (callee == "__nv_floorf")
    return b.create<LLVM::FFloorOp>(loc, type, args[0]);
  if (callee == "__nv_ceilf")
    return b.create<LLVM::FCeilOp>(loc, type, args[0]);
  if (callee == "__nv_fmaf")
    return b.create<LLVM::FMAOp>(loc, type, args[0], args[1], args[2]);
  if (callee == "__nv_fminf")
    return b.create<LLVM::MinNumOp>(loc, type, args[0], args[1]);
  if (callee == "__nv_fmaxf")
    return b.create<LLVM::MaxNumOp>(loc, type, args[0], args[1]);
  return nullptr;
}

struct NVVMIntrinsicsPass : vaec::impl::NVVMIntrinsicsBase<NVVMIntrinsicsPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    // Nor does it lower math.fma, which the polynomials are made of.
    getOperation()->walk([&](math::FmaOp fma) {
      b.setInsertionPoint(fma);
      Value fused =
          b.create<LLVM::FMAOp>(fma.getLoc(), fma.getType(), fma.getA(), fma.getB(), fma.getC());
      fma.replaceAllUsesWith(fused);
      fma.erase();
    });
    WalkResult result = getOperation()->walk([&](LLVM::CallOp call) {
      std::optional<StringRef> callee = call.getCallee();
      if (!callee || !callee->starts_with("__nv_"))
        return WalkResult::advance();
      b.setInsertionPoint(call);
      Operation *intrinsic = createIntrinsic(b, call, *callee);
      if (!intrinsic) {
        call.emitError() << "no GPU code for " << *callee
                         << " without libdevice: the op it comes from has no "
                            "polynomial or intrinsic lowering for --target=nvptx";
        return WalkResult::interrupt();
      }
      call.getResult().replaceAllUsesWith(intrinsic->getResult(0));
      call.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (auto declaration :
         llvm::make_early_inc_range(getOperation()->getRegion(0).getOps<LLVM::LLVMFuncOp>()))
      if (declaration.isExternal() && declaration.getName().starts_with("__nv_") &&
          declaration.symbolKnownUseEmpty(getOperation()))
        declaration.erase();
  }
};

} // namespace
