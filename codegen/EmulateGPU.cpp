//===- EmulateGPU.cpp - the vdl-emulate-gpu pass --------------------------===//
//
// gpu.launch -> serial loops over its blocks and threads, so that the GPU
// mapping runs (and is tested against the float64 reference) on a machine
// without a GPU: vaec --target=nvptx-emulated.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace vaec {
#define GEN_PASS_DEF_EMULATEGPU
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

struct EmulateGPUPass : vaec::impl::EmulateGPUBase<EmulateGPUPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    IRRewriter rewriter(&getContext());
    for (gpu::LaunchOp launch : launches) {
      // vdl-map-to-gpu's kernels use neither barriers nor shared memory, so
      // one thread after another computes what the threads of a block do.
      if (!launch.getWorkgroupAttributions().empty() || !launch.getPrivateAttributions().empty() ||
          launch.getBody().walk([](gpu::BarrierOp) { return WalkResult::interrupt(); }).wasInterrupted()) {
        launch.emitError("cannot emulate a launch with barriers or shared memory");
        return signalPassFailure();
      }
      Location loc = launch.getLoc();
      rewriter.setInsertionPoint(launch);
      Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      IRMapping mapping;
      mapping.map(launch.getGridSizeX(), grid.x);
      mapping.map(launch.getGridSizeY(), grid.y);
      mapping.map(launch.getGridSizeZ(), grid.z);
      mapping.map(launch.getBlockSizeX(), block.x);
      mapping.map(launch.getBlockSizeY(), block.y);
      mapping.map(launch.getBlockSizeZ(), block.z);
      // Every launch of vdl-map-to-gpu is one-dimensional.
      auto blocks = rewriter.create<scf::ForOp>(loc, zero, grid.x, one);
      rewriter.setInsertionPointToStart(blocks.getBody());
      auto threads = rewriter.create<scf::ForOp>(loc, zero, block.x, one);
      rewriter.setInsertionPointToStart(threads.getBody());
      mapping.map(launch.getBlockIds().x, blocks.getInductionVar());
      mapping.map(launch.getThreadIds().x, threads.getInductionVar());
      for (Value unused : {launch.getBlockIds().y, launch.getBlockIds().z,
                           launch.getThreadIds().y, launch.getThreadIds().z})
        mapping.map(unused, zero);
      for (Operation &op : launch.getBody().front().without_terminator())
        rewriter.clone(op, mapping);
      rewriter.eraseOp(launch);
    }
  }
};

} // namespace
