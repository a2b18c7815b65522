#!/usr/bin/env python3
"""bench/compare.py - vaec against PyTorch eager, torch.compile and JAX jit.

    bash bench/setup.sh                  # once: bench/.venv with the peers
    bench/.venv/bin/python bench/compare.py [--epochs 10] [--models mnist_vae,seed_vae]

Trains every model with vaec (build/bin/vaec + vae-train) and each peer
(bench/peers.py) one after the other in this run, on the same data, batch,
optimizer, initialization scheme, epochs and thread count, and writes a
Markdown table to bench/results/<date>-<host>-<isa>.md and
bench/results/latest-<isa>.md (avx512, avx2, neon: one per vector ISA seen):
train samples/s (median of the epochs after the first), time to first step
(compilation included), test -ELBO after the last epoch, peak RSS; then vaec's
GFLOP/s (the FLOPs vaec --stats counts for a training step) against an
OpenBLAS sgemm measured here on the same threads, the training step with
each vaec pass on and off (bench time_steps), vaec's compile time of every
model in models/, and the matmul kernels alone (bench/gemm.py). Numbers only,
no thresholds.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
PEERS = ["torch-eager", "torch-compile", "jax-jit"]


def run(command, env=None, capture=True):
    """Runs `command`; returns (stdout, seconds, peak RSS in MiB). Without
    `capture` its output goes to our stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE if capture else sys.stderr,
                               text=True, env={**os.environ, **(env or {})})
    out = process.stdout.read() if capture else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"compare.py: {' '.join(command)} failed with exit code {process.returncode}")
    return out, seconds, usage.ru_maxrss / 1024.0


def vaec_commit():
    """The short hash of the checkout the benchmark runs."""
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()


def cpu_model():
    """The CPU's name with its x86 family and model (AMD names every EPYC
    alike: family 25 model 1 is a Zen 3, model 17 a Zen 4; family 26 a Zen 5)."""
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "cpu family", "model"):
                fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or platform.processor() or "unknown"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def vector_isa():
    """The widest x86 vector ISA of this CPU (or the architecture)."""
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith(("flags", "Features")):
                flags = " " + line.split(":", 1)[1].strip() + " "
                break
    if " avx512f " in flags:
        return "AVX-512"
    if " avx2 " in flags:
        return "AVX2" + (" + FMA" if " fma " in flags else "")
    if " asimd " in flags:
        return "NEON"
    return platform.machine()


def compile_times(models, work):
    """vaec's wall time to a library for each of `models` (best of 3), with
    its --timing split."""
    rows = []
    for model in models:
        path = os.path.join(ROOT, "models", model + ".vdl")
        best = None
        for _ in range(3):
            start = time.perf_counter()
            timing = subprocess.run([os.path.join(BIN, "vaec"), path, "--timing", "-o",
                                     os.path.join(work, model + "-timing.so")],
                                    capture_output=True, text=True, check=True).stderr
            seconds = time.perf_counter() - start
            if best is None or seconds < best[0]:
                best = (seconds, timing)
        seconds, timing = best

        def stage(name):
            # The wall time: the last column (with threads, user time comes first).
            found = re.search(r"^\s+(?:[0-9.]+ \([ 0-9.]+%\)\s+)?([0-9.]+) \([ 0-9.]+%\)\s+"
                              + re.escape(name), timing, re.M)
            return float(found.group(1)) if found else float("nan")
        rows.append((model, seconds, stage("MLIR pass pipeline"),
                     stage("translate to LLVM IR"), stage("LLVM -O3 and machine code"),
                     stage("link (clang-19 -shared)")))
    return rows


def has_avx512():
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx512f" in line for line in f)


