#!/usr/bin/env python3
"""Data-parallel training under mpirun (docs/distributed.md), on this machine:

- 2 processes x batch 64 train what 1 process x batch 128 does: the same
  examples, noise and update per step, only the gradient's summation order
  differs. Parameters after 20 steps within 1e-5 relative (L2), each step's
  loss within 1e-5 relative, and the test -ELBO after one epoch of
  Fashion-MNIST within 0.25 nat. (Not the 0.05 nat the issue hoped for: the
  rounding differences grow over 469 steps, and on seeds 1-6 the two ended
  0.12, 0.01, 0.00, 0.07, 0.03 and 0.05 nat apart, either side, and 4 x 32
  up to 0.25 from 2 x 64; the 20-step check is the exact one.)
- A process killed (SIGKILL) mid-epoch: mpirun ends within 30 s with a
  non-zero exit, the last checkpoint intact (vae-train eval reads it), and a
  resume continues the run to its end.
- A resume with another number of processes is refused, naming the one to
  use; an inference command under mpirun is refused.
- 4 processes on 2 cores (oversubscribed) complete an epoch.
- Ctrl-C to mpirun stops every process at one step with a checkpoint
  there; the resumed run ends bit-identical to one never stopped.

CI runs as root: mpirun needs --allow-run-as-root, and --oversubscribe for
more processes than cores."""

import array
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

from checks import check, finish

vaec, vae_train, models, mpirun = sys.argv[1:5]
MPIRUN = [mpirun, "--allow-run-as-root", "--oversubscribe"]
# One thread per process: the processes are what is being tested.
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def run(command, timeout=600):
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=timeout)
    print("$ " + " ".join(command[-12:]) + "\n" + result.stdout + result.stderr)
    return result


def train(library, out, processes, *extra):
    prefix = MPIRUN + ["-np", str(processes)] if processes else []
    return run(prefix + [vae_train, library, "--out", out, "--no-progress", *extra])


def parameters(checkpoint):
    """The parameters of a checkpoint.bin (runtime/Checkpoint.h)."""
    data = open(checkpoint, "rb").read()
    assert data[:8] == b"VAECKPT3"
    param_floats, _, _, _, _, _, record_bytes = struct.unpack_from("<7q", data, 8)
    start = 8 + 7 * 8 + 4 * 8 + record_bytes
    values = array.array("f")
    values.frombytes(data[start:start + 4 * param_floats])
    return values


def relative_l2(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / sum(x * x for x in a))


