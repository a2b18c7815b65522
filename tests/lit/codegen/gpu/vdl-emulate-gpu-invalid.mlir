// RUN: vae-opt %s --pass-pipeline='builtin.module(func.func(vdl-emulate-gpu))' -split-input-file -verify-diagnostics

// A value each thread loaded before a barrier and uses after it cannot be
// computed again (a load, not arithmetic on the thread id): refused.
func.func @loaded_across_barrier(%a: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%tx] : memref<64xf32>
    gpu.barrier
    // expected-error @+1 {{cannot emulate: a value of each thread is used after a barrier}}
    memref.store %x, %a[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

// -----

// A block size known only at run time: no loop over a fixed number of threads.
func.func @dynamic_block(%a: memref<64xf32>, %threads: index) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{cannot emulate a launch of a dynamic block size or with private attributions}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %threads, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return
}