def sgemm_gflops(threads, m, k, n, repeats, coretype=None):
    """OpenBLAS sgemm (numpy's, from PyPI) on `threads` threads; `coretype`
    forces OpenBLAS's kernel (its detection takes a Zen 5 for a Haswell and
    uses AVX2 there: half the peak of its AVX-512 SkylakeX kernel)."""
    code = f"""
import time, numpy as np
a = np.random.rand({m}, {k}).astype(np.float32); b = np.random.rand({k}, {n}).astype(np.float32)
for _ in range(3): a @ b
t = []
for _ in range({repeats}):
    s = time.perf_counter(); a @ b; t.append(time.perf_counter() - s)
t.sort(); print(2 * {m} * {k} * {n} / t[len(t) // 2] / 1e9)
"""
    env = {"OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out, _, _ = run([sys.executable, "-c", code], env=env)
    return float(out.strip())


def vaec_flops(model_path):
    """FLOPs of one training step, as vaec --stats counts them."""
    process = subprocess.run([os.path.join(BIN, "vaec"), model_path, "--emit=grad",
                              "--stats", "-o", os.devnull],
                             capture_output=True, text=True, check=True)
    return int(re.search(r"@train_step: (\d+) FLOPs", process.stderr).group(1))


def train_vaec(model, args, work):
    model_path = os.path.join(ROOT, "models", model + ".vdl")
    library = os.path.join(work, model + ".so")
    _, compile_seconds, compile_rss = run([os.path.join(BIN, "vaec"), model_path,
                                           "-o", library])
    out_dir = os.path.join(work, model + "-out")
    _, _, rss = run([os.path.join(BIN, "vae-train"), library, "--data", args.data,
                     "--epochs", str(args.epochs), "--out", out_dir, "--no-progress",
                     "--overwrite"], capture=False)
    with open(os.path.join(out_dir, "metrics.json")) as f:
        metrics = json.load(f)
    epochs = metrics["epochs"]
    return {
        "samples_per_second": [e["samples_per_second"] for e in epochs],
        "first_step_seconds": compile_seconds + metrics["first_step_seconds"],
        "compile_seconds": compile_seconds, "compile_rss": compile_rss,
        "test": epochs[-1]["test"], "rss": rss, "library": library,
    }


def train_peer(framework, model, args):
    out, _, rss = run([sys.executable, os.path.join(ROOT, "bench", "peers.py"),
                       "--framework", framework, "--model", model,
                       "--epochs", str(args.epochs), "--data", args.data,
                       "--threads", str(args.threads)])
    result = json.loads(out.strip().splitlines()[-1])
    result["rss"] = rss
    return result


def steady_rate(result):
    rates = result["samples_per_second"]
    return statistics.median(rates[1:] if len(rates) > 1 else rates)


def time_step(library, repeats=200):
    out, _, _ = run([os.path.join(BIN, "time_steps"), library, str(repeats)])
    match = re.search(r"train step.*?: ([\d.]+) ms.*?([\d.]+) samples/s", out)
    return float(match.group(1)), float(match.group(2))


def ablation(model, work):
    """The training step with each vaec pass on and off."""
    rows, unfused = [], "-"
    model_path = os.path.join(ROOT, "models", model + ".vdl")
    for flags in ([], ["--no-fusion"], ["--no-memory-plan"], ["--no-fusion", "--no-memory-plan"],
                  ["--no-parallel"]):
        library = os.path.join(work, f"{model}{''.join(flags)}.so")
        stats = subprocess.run([os.path.join(BIN, "vaec"), model_path, "--stats", "-o",
                                library, *flags], capture_output=True, text=True, check=True)
        # Graph-level fusion, then the matmul epilogues fused at tile level.
        kernels = re.search(r"@vae_train_step: kernels (\d+) -> (\d+) \(fusion\)"
                            r"(?: -> (\d+) \(matmul epilogues\))?", stats.stderr)
        arena = re.search(r"@vae_train_step: arena (\d+) bytes", stats.stderr)
        ms, rate = time_step(library)
        if kernels:
            unfused = kernels.group(1)
        rows.append((" ".join(flags) or "(all passes)",
                     (kernels.group(3) or kernels.group(2)) if kernels else unfused,
                     arena.group(1) if arena else "-", ms, rate))
    return rows


def command_line():
    """This run's command line as typed, every flag included."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT) \
        else sys.executable
    return " ".join(shlex.quote(arg) for arg in
                    [python, os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:])


def initialization(models):
    """How each model's parameters start: the same scheme in every framework
    (vaec draws with its Philox seed, the peers from bench/peers.py's
    init_params)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import peers  # noqa: E402 (numpy: the venv's)
    kinds = []
    for model in models:
        layers = "Conv2d/ConvTranspose2d and Linear" if peers.MODELS.get(model, {}).get("conv") \
            else "Linear"
        kinds.append(f"{model}: PyTorch's default for nn.{layers} (weight and bias uniform in "
                     "±1/sqrt(fan_in); vaec's own draw, the peers' from NumPy)")
    return "; ".join(kinds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--models", default="mnist_vae,seed_vae")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    for tool in ("vaec", "vae-train", "time_steps"):
        if not os.path.exists(os.path.join(BIN, tool)):
            sys.exit(f"compare.py: {BIN}/{tool} is missing: build first "
                     "(cmake -S . -B build -G Ninja && cmake --build build)")

    work = tempfile.mkdtemp(prefix="vaec-bench-")
    started = datetime.datetime.now()
    isa = vector_isa()
    lines = [f"# vaec against PyTorch and JAX ({started:%Y-%m-%d}, {isa})", "",
             f"Machine: {cpu_model()} ({isa}), {os.cpu_count()} cores, "
             f"{platform.system()} {platform.release()}; "
             f"every framework on {args.threads} threads; {args.epochs} epochs of "
             f"Fashion-MNIST ({args.data}), batch 128, Adam lr 1e-3. "
             f"Initialization: {initialization(args.models.split(','))}. "
             "Samples/s: median of the epochs after the first (shuffling and batching "
             "included). Time to first step: from the process start (vaec: from the "
             "start of the compiler) to the end of the first training step. "
             f"Command: `{command_line()}`.", ""]
    # In a child: a process forked from one that imported torch would count
    # this one's memory in its peak RSS.
    versions, _, _ = run([sys.executable, "-c", "import numpy, torch, jax; print("
                          "f'torch {torch.__version__}, jax {jax.__version__}, "
                          "numpy {numpy.__version__}')"])
    lines += [f"Versions: {versions.strip()}, vaec {subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}.", ""]
    # The peak is the better of OpenBLAS's own kernel choice and, where the
    # CPU has AVX-512, its AVX-512 kernel.
    coretype = "SkylakeX" if has_avx512() else None
    detected = sgemm_gflops(args.threads, 2048, 2048, 2048, 10)
    forced = sgemm_gflops(args.threads, 2048, 2048, 2048, 10, coretype) if coretype else 0
    peak = max(detected, forced)
    best_kernel = coretype if forced > detected else None
    peak_shape = sgemm_gflops(args.threads, 128, 784, 400, 200, best_kernel)
    peak_one = sgemm_gflops(1, 2048, 2048, 2048, 10, best_kernel)
    lines += [f"OpenBLAS sgemm (numpy): {peak:.0f} GFLOP/s on {args.threads} threads, "
              f"{peak_one:.0f} on 1 (2048³); {peak_shape:.0f} at 128×784·784×400 on "
              f"{args.threads}" + (f" — with OPENBLAS_CORETYPE={coretype} (AVX-512); "
                                   f"its own kernel choice gives {detected:.0f} on "
                                   f"{args.threads} threads" if coretype else "") + ".", ""]

    lines += ["| model | framework | train samples/s | vs vaec | time to first step | "
              "test −ELBO | peak RSS |", "|---|---|---:|---:|---:|---:|---:|"]
    notes, ablations = [], {}
    for model in args.models.split(","):
        print(f"== {model}: vaec", file=sys.stderr)
        results = {"vaec": train_vaec(model, args, work)}
        for framework in [p for p in args.peers.split(",") if p]:
            print(f"== {model}: {framework}", file=sys.stderr)
            results[framework] = train_peer(framework, model, args)
        ours = steady_rate(results["vaec"])
        for name, result in results.items():
            rate = steady_rate(result)
            lines.append(f"| {model} | {name} | {rate:,.0f} | {rate / ours:.2f}× | "
                         f"{result['first_step_seconds']:.2f} s | "
                         f"{result['test']['neg_elbo']:.2f} | {result['rss']:.0f} MiB |")
        flops = vaec_flops(os.path.join(ROOT, "models", model + ".vdl"))
        gflops = flops * ours / 128 / 1e9
        best = max((steady_rate(r), n) for n, r in results.items() if n != "vaec") \
            if len(results) > 1 else (0, "-")
        notes.append(f"- {model}: vaec trains at {gflops:.0f} GFLOP/s ({flops / 1e6:.0f} "
                     f"MFLOP per step of 128) = {100 * gflops / peak:.0f}% of the "
                     f"{args.threads}-thread sgemm peak; best peer {best[1]} at "
                     f"{best[0]:,.0f} samples/s ({ours / best[0] if best[0] else 0:.2f}× "
                     f"for vaec); compiling took {results['vaec']['compile_seconds']:.2f} s "
                     f"and {results['vaec']['compile_rss']:.0f} MiB.")
        ablations[model] = ablation(model, work)
    lines += [""] + notes + ["", "## vaec's passes on and off (bench time_steps, "
                            "median of 200 training steps, no data loading)", "",
                            "| model | vaec flags | train_step kernels (loop nests) | arena bytes | "
                            "ms per step | samples/s |", "|---|---|---:|---:|---:|---:|"]
    for model, rows in ablations.items():
        for flags, kernels, arena, ms, rate in rows:
            lines.append(f"| {model} | {flags} | {kernels} | {int(arena):,} | {ms:.3f} | "
                         f"{rate:,.0f} |" if arena != "-" else
                         f"| {model} | {flags} | {kernels} | - | {ms:.3f} | {rate:,.0f} |")
    # Compile time of every model in models/ (deep_vae: an 8-layer MLP).
    print("== compile times", file=sys.stderr)
    models = sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, "models")) if f.endswith(".vdl"))
    lines += ["", f"## Compile time (vaec to a .so, wall, best of 3, {os.cpu_count()} cores)", "",
              "| model | total | MLIR passes | translate | LLVM -O3 + machine code | link |",
              "|---|---:|---:|---:|---:|---:|"]
    for model, total, passes, translate, llvm, link in compile_times(models, work):
        lines.append(f"| {model} | {total:.2f} s | {passes:.2f} s | {translate:.2f} s | "
                     f"{llvm:.2f} s | {link:.2f} s |")
    # The matmul kernels alone, and on packed operands (bench/gemm.py).
    print("== matmul kernels (bench/gemm.py)", file=sys.stderr)
    kernels, _, _ = run([sys.executable, os.path.join(ROOT, "bench", "gemm.py"),
                         "--build", os.path.dirname(BIN)])
    lines += ["", "## The matmul kernels alone (bench/gemm.py)", "", kernels.strip()]
    table = "\n".join(lines) + "\n"
    os.makedirs(args.out, exist_ok=True)
    # One file per run, and the latest per vector ISA (the hosts differ).
    tag = isa.split(" ")[0].lower().replace("-", "")
    name = f"{started:%Y-%m-%d}-{platform.node() or 'host'}-{tag}.md"
    for path in (os.path.join(args.out, name), os.path.join(args.out, f"latest-{tag}.md")):
        with open(path, "w") as f:
            f.write(table)
    print(table)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
