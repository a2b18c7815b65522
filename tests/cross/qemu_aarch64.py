#!/usr/bin/env python3
"""aarch64 end to end: vaec compiles a model for aarch64 (neoverse-v1, NEON
register blocks, --no-parallel) and links it with lld and Debian's arm64 cross
C library; abi-harness.c, cross-compiled, runs its entry points under
qemu-aarch64-static. The same harness runs the same model compiled for this
machine (whose results the reference tests check against float64), and the
two dumps must agree: losses and gradients to float32 rounding of different
summation orders, parameters after two Adam steps likewise.

usage: qemu_aarch64.py VAEC MODEL.vdl SOURCE_DIR WORK_DIR BATCH..."""

import os
import shutil
import struct
import subprocess
import sys

vaec, model, source, work = sys.argv[1:5]
batches = sys.argv[5:] or ["7"]
os.makedirs(work, exist_ok=True)
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def need(found, what, package):
    if not found:
        sys.exit(f"qemu_aarch64: {what} is missing (Debian: {package}, which "
                 "tools/install-deps.sh installs)")


qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
need(qemu, "qemu-aarch64-static", "qemu-user-static")
need(shutil.which("clang-19"), "clang-19", "clang-19")
need(shutil.which("ld.lld-19") or shutil.which("ld.lld"), "ld.lld", "lld-19")
need(os.path.exists("/usr/aarch64-linux-gnu/lib/libc.so"), "the arm64 C library",
     "libc6-dev-arm64-cross")


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"qemu_aarch64: {' '.join(args)} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return result.stdout


harness = os.path.join(source, "tests", "cross", "abi-harness.c")
include = os.path.join(source, "runtime", "include")
run(["clang-19", "-O1", "-std=c11", "-I", include, harness, "-ldl", "-o",
     os.path.join(work, "harness-host")])
run(["clang-19", "--target=aarch64-linux-gnu", "-fuse-ld=lld", "-O1", "-std=c11",
     "-I", include, harness, "-ldl", "-o", os.path.join(work, "harness-aarch64")])

# Without --no-parallel (no libomp for arm64 here) the link would fail:
# vaec must say so before compiling, naming what is missing.
refused = subprocess.run([vaec, model, "--target-triple=aarch64-linux-gnu", "-o",
                          os.path.join(work, "parallel.so")], capture_output=True, text=True)
check(refused.returncode != 0 and "libomp" in refused.stderr and "--no-parallel" in refused.stderr,
      "a parallel aarch64 library is refused with a message naming libomp and --no-parallel")


def floats(path):
    with open(path, "rb") as f:
        data = f.read()
    return struct.unpack(f"<{len(data) // 4}f", data)


def relative_l2(a, b):
    diff = sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5
    norm = sum(y * y for y in b) ** 0.5
    return diff / max(norm, 1e-30)


for batch in batches:
    libs = {}
    for arch, flags in (("host", []),
                        ("aarch64", ["--target-triple=aarch64-linux-gnu", "--cpu=neoverse-v1"])):
        libs[arch] = os.path.join(work, f"model-b{batch}-{arch}.so")
        run([vaec, model, "--batch", batch, "--no-parallel", *flags, "-o", libs[arch]])
    check(open(libs["aarch64"], "rb").read(20)[18] == 0xB7,  # e_machine = EM_AARCH64
          f"batch {batch}: the aarch64 library is an AArch64 ELF")
    host_dump = os.path.join(work, f"b{batch}-host.bin")
    arm_dump = os.path.join(work, f"b{batch}-aarch64.bin")
    print(run([os.path.join(work, "harness-host"), libs["host"], host_dump]).strip())
    print(run([qemu, "-L", "/usr/aarch64-linux-gnu", os.path.join(work, "harness-aarch64"),
               libs["aarch64"], arm_dump]).strip())
    host, arm = floats(host_dump), floats(arm_dump)
    check(len(host) == len(arm) and len(host) > 12, f"batch {batch}: dumps of {len(host)} floats")
    if len(host) != len(arm):
        continue
    n = (len(host) - 12) // 2
    sections = {
        "eval_elbo terms": (0, 3), "grad_step terms": (3, 6), "gradients": (6, 6 + n),
        "train_step terms": (6 + n, 12 + n), "parameters after two steps": (12 + n, 12 + 2 * n),
    }
    for name, (begin, end) in sections.items():
        error = relative_l2(arm[begin:end], host[begin:end])
        check(all(v == v and abs(v) != float("inf") for v in arm[begin:end]) and error < 1e-4,
              f"batch {batch}: {name} agree (relative L2 error {error:.2e})")
    loss0 = host[0]
    check(arm[12 + n - 3] < loss0,
          f"batch {batch}: two Adam steps on aarch64 lower the loss ({loss0:.3f} -> {arm[12 + n - 3]:.3f})")

print(f"qemu_aarch64: {len(failures)} failing")
sys.exit(1 if failures else 0)
