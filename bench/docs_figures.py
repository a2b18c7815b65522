#!/usr/bin/env python3
# ===- bench/docs_figures.py - the vaec-only figures the docs quote -------===#
#
# Compile times for each target, conv_vae's training step and memory, and
# training runs of mnist_vae and conv_vae with vae-train: what README.md and
# docs/ quote of vaec alone, measured in one run on this machine and written
# as a results file (machine, ISA, date, commit, and the command of each
# figure). No PyTorch or JAX needed (bench/compare.py is the side-by-side).
#
#   python3 bench/docs_figures.py [--out bench/results/DATE-CPU.md] [--repeats 3]
#
# ===----------------------------------------------------------------------===#
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import cpu_model, vector_isa  # noqa: E402 (the same machine line)
BIN = os.path.join(ROOT, "build", "bin")


def run(command, **kwargs):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(f"docs_figures.py: {' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return result, time.perf_counter() - start


def compile_times(work, repeats):
    cases = [
        ("mnist_vae, this CPU", ["models/mnist_vae.vdl"]),
        ("mnist_vae, --cpu=znver3 (AVX2)", ["models/mnist_vae.vdl", "--cpu=znver3"]),
        ("mnist_vae, --cpu=znver4 (AVX-512)", ["models/mnist_vae.vdl", "--cpu=znver4"]),
        ("mnist_vae, aarch64 neoverse-v1", ["models/mnist_vae.vdl", "--target-triple=aarch64-linux-gnu",
                                            "--cpu=neoverse-v1", "--no-parallel"]),
        ("mnist_vae, --target=nvptx", ["models/mnist_vae.vdl", "--target=nvptx"]),
        ("deep_vae, this CPU", ["models/deep_vae.vdl"]),
        ("conv_vae, this CPU", ["models/conv_vae.vdl"]),
        ("conv_vae, --conv=im2col", ["models/conv_vae.vdl", "--conv=im2col"]),
    ]
    rows = ["| model and target | compile to a .so, median of {} (s) | fastest (s) | command |"
            .format(repeats), "|---|---:|---:|---|"]
    for name, args in cases:
        times = [run([os.path.join(BIN, "vaec")] + args + ["-o", os.path.join(work, "x.so")])[1]
                 for _ in range(repeats)]
        rows.append(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | "
                    f"`vaec {' '.join(args)} -o x.so` |")
    return rows


def conv_step(work):
    library = os.path.join(work, "conv.so")
    stats, _ = run([os.path.join(BIN, "vaec"), "models/conv_vae.vdl", "--stats", "-o", library])
    flops = re.search(r"@vae_train_step: (\d+) FLOPs per batch", stats.stderr)
    arena = re.search(r"@vae_train_step: arena (\d+) bytes, lower bound (\d+), no reuse (\d+)",
                      stats.stderr)
    medians = []
    for _ in range(5):
        out, _ = run([os.path.join(BIN, "time_steps"), library])
        step = re.search(r"\(vae_train_step\): ([\d.]+) ms", out.stdout)
        medians.append(float(step.group(1)))
    rows = ["| conv_vae training step (time_steps, batch 128) | value |", "|---|---:|",
            f"| fastest of 5 medians of 200 steps (ms) | {min(medians):.1f} |",
            f"| slowest of the 5 medians (ms) | {max(medians):.1f} |",
            f"| samples/s at the fastest median | {128 / min(medians) * 1000:,.0f} |"]
    if flops:
        gflop = int(flops.group(1)) / 1e9
        rows += [f"| arithmetic of a training step (GFLOP, vaec --stats) | {gflop:.2f} |",
                 f"| GFLOP/s at the fastest median | {gflop / min(medians) * 1000:.0f} |"]
    if arena:
        rows += [f"| arena of the training step (bytes) | {int(arena.group(1)):,} |",
                 f"| its lower bound, the peak of live bytes | {int(arena.group(2)):,} |",
                 f"| without reuse | {int(arena.group(3)):,} |"]
    return rows, stats.stderr, library


def training(work, model, library, epochs, limit=None):
    out_dir = os.path.join(work, model + "-run")
    command = [os.path.join(BIN, "vae-train"), library, "--epochs", str(epochs), "--out", out_dir,
               "--no-progress"]
    if limit:
        command += ["--limit", str(limit)]
    result, seconds = run(command)
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    return command, lines, seconds


def main():
    parser = argparse.ArgumentParser(description="vaec-only figures for the docs")
    parser.add_argument("--out", help="results file (default: bench/results/DATE-docs-figures.md)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpu, isa = cpu_model(), vector_isa()
    today = datetime.date.today().isoformat()
    commit = run(["git", "rev-parse", "--short", "HEAD"])[0].stdout.strip()
    out = args.out or os.path.join(ROOT, "bench", "results", f"{today}-docs-figures.md")
    work = tempfile.mkdtemp(prefix="vaec-docs-figures-")
    lines = [f"# vaec alone: compile times, conv_vae's step, training runs ({today}, {isa})", "",
             f"Machine: {cpu}, {isa}, {os.cpu_count()} cores, {platform.system()} "
             f"{platform.release()}; vaec {commit}; libomp's default threads (one per core). "
             f"Command: `python3 bench/docs_figures.py --repeats {args.repeats}`.", "",
             "## Compile time (wall, 2 cores)", ""]
    lines += compile_times(work, args.repeats) + ["", "## conv_vae's training step", ""]
    rows, stats, conv = conv_step(work)
    lines += rows + ["", "`vaec models/conv_vae.vdl --stats`:", "", "```", stats.strip(), "```"]
    mnist = os.path.join(work, "mnist.so")
    run([os.path.join(BIN, "vaec"), "models/mnist_vae.vdl", "-o", mnist])
    for model, library, epochs in (("mnist_vae", mnist, 10), ("conv_vae", conv, 2)):
        command, epoch_lines, seconds = training(work, model, library, epochs)
        shown = ["vae-train"] + [arg.replace(work + "/", "WORK/") for arg in command[1:]]
        lines += ["", f"## {model}: vae-train for {epochs} epochs on Fashion-MNIST", "",
                  f"`{' '.join(shown)}` took {seconds:.1f} s; its epoch "
                  "lines:", "", "```"] + epoch_lines + ["```"]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
