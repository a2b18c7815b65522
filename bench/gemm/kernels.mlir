// The three GEMM shapes of mnist_vae's training step (batch 128, the
// 784 <-> 400 layers), as convert-vdl-to-linalg writes them, and the same
// products on packed operands. bench/gemm.py lowers this file with
// `vae-opt --vdl-codegen` (vaec's code generation) and times each function
// against numpy's OpenBLAS on the same shapes.
//
// After the pipeline each @vae_* function takes (arena, inputs..., result).

#xw_packed_a_x = affine_map<(mo, mi, n, k) -> (mo, k, mi)>
#xw_packed_a_w = affine_map<(mo, mi, n, k) -> (k, n)>
#xw_packed_a_y = affine_map<(mo, mi, n, k) -> (mo, mi, n)>
#packed_b_x = affine_map<(m, no, ni, k) -> (m, k)>
#packed_b_w = affine_map<(m, no, ni, k) -> (no, k, ni)>
#packed_b_y = affine_map<(m, no, ni, k) -> (m, no, ni)>

// x·W (a dense layer's forward pass): 128x784 times 784x400.
func.func @vae_x_w(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>) -> tensor<128x400xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x400xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<128x400xf32>) -> tensor<128x400xf32>
  %y = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%init : tensor<128x400xf32>) -> tensor<128x400xf32>
  return %y : tensor<128x400xf32>
}

// dy·Wᵀ (the input gradient through the 400 -> 784 layer): W is transposed
// once per call so that the product reads unit-stride rows.
func.func @vae_dy_wt(%dy: tensor<128x784xf32>, %w: tensor<400x784xf32>) -> tensor<128x400xf32> {
  %zero = arith.constant 0.0 : f32
  %te = tensor.empty() : tensor<784x400xf32>
  %wt = linalg.transpose ins(%w : tensor<400x784xf32>) outs(%te : tensor<784x400xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<128x400xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<128x400xf32>) -> tensor<128x400xf32>
  %y = linalg.matmul ins(%dy, %wt : tensor<128x784xf32>, tensor<784x400xf32>) outs(%init : tensor<128x400xf32>) -> tensor<128x400xf32>
  return %y : tensor<128x400xf32>
}

// xᵀ·dy (the weight gradient of the 784 -> 400 layer): 784x128 times 128x400.
func.func @vae_xt_dy(%x: tensor<128x784xf32>, %dy: tensor<128x400xf32>) -> tensor<784x400xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<784x400xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<784x400xf32>) -> tensor<784x400xf32>
  %g = linalg.matmul_transpose_a ins(%x, %dy : tensor<128x784xf32>, tensor<128x400xf32>) outs(%init : tensor<784x400xf32>) -> tensor<784x400xf32>
  return %g : tensor<784x400xf32>
}

// x·W with x packed first into k-major panels [128/16][784][16]: the 16 rows
// of a register block become one contiguous 64-byte line per k step (they
// are 16 lines 3,136 bytes apart in x). The result is the same 128x400 bytes.
func.func @vae_x_w_packed_a(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>) -> tensor<8x16x400xf32> {
  %zero = arith.constant 0.0 : f32
  %x3 = tensor.expand_shape %x [[0, 1], [2]] output_shape [8, 16, 784] : tensor<128x784xf32> into tensor<8x16x784xf32>
  %pe = tensor.empty() : tensor<8x784x16xf32>
  %xp = linalg.transpose ins(%x3 : tensor<8x16x784xf32>) outs(%pe : tensor<8x784x16xf32>) permutation = [0, 2, 1]
  %e = tensor.empty() : tensor<8x16x400xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8x16x400xf32>) -> tensor<8x16x400xf32>
  %y = linalg.generic {indexing_maps = [#xw_packed_a_x, #xw_packed_a_w, #xw_packed_a_y],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xp, %w : tensor<8x784x16xf32>, tensor<784x400xf32>) outs(%init : tensor<8x16x400xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16x400xf32>
  return %y : tensor<8x16x400xf32>
}

// x·W with W kept in column panels [400/16][784][16] (were the weights
// stored that way): each k step of a register block reads one contiguous
// 64-byte line of the panel instead of lines 1,600 bytes apart.
func.func @vae_x_w_packed_b(%x: tensor<128x784xf32>, %wp: tensor<25x784x16xf32>) -> tensor<128x25x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x25x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<128x25x16xf32>) -> tensor<128x25x16xf32>
  %y = linalg.generic {indexing_maps = [#packed_b_x, #packed_b_w, #packed_b_y],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wp : tensor<128x784xf32>, tensor<25x784x16xf32>) outs(%init : tensor<128x25x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<128x25x16xf32>
  return %y : tensor<128x25x16xf32>
}

// dy·Wᵀ with W packed per call into the panels of Wᵀ, [400/16][784][16]
// (the same 16x16 block transposes as @vae_dy_wt, written panel by panel).
func.func @vae_dy_wt_packed_b(%dy: tensor<128x784xf32>, %w: tensor<400x784xf32>) -> tensor<128x25x16xf32> {
  %zero = arith.constant 0.0 : f32
  %w3 = tensor.expand_shape %w [[0, 1], [2]] output_shape [25, 16, 784] : tensor<400x784xf32> into tensor<25x16x784xf32>
  %pe = tensor.empty() : tensor<25x784x16xf32>
  %wp = linalg.transpose ins(%w3 : tensor<25x16x784xf32>) outs(%pe : tensor<25x784x16xf32>) permutation = [0, 2, 1]
  %e = tensor.empty() : tensor<128x25x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<128x25x16xf32>) -> tensor<128x25x16xf32>
  %y = linalg.generic {indexing_maps = [#packed_b_x, #packed_b_w, #packed_b_y],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%dy, %wp : tensor<128x784xf32>, tensor<25x784x16xf32>) outs(%init : tensor<128x25x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<128x25x16xf32>
  return %y : tensor<128x25x16xf32>
}
