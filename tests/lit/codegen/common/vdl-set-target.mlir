// The #vdl.target that vdl-set-target computes from a triple, a CPU and
// -mattr-style features: vector width and register count from the CPU's
// features, L1d/L2 from the table of named CPUs.
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=znver3" | FileCheck %s --check-prefix=AVX2
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=haswell" | FileCheck %s --check-prefix=HASWELL
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=znver4" | FileCheck %s --check-prefix=AVX512
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=skylake-avx512" | FileCheck %s --check-prefix=SKX
// RUN: vae-opt %s --vdl-set-target="triple=aarch64-unknown-linux-gnu cpu=neoverse-v1" | FileCheck %s --check-prefix=NEON
// RUN: vae-opt %s --vdl-set-target="triple=aarch64-unknown-linux-gnu cpu=apple-m1" | FileCheck %s --check-prefix=M1
// Features as llc's -mattr: AVX-512 taken away leaves AVX2's 16 ymm.
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=znver4 mattr=-avx512f" | FileCheck %s --check-prefix=NO512
// RUN: vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=x86-64" | FileCheck %s --check-prefix=SSE
// Bad names are errors that say what was asked for.
// RUN: not vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=znver99" 2>&1 | FileCheck %s --check-prefix=BADCPU
// RUN: not vae-opt %s --vdl-set-target="triple=x86_64-unknown-linux-gnu cpu=znver3 mattr=+avx9" 2>&1 | FileCheck %s --check-prefix=BADATTR
// RUN: not vae-opt %s --vdl-set-target="triple=sparc9-sun-nowhere" 2>&1 | FileCheck %s --check-prefix=BADTRIPLE

// AVX2: #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 524288, threads = {{[0-9]+}}>
// HASWELL: #vdl.target<"x86_64-unknown-linux-gnu", "haswell", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 262144,
// AVX512: #vdl.target<"x86_64-unknown-linux-gnu", "znver4", vector_bits = 512, vector_registers = 32, fma = true, l1d = 32768, l2 = 1048576,
// SKX: #vdl.target<"x86_64-unknown-linux-gnu", "skylake-avx512", vector_bits = 512, vector_registers = 32, fma = true,
// NEON: #vdl.target<"aarch64-unknown-linux-gnu", "neoverse-v1", vector_bits = 128, vector_registers = 32, fma = true, l1d = 65536, l2 = 1048576,
// M1: #vdl.target<"aarch64-unknown-linux-gnu", "apple-m1", vector_bits = 128, vector_registers = 32, fma = true, l1d = 131072, l2 = 4194304,
// NO512: #vdl.target<"x86_64-unknown-linux-gnu", "znver4", vector_bits = 256, vector_registers = 16, fma = true,
// SSE: #vdl.target<"x86_64-unknown-linux-gnu", "x86-64", vector_bits = 128, vector_registers = 16, fma = false,
// BADCPU: error: vdl-set-target: {{.*}}znver99
// BADATTR: error: vdl-set-target: unknown CPU feature '+avx9'
// BADTRIPLE: error: vdl-set-target: {{.*}}sparc9
module {
}
