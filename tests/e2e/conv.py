#!/usr/bin/env python3
"""End to end, the convolutional VAE of models/conv_vae.vdl: vaec compiles it
(every pass verified), vae-train trains it one epoch on a 1,024-image slice of
the default data, the test -ELBO falls clearly below its value at
initialization, the run writes its pictures (reconstructions, samples, latent
traversal, loss curve), and the inference subcommands work on an image-shaped
model: eval reproduces the -ELBO, encode writes 16 means per test image,
sample draws a new grid."""

import os
import re
import subprocess
import sys
import tempfile
import time

from checks import check, finish

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]

with tempfile.TemporaryDirectory() as tmp:
    so = os.path.join(tmp, "conv_vae.so")
    started = time.perf_counter()
    build = subprocess.run([vaec, os.path.join(models, "conv_vae.vdl"), "--verify-each", "-o", so],
                           capture_output=True, text=True)
    check(build.returncode == 0, f"vaec compiles conv_vae.vdl ({time.perf_counter() - started:.1f} s, "
                                 "every pass verified)" + build.stderr[:2000])
    out = os.path.join(tmp, "run")
    run = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "1024", "--out", out,
                          "--no-progress"], capture_output=True, text=True)
    print(run.stdout + run.stderr)
    check(run.returncode == 0, "vae-train exits 0")
    initial = float(re.search(r"test -ELBO at initialization ([0-9.]+)", run.stdout).group(1))
    after = float(re.search(r"epoch 1/1 .* test -ELBO ([0-9.]+)", run.stdout).group(1))
    check(after < 0.85 * initial,
          f"test -ELBO {after:.2f} < 0.85 x {initial:.2f} at initialization after 8 steps")
    for picture in ("reconstructions.png", "samples.png", "latent_traversal.png",
                    "loss_curve.png"):
        data = open(os.path.join(out, picture), "rb").read()
        check(data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"),
              picture + " is a PNG")
    ev = subprocess.run([vae_train, "eval", so, "--out", out], capture_output=True, text=True)
    value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(value - after) < 0.01,
          f"eval reproduces the test -ELBO: {value:.2f}")
    subprocess.run([vae_train, "encode", so, "--out", out], check=True, capture_output=True)
    rows = open(os.path.join(out, "latents.csv")).read().splitlines()
    check(len(rows) == 10001 and len(rows[1].split(",")) == 2 + 16,
          "encode writes label and 16 means per test image")
    os.remove(os.path.join(out, "samples.png"))
    sample = subprocess.run([vae_train, "sample", so, "--out", out], capture_output=True, text=True)
    check(sample.returncode == 0 and os.path.getsize(os.path.join(out, "samples.png")) > 0,
          "sample draws samples.png again")

finish()
