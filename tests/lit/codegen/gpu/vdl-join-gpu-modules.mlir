// RUN: vae-opt %s --vdl-join-gpu-modules | FileCheck %s

// gpu-kernel-outlining's modules, one kernel each, named after the entry
// point (and its module): one module, each kernel named after its module.
// CHECK: gpu.module @vae_kernels {
// CHECK:   gpu.func @f_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK:   gpu.func @f_kernel_0(%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xf32>) kernel
// CHECK: }
// CHECK-NOT: gpu.module
// CHECK: func.func @f
// CHECK:   gpu.launch_func @vae_kernels::@f_kernel blocks
// CHECK:   gpu.launch_func @vae_kernels::@f_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @f_kernel {
    gpu.func @f_kernel(%a: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    gpu.func @f_kernel(%a: memref<4xf32>, %b: memref<4xf32>) kernel {
      gpu.return
    }
  }
  func.func @f(%a: memref<4xf32>, %b: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<4xf32>, %b : memref<4xf32>)
    return
  }
}
