// RUN: vae-opt %s --convert-vdl-to-linalg --vdl-elementwise-on-channels-last --split-input-file \
// RUN:   | FileCheck %s
// RUN: vae-opt %s --convert-vdl-to-linalg --split-input-file \
// RUN:   | FileCheck %s --check-prefix=CONVERSION-ONLY

// Between two direct convolutions the activation runs channels-last, on the
// first one's result, and nothing is copied to NCHW and back: the only
// [B, C, H W] <-> [B, H W, C] copies left are the model input's and the
// last result's.
// CHECK-LABEL: func.func @relu_between_direct_convolutions
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x2x25xf32>) outs(%{{.*}} : tensor<2x25x2xf32>)
// CHECK: %[[CONV:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK: %[[PIXELS:.*]] = tensor.collapse_shape %[[CONV]] {{\[\[}}0], [1, 2], [3]] : tensor<2x3x3x16xf32> into tensor<2x9x16xf32>
// CHECK: %[[RELU:.*]] = linalg.generic {{.*}} ins(%[[PIXELS]] : tensor<2x9x16xf32>) outs(%{{.*}} : tensor<2x9x16xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape %[[RELU]] {{.*}} into tensor<2x3x3x16xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x4x16xf32>) outs(%{{.*}} : tensor<2x16x4xf32>)
// CHECK-NOT: linalg.transpose ins(%{{.*}} : tensor<2x{{[0-9]+}}x{{[0-9]+}}xf32>)
// CHECK: return
func.func @relu_between_direct_convolutions(%x: tensor<2x2x5x5xf32>, %w1: tensor<16x2x3x3xf32>, %w2: tensor<16x16x3x3xf32>) -> tensor<2x16x2x2xf32> {
  %0 = vdl.conv2d %x, %w1 stride = 2 padding = 1 : (tensor<2x2x5x5xf32>, tensor<16x2x3x3xf32>) -> tensor<2x16x3x3xf32>
  %1 = vdl.relu %0 : tensor<2x16x3x3xf32>
  %2 = vdl.conv2d %1, %w2 stride = 2 padding = 1 : (tensor<2x16x3x3xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x2x2xf32>
  return %2 : tensor<2x16x2x2xf32>
}

// The conversion alone leaves the activation on the NCHW copy: an NCHW
// generic of four loops between the two transposes.
// CONVERSION-ONLY-LABEL: func.func @relu_between_direct_convolutions
// CONVERSION-ONLY: linalg.conv_2d_nhwc_hwcf
// CONVERSION-ONLY: linalg.transpose ins(%{{.*}} : tensor<2x9x16xf32>) outs(%{{.*}} : tensor<2x16x9xf32>)
// CONVERSION-ONLY: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x16x3x3xf32>)
// CONVERSION-ONLY: linalg.transpose ins(%{{.*}} : tensor<2x16x9xf32>) outs(%{{.*}} : tensor<2x9x16xf32>)
// CONVERSION-ONLY: linalg.conv_2d_nhwc_hwcf

// -----

// An operand that is not a channels-last image copied to NCHW (here the
// model's own NCHW input %y) keeps the op on NCHW, with both copies.
// CHECK-LABEL: func.func @mixed_operands_stay_nchw
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x9x16xf32>) outs(%{{.*}} : tensor<2x16x9xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x16x3x3xf32>, tensor<2x16x3x3xf32>)
// CHECK: arith.addf
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x16x9xf32>) outs(%{{.*}} : tensor<2x9x16xf32>)
// CHECK: linalg.conv_2d_nhwc_hwcf
func.func @mixed_operands_stay_nchw(%x: tensor<2x2x5x5xf32>, %y: tensor<2x16x3x3xf32>, %w1: tensor<16x2x3x3xf32>, %w2: tensor<16x16x3x3xf32>) -> tensor<2x16x2x2xf32> {
  %0 = vdl.conv2d %x, %w1 stride = 2 padding = 1 : (tensor<2x2x5x5xf32>, tensor<16x2x3x3xf32>) -> tensor<2x16x3x3xf32>
  %1 = vdl.add %0, %y : tensor<2x16x3x3xf32>
  %2 = vdl.conv2d %1, %w2 stride = 2 padding = 1 : (tensor<2x16x3x3xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x2x2xf32>
  return %2 : tensor<2x16x2x2xf32>
}
