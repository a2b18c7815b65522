#!/usr/bin/env python3
"""Data-parallel training on this machine, and on paper for a cluster.

Measured: mnist_vae trained by vae-train as 1 process x 2 threads and as 2
MPI processes x 1 thread (global batch 128 = 2 x 64, and 256 = 2 x 128),
with 1 process x 1 thread for reference: samples/s (median of the epochs
after the first), the allreduce's share of the epoch and its time per
step, and the test -ELBO. On paper: the ring allreduce of the gradients
(param_floats x 4 bytes) at 10, 25 and 100 Gb/s against the step time
measured here, and the per-process batch at which 8, 64 and 512 machines
keep >= 80 % of their compute (no overlap of the allreduce with the
backward pass).

    python3 bench/distributed.py [--epochs 3] [--limit N] [--out bench/results/FILE.md]

Needs a build (build/bin) with MPI; uses only the standard library."""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import cpu_model, vector_isa  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
# Latency of one message between machines, for the ring's 2 (N - 1) steps:
# TCP over Ethernet is 10-50 us, RDMA 1-3 us.
LATENCY_S = 10e-6


def train(library, out, processes, threads, epochs, limit):
    command = [os.path.join(BIN, "vae-train"), library, "--out", out, "--no-progress",
               "--epochs", str(epochs)] + (["--limit", str(limit)] if limit else [])
    if processes > 1:
        command = MPIRUN + ["-np", str(processes)] + command
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    later = metrics["epochs"][1:] or metrics["epochs"]
    steps = -(-(limit or 60000) // metrics["global_batch"])
    allreduce = [e.get("allreduce_seconds", 0) for e in later]
    return {
        "samples": statistics.median(e["samples_per_second"] for e in later),
        "share": statistics.median(a / e["seconds"] for a, e in zip(allreduce, later)),
        "allreduce_ms": 1e3 * statistics.median(allreduce) / steps,
        "neg_elbo": metrics["epochs"][-1]["test"]["neg_elbo"],
        "global_batch": metrics["global_batch"],
    }


def ring_allreduce_seconds(machines, megabytes, gbit):
    """Ring allreduce: 2 (N - 1) steps, each sending 1/N of the buffer."""
    bytes_per_second = gbit * 1e9 / 8
    return 2 * (machines - 1) * (megabytes * 1e6 / machines / bytes_per_second + LATENCY_S)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="train examples (0: all 60,000)")
    parser.add_argument("--out", help="also write the report here")
    args = parser.parse_args()
    model = os.path.join(ROOT, "models", "mnist_vae.vdl")
    lines = []

    def say(line=""):
        print(line)
        lines.append(line)

    with tempfile.TemporaryDirectory() as tmp:
        libraries = {}
        for batch in (64, 128):
            libraries[batch] = os.path.join(tmp, f"b{batch}.so")
            subprocess.run([os.path.join(BIN, "vaec"), model, "--batch", str(batch), "-o",
                            libraries[batch]], check=True)
        param_floats = None
        runs = [("1 process x 2 threads", 1, 2, 128), ("2 processes x 1 thread", 2, 1, 64),
                ("2 processes x 1 thread", 2, 1, 128), ("1 process x 1 thread", 1, 1, 128)]
        results = []
        for index, (name, processes, threads, batch) in enumerate(runs):
            out = os.path.join(tmp, f"run{index}")
            results.append((name, processes, batch, train(libraries[batch], out, processes,
                                                          threads, args.epochs, args.limit)))
            if param_floats is None:
                checkpoint = open(os.path.join(out, "checkpoint.bin"), "rb").read(16)
                param_floats = int.from_bytes(checkpoint[8:16], "little")

    cores = os.cpu_count()
    say(f"# Data-parallel training: 1 process x 2 threads against 2 MPI processes x 1 thread "
        f"({datetime.date.today()})")
    say()
    say(f"Machine: {cpu_model()}, {vector_isa()}, {cores} cores; Open MPI over shared memory. "
        f"mnist_vae, Fashion-MNIST ({args.limit or 60000} training examples), {args.epochs} "
        f"epochs, samples/s the median of the epochs after the first. Command: "
        f"`python3 bench/distributed.py --epochs {args.epochs}"
        f"{f' --limit {args.limit}' if args.limit else ''}`.")
    say()
    say("| run | batch per process | global batch | samples/s | vs 1 x 2 threads | "
        "allreduce share | allreduce per step | test −ELBO |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = results[0][3]["samples"]
    for name, processes, batch, r in results:
        share = f"{100 * r['share']:.0f} %" if processes > 1 else "—"
        per_step = f"{r['allreduce_ms']:.2f} ms" if processes > 1 else "—"
        say(f"| {name} | {batch} | {r['global_batch']} | {r['samples']:,.0f} | "
            f"{r['samples'] / base:.2f}× | {share} | {per_step} | {r['neg_elbo']:.2f} |")
    say()

    megabytes = param_floats * 4 / 1e6
    per_machine = base  # samples/s of one 2-core machine, measured above
    say(f"## On paper: a cluster of such machines ({per_machine:,.0f} samples/s each)")
    say()
    say(f"Each step allreduces the gradients: {param_floats:,} floats = {megabytes:.1f} MB. A "
        f"ring allreduce over N machines takes 2 (N − 1) steps, each sending 1/N of the buffer "
        f"and paying a latency of {LATENCY_S * 1e6:.0f} µs: 2 (N − 1)/N × {megabytes:.1f} MB / "
        f"bandwidth + 2 (N − 1) × {LATENCY_S * 1e6:.0f} µs. The step computes a batch of b per "
        f"machine in b / {per_machine:,.0f} s, and without overlap the machines keep "
        f"compute / (compute + allreduce) of their time; ≥ 80 % needs b ≥ 4 × allreduce × "
        f"{per_machine:,.0f}/s.")
    say()
    say("| link | machines | allreduce per step | step at b = 128 | efficiency at b = 128 | "
        "b per machine for ≥ 80 % |")
    say("|---|---:|---:|---:|---:|---:|")
    for gbit in (10, 25, 100):
        for machines in (8, 64, 512):
            allreduce = ring_allreduce_seconds(machines, megabytes, gbit)
            compute = 128 / per_machine
            needed = 4 * allreduce * per_machine
            say(f"| {gbit} Gb/s | {machines} | {allreduce * 1e3:.2f} ms | {compute * 1e3:.2f} ms "
                f"| {100 * compute / (compute + allreduce):.0f} % | {needed:,.0f} |")
    say()
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
