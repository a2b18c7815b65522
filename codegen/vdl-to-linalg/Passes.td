//===- Passes.td - vdl to linalg on tensors ----------------*- tablegen -*-===//

#ifndef VAEC_CODEGEN_VDLTOLINALG_PASSES_TD
#define VAEC_CODEGEN_VDLTOLINALG_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertVDLToLinalg : Pass<"convert-vdl-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the vdl dialect to linalg, tensor, arith and math";
  let description = [{
    One conversion pattern per vdl op. Dense layers become a bias broadcast
    followed by `linalg.matmul` accumulating into it; elementwise ops become
    `linalg.generic`s on `tensor.empty`; per-example reductions (KL,
    log-likelihoods) become `linalg.generic`s with reduction iterators over
    every non-batch dimension. Numerically stable forms are used throughout:
    `softplus(x) = max(x, 0) + log1p(exp(-|x|))`, and the Bernoulli
    log-likelihood is minus BCE-with-logits in the same form.

    Before:
    ```mlir
    %h = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %r = vdl.relu %h : tensor<2x4xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<2x4xf32>
    %bb = linalg.broadcast ins(%b : tensor<4xf32>) outs(%e : tensor<2x4xf32>) dimensions = [0]
    %h = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%bb : tensor<2x4xf32>) -> tensor<2x4xf32>
    %r = linalg.generic {...} ins(%h : tensor<2x4xf32>) outs(%e2 : tensor<2x4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %0 = arith.maximumf %in, %cst : f32
        linalg.yield %0 : f32
    } -> tensor<2x4xf32>
    ```
  }];
  let options = [
    Option<"convAlgorithm", "conv-algorithm", "std::string", /*default=*/"\"auto\"",
           "How conv2d is computed: im2col (a gather into columns, then the "
           "GEMM path), direct (linalg.conv_2d_nhwc_hwcf on a padded "
           "channels-last copy, register blocks of output pixels x output "
           "channels) or auto (the one measured faster for the shape)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
}

#endif // VAEC_CODEGEN_VDLTOLINALG_PASSES_TD
