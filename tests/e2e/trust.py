#!/usr/bin/env python3
"""End to end, what vae-train reads and writes can be trusted (issue 34):

- a run folder is locked: a second training (or a writing subcommand) into
  the folder of a running one is refused at once, exit 1, naming the folder
  and the holder's PID and host, and the first run's checkpoint is
  byte-identical to a lone run's; a killed holder leaves the folder free;
- a checkpoint with a flipped byte is refused by `vae-train eval` as
  corrupt (it printed a NaN -ELBO and exited 0);
- data outside [0, 1] is refused for a Bernoulli likelihood and for
  --binarize, naming the file, the example and the position (a z-scored
  .npy trained to a -ELBO of -175,768 without a word).

No NumPy here: .npy files are written by hand."""

import os
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, finish, write_npy

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]
LOCK = ".vae-train.lock"



def run(*args):
    result = subprocess.run([vae_train] + [str(a) for a in args], capture_output=True, text=True)
    return result


def wait_for_lock(folder, job, timeout=60):
    """Until `job` has written its PID into the folder's lock file."""
    path, deadline = os.path.join(folder, LOCK), time.time() + timeout
    while time.time() < deadline and job.poll() is None:
        if os.path.exists(path) and f"pid={job.pid}\n" in open(path).read():
            return True
        time.sleep(0.005)
    return False


def read(path):
    return open(path, "rb").read()


with tempfile.TemporaryDirectory() as tmp:
    so, gaussian = os.path.join(tmp, "vae.so"), os.path.join(tmp, "gaussian.so")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "--batch", "32", "-o", so],
                   check=True)
    subprocess.run([vaec, os.path.join(models, "seed_vae.vdl"), "--batch", "32", "-o", gaussian],
                   check=True)
    train = ["--limit", "640", "--epochs", "2", "--seed", "5", "--no-progress"]

    # --- Locked run folders --------------------------------------------------
    lone = os.path.join(tmp, "lone")
    check(run(so, *train, "--out", lone).returncode == 0, "a lone run trains")
    shared = os.path.join(tmp, "shared")
    first = subprocess.Popen([vae_train, so, *train, "--out", shared],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    locked = wait_for_lock(shared, first)
    check(locked, "the first run locks its folder and names itself in the lock file")
    # Held still while the others try: the outcome cannot depend on timing.
    first.send_signal(signal.SIGSTOP)
    host = os.uname().nodename
    lone_checkpoint = os.path.join(lone, "checkpoint.bin")
    for who, args in (("a second training with --overwrite", [gaussian, *train, "--overwrite"]),
                      ("a second training", [gaussian, *train]),
                      ("encode", ["encode", so, "--checkpoint", lone_checkpoint]),
                      ("sample", ["sample", so, "--n", "4", "--checkpoint", lone_checkpoint])):
        second = run(*args, "--out", shared)
        check(second.returncode == 1 and f"'{shared}' is in use by process {first.pid} on host "
              f"{host} (vae-train train since" in second.stderr,
              f"{who} into the same folder is refused naming the holder: "
              + second.stderr.strip()[:160])
    first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=600)
    check(first.returncode == 0, "the first run finishes: " + err.strip()[-200:])
    check(read(os.path.join(shared, "checkpoint.bin")) == read(os.path.join(lone, "checkpoint.bin")),
          "its checkpoint is byte-identical to the lone run's")
    metrics = open(os.path.join(shared, "metrics.csv")).read().splitlines()
    check(len(metrics) == 3, f"metrics.csv has one row per epoch of one run ({len(metrics) - 1})")
    check(run("eval", so, "--out", shared).returncode == 0, "eval reads the finished run")

    # A holder killed with SIGKILL leaves nothing to clean up.
    killed = subprocess.Popen([vae_train, so, *train, "--out", shared, "--overwrite"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(wait_for_lock(shared, killed), "a run that will be killed takes the lock")
    killed.kill()
    killed.wait()
    after = run(so, *train, "--out", shared, "--overwrite")
    check(after.returncode == 0, "after kill -9 the folder is free: " + after.stderr.strip()[:160])

    # --- Checksummed checkpoints ---------------------------------------------
    checkpoint = read(os.path.join(lone, "checkpoint.bin"))
    damaged = os.path.join(tmp, "damaged.bin")
    for offset, value in ((1000, 0x7f), (len(checkpoint) // 2, 0xff), (30, 0x01)):
        flipped = bytearray(checkpoint)
        flipped[offset] ^= value
        open(damaged, "wb").write(flipped)
        ev = run("eval", so, "--checkpoint", damaged)
        check(ev.returncode == 1 and f"'{damaged}' is corrupt" in ev.stderr and
              "nan" not in ev.stdout,
              f"a checkpoint with byte {offset} changed is refused: " + ev.stderr.strip()[:120])

    # --- Data against the likelihood -----------------------------------------
    # z-scored data: a ramp from -1.5 to 1.5 over each image.
    values = [(j % 784) / 783 * 3 - 1.5 for j in range(200 * 784)]
    zscored = os.path.join(tmp, "zscored.npy")
    write_npy(zscored, (200, 28, 28), values)
    bern = run(so, "--data", zscored, "--test-fraction", "0.2", "--out", os.path.join(tmp, "z"))
    check(bern.returncode == 1 and f"'{zscored}': x[0, 0, 0] (example 0) is -1.5, outside [0, 1]"
          in bern.stderr and "Bernoulli likelihood" in bern.stderr and "--binarize" in bern.stderr
          and not os.path.exists(os.path.join(tmp, "z")),
          "a Bernoulli model refuses z-scored data: " + bern.stderr.strip()[:200])
    gauss = run(gaussian, "--data", zscored, "--test-fraction", "0.2", "--epochs", "1",
                "--out", os.path.join(tmp, "g"))
    check(gauss.returncode == 0, "a Gaussian model trains on the same data")
    binar = run(gaussian, "--data", zscored, "--test-fraction", "0.2", "--binarize", "dynamic",
                "--out", os.path.join(tmp, "gb"))
    check(binar.returncode == 1 and "outside [0, 1]; --binarize dynamic draws each value as a "
          "probability" in binar.stderr, "--binarize refuses it too: " + binar.stderr.strip()[:200])

    # --- Usage errors exit 2, naming the flag (CLI11 gave 105) ----------------
    usage = subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "--batch", "0", "-o",
                            os.path.join(tmp, "x.so")], capture_output=True, text=True)
    check(usage.returncode == 2 and "--batch" in usage.stderr,
          f"vaec --batch 0 exits {usage.returncode} naming the flag: " + usage.stderr.strip())
    usage = run(so, "--epochs", "many")
    check(usage.returncode == 2 and "--epochs" in usage.stderr,
          f"vae-train --epochs many exits {usage.returncode} naming the flag: "
          + usage.stderr.strip())

finish()