def test_neg_elbo(out):
    return json.load(open(os.path.join(out, "metrics.json")))["epochs"][-1]["test"]["neg_elbo"]


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(models, "mnist_vae.vdl")
    b128, b64 = os.path.join(tmp, "b128.so"), os.path.join(tmp, "b64.so")
    subprocess.run([vaec, model, "--batch", "128", "-o", b128], check=True)
    subprocess.run([vaec, model, "--batch", "64", "-o", b64], check=True)

    # 20 steps of a global batch of 128.
    one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
    first = train(b128, one, 0, "--limit", "2560", "--epochs", "1")
    second = train(b64, two, 2, "--limit", "2560", "--epochs", "1")
    check(first.returncode == 0 and second.returncode == 0,
          "1 x 128 and 2 x 64 train 20 steps (exit 0)")
    check("x 2 processes (batch 64 each)" in second.stdout and "20 steps per epoch" in second.stdout,
          "the 2-process run says so: global batch 128, 20 steps")
    check(second.stdout.count("epoch 1/1") == 1, "only rank 0 prints")
    a, b = parameters(os.path.join(one, "checkpoint.bin")), parameters(os.path.join(two, "checkpoint.bin"))
    distance = relative_l2(a, b)
    check(len(a) == 652848 and len(a) == len(b) and distance <= 1e-5,
          f"parameters after 20 steps: relative L2 distance {distance:.2e} <= 1e-5 "
          f"({len(a)} floats)")
    def losses(out):
        rows = open(os.path.join(out, "steps.csv")).read().splitlines()[1:]
        return [float(row.split(",")[3]) for row in rows]
    worst = max((abs(x - y) / abs(x) for x, y in zip(losses(one), losses(two))), default=1)
    check(len(losses(one)) == 20 and len(losses(two)) == 20 and worst <= 1e-5,
          f"the loss of each of the 20 steps: relative difference at most {worst:.2e} <= 1e-5")
    metrics = json.load(open(os.path.join(two, "metrics.json")))
    check(metrics["processes"] == 2 and metrics["global_batch"] == 128 and
          metrics["epochs"][0]["allreduce_seconds"] > 0,
          "metrics.json: 2 processes, global batch 128, the allreduce's seconds")

    # One epoch of Fashion-MNIST (469 steps).
    one_epoch, two_epoch = os.path.join(tmp, "one-epoch"), os.path.join(tmp, "two-epoch")
    first = train(b128, one_epoch, 0, "--epochs", "1")
    second = train(b64, two_epoch, 2, "--epochs", "1")
    if first.returncode == 0 and second.returncode == 0:
        x, y = test_neg_elbo(one_epoch), test_neg_elbo(two_epoch)
        check(abs(x - y) <= 0.25, f"test -ELBO after 1 epoch: {x:.3f} (1 x 128) and "
              f"{y:.3f} (2 x 64), {abs(x - y):.3f} nat apart (<= 0.25)")
    else:
        check(False, "one epoch on 1 and on 2 processes")

    # Another number of processes cannot resume the run; neither can one
    # process alone.
    refused = train(b64, two, 4, "--resume", "--limit", "2560", "--epochs", "2")
    check(refused.returncode != 0 and "this run has 4 processes, the run had 2: resume it "
          "with mpirun -np 2" in refused.stderr, "a resume on 4 processes of a 2-process run: "
          "refused, naming mpirun -np 2")
    refused = train(b64, two, 0, "--resume", "--limit", "2560", "--epochs", "2")
    check(refused.returncode != 0 and "resume it with mpirun -np 2" in refused.stderr,
          "... and on one process")
    refused = run(MPIRUN + ["-np", "2", vae_train, "eval", b64, "--out", two])
    check(refused.returncode != 0 and "only training runs over several processes" in
          refused.stderr, "eval under mpirun: refused")

    # 4 processes on 2 cores.
    four = os.path.join(tmp, "four")
    result = train(b64, four, 4, "--limit", "5120", "--epochs", "1")
    check(result.returncode == 0 and "x 4 processes" in result.stdout and
          json.load(open(os.path.join(four, "metrics.json")))["global_batch"] == 256,
          "4 processes (oversubscribed) complete an epoch of global batch 256")

    # A process killed with SIGKILL at the start of epoch 2: the run ends,
    # the checkpoint of epoch 1 stays.
    killed = os.path.join(tmp, "killed")
    checkpoint = os.path.join(killed, "checkpoint.bin")
    command = MPIRUN + ["-np", "2", vae_train, b64, "--out", killed, "--no-progress",
                        "--epochs", "3", "--limit", "30000"]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=ENV)
    deadline = time.time() + 300
    while not os.path.exists(checkpoint) and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    saved = open(checkpoint, "rb").read() if os.path.exists(checkpoint) else b""
    ranks = subprocess.run(["pgrep", "-P", str(job.pid), "-f", "vae-train"],
                           capture_output=True, text=True).stdout.split()
    victim = ranks[-1] if ranks else None
    if victim:
        os.kill(int(victim), signal.SIGKILL)
    killed_at = time.time()
    try:
        output, _ = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        output, _ = job.communicate()
    waited = time.time() - killed_at
    print(output)
    check(victim is not None and saved != b"", f"a rank ({victim}) killed after the checkpoint "
          "of epoch 1")
    check(waited <= 30 and job.returncode != 0,
          f"the job ends {waited:.1f} s after the kill with exit {job.returncode} (non-zero, <= 30 s)")
    check(os.path.exists(checkpoint) and open(checkpoint, "rb").read() == saved,
          "the checkpoint of epoch 1 is intact")
    result = run([vae_train, "eval", b64, "--out", killed])
    check(result.returncode == 0 and "test -ELBO" in result.stdout, "vae-train eval reads it")
    result = train(b64, killed, 2, "--resume", "--epochs", "3")
    check(result.returncode == 0 and "resuming from" in result.stdout and
          "epoch 3/3" in result.stdout, "mpirun -np 2 ... --resume continues the run to epoch 3")

    # Ctrl-C to mpirun mid-epoch: it passes SIGTERM on, the processes agree
    # on the step to stop after, rank 0 saves it; the resumed run ends
    # bit-identical to one never stopped.
    stopped, whole = os.path.join(tmp, "stopped"), os.path.join(tmp, "whole")
    settings = ["--epochs", "2", "--limit", "30000"]
    result = train(b64, whole, 2, *settings)
    job = subprocess.Popen(MPIRUN + ["-np", "2", vae_train, b64, "--out", stopped,
                                     "--no-progress", *settings],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    for line in job.stdout:  # the first step is near
        if line.startswith("adam"):
            break
    time.sleep(0.5)
    job.send_signal(signal.SIGINT)
    output = job.stdout.read()
    job.wait(timeout=60)
    print(output)
    # (On a loaded machine the signal may land in either epoch, or between
    # them: any step is a stop every process agrees on.)
    check(job.returncode != 0 and "vae-train: terminated (SIGTERM)" in output and
          "(--resume continues from it)" in output,
          f"Ctrl-C to mpirun: the run stops with a checkpoint (exit {job.returncode})")
    result = train(b64, stopped, 2, "--resume", *settings)
    check(result.returncode == 0 and "resuming from" in result.stdout,
          "... and resumes from that step")
    check(parameters(os.path.join(stopped, "checkpoint.bin")) ==
          parameters(os.path.join(whole, "checkpoint.bin")),
          "... to the parameters of the run never stopped, bit for bit")

finish()
