#!/usr/bin/env python3
"""A GPU library (vaec --target=nvptx) without a GPU: vae-train stops at once
with a clear error and exit 1 where there is no CUDA driver or no device; with
a fake driver (tests/runtime/FakeCudaDriver.c: device memory from malloc,
kernels that do nothing, the checks a driver makes) the launcher loads the PTX
once, finds every kernel by name, launches each kernel of vae_train_step once
per step and frees all device memory; and a checkpoint written through the
GPU library (its parameters copied back from the device) is one the CPU
library of the model evaluates, and the reverse. vae-compare-steps, which
tools/gpu-check.sh runs on a GPU, tells kernels that compute nothing from the
CPU library's."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from checks import check, finish

vaec, vae_train, models, fake_drivers, compare_steps = sys.argv[1:6]


def vae(driver, *args, report=None, graphs=None):
    """vae-train ARGS with the CUDA driver `driver`."""
    env = dict(os.environ, VAE_CUDA_DRIVER=driver)
    if graphs is not None:
        env["VAE_CUDA_GRAPHS"] = graphs
    if report:
        env["VAE_FAKE_CUDA_REPORT"] = report
    run = subprocess.run([vae_train, *args], capture_output=True, text=True, env=env, timeout=600)
    print(run.stdout + run.stderr)
    return run


def train(library, out, driver, *extra, epochs="1", report=None, graphs=None):
    return vae(driver, library, "--epochs", epochs, "--limit", "640", "--out", out,
               "--no-progress", *extra, report=report, graphs=graphs)


def report_counts(path):
    return dict(line.rsplit(" ", 1) for line in open(path).read().splitlines())


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(models, "mnist_vae.vdl")
    gpu, cpu = os.path.join(tmp, "gpu.so"), os.path.join(tmp, "cpu.so")
    subprocess.run([vaec, model, "--batch", "64", "--target=nvptx", "-o", gpu], check=True)
    subprocess.run([vaec, model, "--batch", "64", "-o", cpu], check=True)
    stage = subprocess.run([vaec, model, "--batch", "64", "--target=nvptx", "--emit=gpu",
                            "--no-locations", "-o", "-"],
                           check=True, capture_output=True, text=True).stdout
    train_step = re.search(r"func\.func @vae_train_step\(.*?\n  \}\n", stage, re.S).group(0)
    kernels_per_step = train_step.count("gpu.launch_func")
    check(kernels_per_step > 0, f"vae_train_step launches {kernels_per_step} kernels")

    # No driver, no device, a driver whose cuInit fails: exit 1 at once, the
    # message saying what is missing and what to do, nothing written.
    for driver, says in [
        (os.path.join(tmp, "nowhere", "libcuda.so.1"), "cannot be opened"),
        (os.path.join(fake_drivers, "libvae_fake_cuda_no_device.so"), "finds no GPU"),
        (os.path.join(fake_drivers, "libvae_fake_cuda_init_fails.so"),
         "cuInit failed: CUDA_ERROR_NO_DEVICE"),
    ]:
        out = os.path.join(tmp, "refused")
        run = train(gpu, out, driver)
        check(run.returncode == 1, f"{os.path.basename(driver)}: exit 1 (got {run.returncode})")
        check("runs on an NVIDIA GPU (vaec --target=nvptx)" in run.stderr and says in run.stderr
              and "compile the model for the CPU" in run.stderr,
              f"{os.path.basename(driver)}: the error says '{says}' and what to do")
        check(not os.path.exists(os.path.join(out, "checkpoint.bin")),
              f"{os.path.basename(driver)}: no checkpoint written")

    # A library for sm_90 on an sm_80 GPU: refused, naming the fix.
    run = train(gpu, os.path.join(tmp, "older"), os.path.join(fake_drivers, "libvae_fake_cuda_sm80.so"))
    check(run.returncode == 1 and "was compiled for sm_90, but the GPU is Fake GPU, compute "
          "capability 8.0; recompile it with vaec --gpu-arch=sm_80" in run.stderr,
          "an sm_90 library on an sm_80 GPU: exit 1, recompile with --gpu-arch=sm_80")

    # The fake driver: 10 steps of batch 64.
    fake = os.path.join(fake_drivers, "libvae_fake_cuda.so")
    report = os.path.join(tmp, "report.txt")
    gpu_run = os.path.join(tmp, "gpu-run")
    run = train(gpu, gpu_run, fake, report=report)
    check(run.returncode == 0, "fake driver: vae-train exits 0")
    check("on Fake GPU, compute capability 9.0" in run.stdout, "vae-train names the GPU")
    counts = report_counts(report)
    check(counts.get("modules") == "1", f"one module loaded (PTX compiled once): {counts.get('modules')}")
    for what in ["allocations", "host_allocations", "graphs"]:
        check(counts.get("live_" + what) == "0",
              f"all device memory, page-locked memory and graphs freed: {what} "
              f"{counts.get('live_' + what)} live")
    launched = int(counts.get("launches vae_train_step", "0"))
    check(launched == 10 * kernels_per_step,
          f"vae_train_step: {launched} kernels run = 10 steps x {kernels_per_step} kernels")
    check(int(counts.get("launches vae_eval_elbo", "0")) > 0, "evaluation runs on the device")
    # The first step is launched kernel by kernel (it loads the module); the
    # other 9 are captured into a graph, instantiated once and updated with
    # each step's arguments (the step number, the staging slot).
    graphs = {k: int(counts.get(k, "-1"))
              for k in ["graphs_instantiated", "graph_updates", "graphs_launched"]}
    check(graphs == {"graphs_instantiated": 1, "graph_updates": 8, "graphs_launched": 9},
          f"steps 2-10 run as one CUDA graph each, instantiated once: {graphs}")

    # Graphs off ($VAE_CUDA_GRAPHS=0), or a driver without cuGraphExecUpdate_v2
    # (CUDA 11): every step kernel by kernel, the same kernels run.
    for driver, graphs_setting, why in [(fake, "0", "VAE_CUDA_GRAPHS=0"),
                                        (os.path.join(fake_drivers,
                                                      "libvae_fake_cuda_no_graph_update.so"),
                                         None, "a driver without graph updates")]:
        run = train(gpu, os.path.join(tmp, "no-graphs"), driver, report=report,
                    graphs=graphs_setting)
        counts = report_counts(report)
        check(run.returncode == 0 and counts.get("graphs_launched") == "0" and
              int(counts.get("launches vae_train_step", "0")) == 10 * kernels_per_step,
              f"{why}: no graph, the same {10 * kernels_per_step} kernels")
        shutil.rmtree(os.path.join(tmp, "no-graphs"))

    # Checkpoints go both ways. The fake kernels leave the parameters as
    # initialized, so the GPU run's checkpoint holds the initial parameters,
    # copied back from the device: the CPU library evaluates them to its own
    # -ELBO at initialization.
    cpu_run = os.path.join(tmp, "cpu-run")
    run = train(cpu, cpu_run, fake)
    initial = float(re.search(r"test -ELBO at initialization ([0-9.]+)", run.stdout).group(1))
    run = vae(fake, "eval", cpu, "--out", gpu_run)
    check(run.returncode == 0, "the CPU library evaluates the GPU library's checkpoint")
    evaluated = re.search(r"test -ELBO ([0-9.]+) nats", run.stdout)
    check(evaluated is not None and abs(float(evaluated.group(1)) - initial) <= 1e-6 * initial,
          f"... to the CPU library's -ELBO at initialization ({initial})")
    run = train(gpu, cpu_run, fake, "--resume", epochs="2")
    check(run.returncode == 0 and "test -ELBO at the checkpoint" in run.stdout,
          "the GPU library resumes the CPU library's checkpoint")

    # vae-compare-steps (tools/gpu-check.sh) catches kernels that do not
    # compute what the CPU library does.
    env = dict(os.environ, VAE_CUDA_DRIVER=fake)
    run = subprocess.run([compare_steps, cpu, gpu, "3"], capture_output=True, text=True, env=env)
    print(run.stdout + run.stderr)
    check(run.returncode == 1 and "the libraries DISAGREE" in run.stdout,
          "vae-compare-steps: the fake GPU's do-nothing kernels disagree with the CPU (exit 1)")

finish()
