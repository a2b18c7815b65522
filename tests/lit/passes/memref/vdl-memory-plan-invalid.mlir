// RUN: vae-opt %s --vdl-memory-plan --split-input-file --verify-diagnostics

// A buffer of unknown size cannot get a static offset.
func.func @vae_eval_elbo(%params: memref<16xf32> {vdl.input = "params"}, %n: index) {
  // expected-error @below {{vdl-memory-plan: only static, identity-layout buffers can live in the arena, got 'memref<?xf32>'}}
  %a = memref.alloc(%n) : memref<?xf32>
  return
}
