#!/usr/bin/env python3
"""End to end: vaec compiles mnist_vae.vdl, vae-train trains one epoch on a
2,000-image slice of the default data; the test -ELBO must fall clearly below
its value at initialization, and metrics and a checkpoint must be written.
Also: bad data gives a clear error naming the file and a non-zero exit."""

import json
import os
import re
import subprocess
import sys
import tempfile

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


with tempfile.TemporaryDirectory() as tmp:
    so = os.path.join(tmp, "vae.so")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "-o", so], check=True)
    out = os.path.join(tmp, "run")
    run = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "2000", "--out", out],
                         capture_output=True, text=True)
    print(run.stdout + run.stderr)
    check(run.returncode == 0, "vae-train exits 0")
    initial = float(re.search(r"test -ELBO at initialization ([0-9.]+)", run.stdout).group(1))
    after = float(re.search(r"epoch 1/1 .* test -ELBO ([0-9.]+)", run.stdout).group(1))
    check(after < 0.8 * initial, f"test -ELBO {after:.2f} < 0.8 x {initial:.2f} at initialization")
    metrics = open(os.path.join(out, "metrics.csv")).read().splitlines()
    check(len(metrics) == 2 and metrics[1].startswith("1,"), "metrics.csv has one epoch")
    record = json.load(open(os.path.join(out, "metrics.json")))
    check(record["model"] == "mnist_vae" and len(record["epochs"]) == 1 and
          abs(record["epochs"][0]["test"]["loss"] - after) < 0.01, "metrics.json matches")
    check(os.path.getsize(os.path.join(out, "checkpoint.bin")) > 0, "checkpoint written")
    check(not os.path.exists(os.path.join(out, "checkpoint.bin.tmp")), "no temporary left")
    # 2,000 = 15 x 128 + 80: the partial batch is trained on (padded, masked).
    steps = open(os.path.join(out, "steps.csv")).read().splitlines()
    check(len(steps) == 1 + 16 and "16 steps per epoch, the partial batch padded" in run.stdout,
          "16 steps per epoch with --last-batch pad (the default)")
    for picture in ("reconstructions.png", "samples.png", "latent_traversal.png",
                    "loss_curve.png"):
        data = open(os.path.join(out, picture), "rb").read()
        check(data.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in data[:16] and
              data.endswith(b"IEND\xaeB`\x82"), picture + " is a PNG")

    # The inference subcommands on the trained checkpoint.
    ev = subprocess.run([vae_train, "eval", so, "--out", out], capture_output=True, text=True)
    value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(value - after) < 0.01,
          f"eval reproduces the test -ELBO: {value:.2f}")
    subprocess.run([vae_train, "encode", so, "--out", out], check=True, capture_output=True)
    rows = open(os.path.join(out, "latents.csv")).read().splitlines()
    check(len(rows) == 10001 and len(rows[1].split(",")) == 2 + 20 and
          rows[1].split(",")[1].isdigit(), "encode writes label and 20 means per test image")
    subprocess.run([vae_train, "score", so, "--out", out], check=True, capture_output=True)
    rows = open(os.path.join(out, "scores.csv")).read().splitlines()
    mean = sum(float(r.split(",")[2]) for r in rows[1:]) / (len(rows) - 1)
    check(len(rows) == 10001 and abs(mean - value) < 0.01,
          f"scores average to the test -ELBO: {mean:.3f}")
    # Importance weighting: K = 1 scores the same z as eval (a sampled KL in
    # place of the exact one), and more samples give a tighter, lower bound.
    iw = {}
    for k in (1, 8):
        score = subprocess.run([vae_train, "score", so, "--out", out, "--iw", str(k)],
                               capture_output=True, text=True)
        iw[k] = float(re.search(r"K = \d+: ([0-9.]+) nats", score.stdout).group(1))
        rows = open(os.path.join(out, "scores.csv")).read().splitlines()
        check(score.returncode == 0 and rows[0].endswith(",neg_iw_log_likelihood") and
              len(rows) == 10001, f"score --iw {k} writes a column per test image")
    check(abs(iw[1] - value) < 0.5, f"IW K=1 {iw[1]:.2f} is the -ELBO {value:.2f} within 0.5")
    check(iw[8] < iw[1] - 1.0, f"IW K=8 {iw[8]:.2f} is tighter than K=1 {iw[1]:.2f}")

    # --last-batch drop, --binarize static and dynamic.
    for flags, expected_steps in ((["--last-batch", "drop"], 15),
                                  (["--binarize", "static"], 16),
                                  (["--binarize", "dynamic"], 16)):
        other = os.path.join(tmp, "-".join(flags))
        variant = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "2000",
                                  "--out", other] + flags, capture_output=True, text=True)
        rows = open(os.path.join(other, "steps.csv")).read().splitlines()
        check(variant.returncode == 0 and len(rows) == 1 + expected_steps,
              f"{' '.join(flags)}: {expected_steps} steps")
    bad = subprocess.run([vae_train, so, "--binarize", "sometimes"], capture_output=True, text=True)
    check(bad.returncode != 0 and "sometimes not in {none,static,dynamic}" in bad.stderr,
          "an unknown --binarize is a clear error: " + bad.stderr.strip())
    # Counts out of range and flags that contradict each other are errors,
    # before anything is trained or written.
    for flags, message in [(["--limit", "0"], "--limit: Value 0 not in range 1"),
                           (["--limit", "-5"], "--limit: Value -5 not in range 1"),
                           (["--resume", "--overwrite"], "--resume excludes --overwrite")]:
        folder = os.path.join(tmp, "refused")
        bad = subprocess.run([vae_train, so, "--out", folder] + flags,
                             capture_output=True, text=True)
        check(bad.returncode != 0 and message in bad.stderr and not os.path.exists(folder),
              f"{' '.join(flags)} is a clear error: " + bad.stderr.strip())

    # A run resumed after epoch 1 ends bit-identical to an uninterrupted one.
    straight, split = os.path.join(tmp, "straight"), os.path.join(tmp, "split")
    common = [vae_train, so, "--limit", "1024", "--seed", "5"]
    subprocess.run(common + ["--epochs", "2", "--out", straight], check=True, capture_output=True)
    subprocess.run(common + ["--epochs", "1", "--out", split], check=True, capture_output=True)
    resumed = subprocess.run(common + ["--epochs", "2", "--out", split, "--resume"],
                             capture_output=True, text=True)
    check(resumed.returncode == 0 and "resuming from" in resumed.stdout, "--resume continues")
    same = open(os.path.join(straight, "checkpoint.bin"), "rb").read() == \
        open(os.path.join(split, "checkpoint.bin"), "rb").read()
    check(same, "resumed checkpoint is bit-identical to the uninterrupted run's")
    rows = open(os.path.join(split, "metrics.csv")).read().splitlines()
    check(len(rows) == 3 and rows[2].startswith("2,"), "resumed metrics append epoch 2")
    again = subprocess.run(common + ["--epochs", "1", "--out", split], capture_output=True, text=True)
    check(again.returncode != 0 and "exists; --resume continues it" in again.stderr and
          open(os.path.join(split, "checkpoint.bin"), "rb").read() ==
          open(os.path.join(straight, "checkpoint.bin"), "rb").read(),
          "a new run does not overwrite a checkpoint: " + again.stderr.strip())
    bad = subprocess.run(common[:2] + ["--out", os.path.join(tmp, "nothing"), "--resume"],
                         capture_output=True, text=True)
    check(bad.returncode != 0 and "cannot open checkpoint" in bad.stderr,
          "--resume without a checkpoint is a clear error: " + bad.stderr.strip())

    # A crash after metrics.csv got epoch 3 but before its checkpoint: the
    # resumed run drops that row and writes it again, once.
    with open(os.path.join(split, "metrics.csv"), "a") as f:
        f.write("3,1,1,1,1,1,1,1,1\n")
    subprocess.run(common + ["--epochs", "3", "--out", split, "--resume"], check=True,
                   capture_output=True)
    rows = open(os.path.join(split, "metrics.csv")).read().splitlines()
    check(len(rows) == 4 and rows[3].startswith("3,") and rows[3] != "3,1,1,1,1,1,1,1,1",
          "a resumed run replaces rows past its checkpoint")
    record = json.load(open(os.path.join(split, "metrics.json")))
    check(len(record["epochs"]) == 3, "metrics.json of a resumed run holds every epoch")

    # Bad data: an empty folder, then a file with a wrong magic number.
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    bad = subprocess.run([vae_train, so, "--data", empty], capture_output=True, text=True)
    check(bad.returncode != 0 and
          f"no train-images-idx3-ubyte or train-images-idx3-ubyte.gz in '{empty}'" in bad.stderr,
          "a missing data file is a clear error: " + bad.stderr.strip())
    with open(os.path.join(empty, "train-images-idx3-ubyte"), "wb") as f:
        f.write(b"\x00\x00\x0d\x03" + b"\x00" * 12)
    bad = subprocess.run([vae_train, so, "--data", empty], capture_output=True, text=True)
    check(bad.returncode != 0 and "magic 0x00000d03 at byte 0" in bad.stderr,
          "a wrong magic number is a clear error: " + bad.stderr.strip())

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
