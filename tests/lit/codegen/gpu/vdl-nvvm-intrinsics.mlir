// RUN: vae-opt %s --pass-pipeline='builtin.module(gpu.module(vdl-nvvm-intrinsics))' -split-input-file -verify-diagnostics | FileCheck %s

// libdevice calls of convert-gpu-to-nvvm and the math.fma it leaves: LLVM
// intrinsics, and the libdevice declarations gone.
// CHECK-LABEL: gpu.module @kernels
// CHECK-NOT: __nv_
// CHECK: llvm.func @k(%[[X:.*]]: f32, %[[Y:.*]]: f32) -> f32
// CHECK:   %[[ROOT:.*]] = llvm.intr.sqrt(%[[X]]) : (f32) -> f32
// CHECK:   %[[ABS:.*]] = llvm.intr.fabs(%[[ROOT]]) : (f32) -> f32
// CHECK:   %[[FLOOR:.*]] = llvm.intr.floor(%[[ABS]]) : (f32) -> f32
// CHECK:   %[[FMA:.*]] = llvm.intr.fma(%[[FLOOR]], %[[Y]], %[[X]]) : (f32, f32, f32) -> f32
// CHECK:   llvm.return %[[FMA]]
// CHECK-NOT: __nv_
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @__nv_sqrtf(f32) -> f32
    llvm.func @__nv_fabsf(f32) -> f32
    llvm.func @__nv_floorf(f32) -> f32
    llvm.func @k(%x: f32, %y: f32) -> f32 {
      %0 = llvm.call @__nv_sqrtf(%x) : (f32) -> f32
      %1 = llvm.call @__nv_fabsf(%0) : (f32) -> f32
      %2 = llvm.call @__nv_floorf(%1) : (f32) -> f32
      %3 = math.fma %2, %y, %x : f32
      llvm.return %3 : f32
    }
  }
}

// -----

// A libdevice function without an intrinsic here: an error naming it, not a
// PTX that no driver can link.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.func @__nv_sinf(f32) -> f32
    llvm.func @k(%x: f32) -> f32 {
      // expected-error @+1 {{no GPU code for __nv_sinf without libdevice}}
      %0 = llvm.call @__nv_sinf(%x) : (f32) -> f32
      llvm.return %0 : f32
    }
  }
}
