// RUN: vae-opt %s --split-input-file --vdl-join-optimizer-state --verify-diagnostics | FileCheck %s

// Adam's two slots become views of one opt_state byte buffer: slot k at
// byte k * 48 * 4. Their users do not change type.
// CHECK-LABEL: func.func @vae_train_step(
// CHECK-SAME: %[[P:.*]]: memref<48xf32> {vdl.input = "params"}, %[[S:.*]]: memref<384xi8> {vdl.input = "opt_state"}, %[[G:.*]]: memref<48xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C192:.*]] = arith.constant 192 : index
// CHECK-DAG: %[[M:.*]] = memref.view %[[S]][%[[C0]]][] : memref<384xi8> to memref<48xf32>
// CHECK-DAG: %[[V:.*]] = memref.view %[[S]][%[[C192]]][] : memref<384xi8> to memref<48xf32>
// CHECK: linalg.add ins(%[[G]], %[[M]] : memref<48xf32>, memref<48xf32>) outs(%[[V]] : memref<48xf32>)
func.func @vae_train_step(%p: memref<48xf32> {vdl.input = "params"},
                          %m: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 0 : i64},
                          %v: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 1 : i64},
                          %g: memref<48xf32>) {
  linalg.add ins(%g, %m : memref<48xf32>, memref<48xf32>) outs(%v : memref<48xf32>)
  return
}

// -----

// A function without optimizer state is left alone.
// CHECK-LABEL: func.func @vae_eval_elbo(%{{.*}}: memref<48xf32> {vdl.input = "params"})
func.func @vae_eval_elbo(%p: memref<48xf32> {vdl.input = "params"}) {
  return
}

// -----

// expected-error @+1 {{expected the optimizer slots as identity memref<P x f32> arguments with vdl.state_slot 0, 1, ... in order}}
func.func @vae_train_step(%p: memref<48xf32> {vdl.input = "params"},
                          %v: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 1 : i64},
                          %m: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 0 : i64}) {
  return
}
