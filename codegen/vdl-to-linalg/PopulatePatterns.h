//===- PopulatePatterns.h - vdl to linalg patterns by family -*- C++ -*-===//
//
// One populate function per op family, one file each (as torch-mlir's
// TorchToLinalg): ConvertVDLToLinalg.cpp puts them together.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_VDLTOLINALG_POPULATEPATTERNS_H
#define VAEC_CODEGEN_VDLTOLINALG_POPULATEPATTERNS_H

#include "ir/VDLDialect.h"

#include "mlir/Transforms/DialectConversion.h"

namespace vaec::vdl_to_linalg {

/// Activations, arithmetic, the reparameterization and the activations'
/// gradients (Elementwise.cpp).
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);

/// The KL term, log-likelihoods, sums and means, and their per-example
/// gradients (Reductions.cpp).
void populateReductionPatterns(mlir::RewritePatternSet &patterns);

/// Dense layers, matmuls, row sums, broadcasts, reshapes and constants
/// (Linear.cpp).
void populateLinearPatterns(mlir::RewritePatternSet &patterns);

/// conv2d, conv2d_transpose and their gradients, direct or as GEMMs by
/// `convAlgorithm` ("auto", "direct", "im2col"; Convolution.cpp).
void populateConvolutionPatterns(mlir::RewritePatternSet &patterns, llvm::StringRef convAlgorithm);

/// Adam, SGD and gradient clipping (Optimizers.cpp).
void populateOptimizerPatterns(mlir::RewritePatternSet &patterns);

} // namespace vaec::vdl_to_linalg

#endif // VAEC_CODEGEN_VDLTOLINALG_POPULATEPATTERNS_H
