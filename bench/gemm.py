#!/usr/bin/env python3
"""The matmul kernels alone: vaec's code for the three GEMM shapes of
mnist_vae's training step, and for the same products on packed operands,
against numpy's OpenBLAS on the same shapes, both on every core.

    bench/.venv/bin/python bench/gemm.py [--build build] [--rounds 15]

Lowers bench/gemm/kernels.mlir with `vae-opt --vdl-set-target --vdl-codegen` (the code
generation vaec runs after vdl-fusion), then mlir-translate-19 and clang-19
-O3 -march=native, checks every result against numpy, and prints GFLOP/s:
the median over rounds of each round's median of 50 calls (the rounds
interleave vaec's kernels, so a noisy neighbour slows them all alike;
OpenBLAS runs before them, not interleaved: two thread pools in one process
slow each other).
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import has_avx512  # noqa: E402

# Before numpy loads OpenBLAS: its own detection runs Zen 5 on the AVX2
# kernel (see compare.py), and this machine's environment asks for Haswell.
if has_avx512():
    os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count()))
import numpy as np  # noqa: E402

FLOPS = 2 * 128 * 784 * 400  # every product here: 128 x 784 x 400


def build(vae_opt, out_dir):
    source = os.path.join(HERE, "gemm", "kernels.mlir")
    llvm_dialect = os.path.join(out_dir, "kernels.llvm.mlir")
    llvm_ir = os.path.join(out_dir, "kernels.ll")
    library = os.path.join(out_dir, "kernels.so")
    # Blocks for this machine's CPU (vdl-set-target without options: the host).
    subprocess.run([vae_opt, source, "--vdl-set-target", "--vdl-codegen", "-o", llvm_dialect],
                   check=True)
    # (--allow-unregistered-dialect: mlir-translate does not know the module's
    # #vdl.target, which the translation ignores.)
    subprocess.run(["mlir-translate-19", "--allow-unregistered-dialect", "--mlir-to-llvmir",
                    llvm_dialect, "-o", llvm_ir],
                   check=True)
    subprocess.run(["clang-19", "-O3", "-march=native", "-shared", "-fPIC",
                    "-Wno-override-module", "-fopenmp=libomp", llvm_ir, "-o", library],
                   check=True)
    return ctypes.CDLL(library)


def kernel(library, name, arena, inputs, result):
    function = getattr(library, name)
    buffers = [arena, *inputs, result]
    args = [ctypes.c_void_p(b.ctypes.data) for b in buffers]
    call = lambda: function(*args)  # noqa: E731
    call.buffers = buffers  # the arrays must outlive the pointers
    return call


def time_calls(call, calls=50):
    for _ in range(5):
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    f32 = lambda *shape: rng.standard_normal(shape, dtype=np.float32)  # noqa: E731
    x, dy784, dy400 = f32(128, 784), f32(128, 784), f32(128, 400)
    w, w_out = f32(784, 400), f32(400, 784)
    w_panels = np.ascontiguousarray(w.reshape(784, 25, 16).transpose(1, 0, 2))
    arena = np.zeros(16 << 20, dtype=np.uint8)

    # OpenBLAS first, before libomp's thread pool is in the process.
    blas = {"vae_x_w": lambda: x @ w, "vae_dy_wt": lambda: dy784 @ w_out.T,
            "vae_xt_dy": lambda: x.T @ dy400}
    seconds = {f"blas:{name}": [] for name in blas}
    for call in blas.values():  # a round not counted, as for vaec's below
        time_calls(call)
    for _ in range(args.rounds):
        for name, call in blas.items():
            seconds[f"blas:{name}"].append(time_calls(call))

    # OpenBLAS's idle threads spin for a while after a call and would take
    # a core from libomp's.
    time.sleep(1.0)

    with tempfile.TemporaryDirectory() as out_dir:
        library = build(os.path.join(args.build, "bin", "vae-opt"), out_dir)
        # name, what it is, inputs, expected result (numpy), result shape
        cases = [
            ("vae_x_w", "x·W", [x, w], x @ w, (128, 400)),
            ("vae_dy_wt", "dy·Wᵀ (Wᵀ packed per call)", [dy784, w_out], dy784 @ w_out.T,
             (128, 400)),
            ("vae_xt_dy", "xᵀ·dy", [x, dy400], x.T @ dy400, (784, 400)),
            ("vae_x_w_packed_a", "x·W, x packed per call", [x, w], x @ w, (8, 16, 400)),
            ("vae_x_w_packed_b", "x·W, W kept in panels", [x, w_panels], x @ w, (128, 25, 16)),
            ("vae_dy_wt_packed_b", "dy·Wᵀ, Wᵀ packed per call into panels", [dy784, w_out],
             dy784 @ w_out.T, (128, 25, 16)),
        ]
        calls = {}
        for name, _, inputs, expected, shape in cases:
            result = np.zeros(shape, dtype=np.float32)
            calls[name] = kernel(library, name, arena, inputs, result)
            calls[name]()
            got = result.reshape(expected.shape)
            error = np.max(np.abs(got - expected)) / np.max(np.abs(expected))
            if not error < 1e-5:
                sys.exit(f"gemm.py: {name} differs from numpy (relative error {error:.2e})")
        seconds.update({name: [] for name in calls})
        # One round first, not counted: the first few hundred calls after the
        # switch from OpenBLAS run at a third of the speed.
        for call in calls.values():
            time_calls(call)
        for _ in range(args.rounds):
            for name, call in calls.items():
                seconds[name].append(time_calls(call))

    gflops = lambda key: FLOPS / statistics.median(seconds[key]) * 1e-9  # noqa: E731
    print(f"128x784x400 products ({FLOPS / 1e6:.1f} MFLOP), {os.cpu_count()} threads, "
          f"median of {args.rounds} rounds of 50 calls\n")
    print(f"| kernel | product | vaec GFLOP/s | OpenBLAS GFLOP/s (numpy, same shape) |")
    print("|---|---|---:|---:|")
    for name, what, *_ in cases:
        reference = f"{gflops('blas:' + name):.0f}" if name in blas else ""
        print(f"| {name} | {what} | {gflops(name):.0f} | {reference} |")


if __name__ == "__main__":
    main()
