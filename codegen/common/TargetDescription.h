//===- TargetDescription.h - what code generation knows of the CPU -*- C++ -*-===//
//
// The `#vdl.target` attribute is computed once from LLVM's TargetMachine
// (triple, CPU, features) and kept on the module; the code generation passes
// read it through `targetOf` and derive every size they pick from it here.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_TARGETDESCRIPTION_H
#define VAEC_CODEGEN_TARGETDESCRIPTION_H

#include "ir/VDLDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Operation.h"

#include <cstdint>

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace vaec {

/// The description of `machine`'s CPU: vector width and register count from
/// its features; L1d and L2 sizes from sysfs when compiling for `host`, else
/// from a table of named CPUs (a conservative 32 KiB / 256 KiB for others).
vdl::TargetAttr describeTarget(mlir::MLIRContext *context, const llvm::TargetMachine &machine,
                               bool host);

/// The `vdl.target` of the module around `op`, or, when it has none, the
/// default description: an AVX-512 x86-64 core (what the passes' lit tests
/// assume unless they set a target).
vdl::TargetAttr targetOf(mlir::Operation *op);

/// A matmul register block: `rows` rows of the output times `cols` columns
/// (a whole number of vector registers), the accumulators of one k step.
struct RegisterBlock {
  int64_t rows, cols;
};

/// The vector registers that A's values of one k step of a `rows`-row block
/// occupy: on AVX-512 none to speak of (an FMA takes its broadcast from
/// memory, `{1to16}`), one is counted; on NEON a register per 4 rows (`fmla`
/// by lane); on AVX2 one broadcast per row, since LLVM's scheduler issues a
/// k step's broadcasts ahead of its FMAs.
int64_t broadcastRegisters(vdl::TargetAttr target, int64_t rows);

/// The register block for an M x N output on `target`: the accumulators,
/// the k step's row of B and A's broadcasts (broadcastRegisters) must fit
/// the vector registers, and among the blocks that do, the one that takes the least time
/// per k step over the whole output (tiles at the edges included) by a model
/// of two loads and two FMAs per cycle with a 4-cycle FMA latency (every core
/// targeted: Zen 3-5, Skylake-X, Neoverse V1). Within 10 % of the best, a
/// block that divides M and N (no remainder tiles) is preferred.
/// `liveRows` rows of B are live in a step: 1 for a matmul; k for a direct
/// convolution's block of output pixels x output channels, whose step
/// holds a filter row per tap of the kernel's width.
RegisterBlock matmulRegisterBlock(vdl::TargetAttr target, int64_t m, int64_t n,
                                  int64_t liveRows = 1);

/// The vector width (in f32 elements) of elementwise work along a dimension
/// of `size`: the target's lanes, or a smaller power of two for a dimension
/// narrower than one register.
int64_t vectorWidth(vdl::TargetAttr target, int64_t size);

/// The most rows of a K x `cols` f32 panel of B that fit a quarter of L2,
/// beside the row blocks of A and C that stream past it: a matmul with a
/// deeper K is cut into K blocks of at most this depth (vdl-tile-and-vectorize)
/// and each block's panel is packed (vdl-pack-panels).
int64_t panelDepth(vdl::TargetAttr target, int64_t cols);

} // namespace vaec

#endif // VAEC_CODEGEN_TARGETDESCRIPTION_H
