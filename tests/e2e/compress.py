#!/usr/bin/env python3
"""End to end, `vae-train compress` and `decompress` (issue 35):

- a float32 .npy of 0/1 values (a padded last round of lanes) and the run's
  statically binarized test set (uint8, 10,000 images) come back byte for
  byte, in their dtype and shape (.npy, and IDX for bytes);
- the code of the test set is within 1 % of the model's -ELBO in bits/dim
  (its initial bits reported apart);
- with a discretized logistic (models/pixel_vae.vdl), the 8-bit test set
  comes back as the bytes of the original IDX file, and `score
  --complexity` adds PNG bits and the input-complexity score, whose AUROC
  --auroc reports;
- refused before anything is written, exit 1: grey levels for a Bernoulli
  model, a Gaussian model, a truncated or corrupt file, another build of
  the library (same model, another batch), another checkpoint.

No NumPy here: .npy files are written and read by hand."""

import gzip
import os
import re
import subprocess
import sys
import tempfile

from checks import check, finish, npy_parts, write_npy

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]




def run(*args):
    return subprocess.run([vae_train] + [str(a) for a in args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    so, other_build = os.path.join(tmp, "vae.so"), os.path.join(tmp, "vae64.so")
    gaussian, pixel = os.path.join(tmp, "gaussian.so"), os.path.join(tmp, "pixel.so")
    for source, batch, out in (("mnist_vae", 32, so), ("mnist_vae", 64, other_build),
                               ("seed_vae", 32, gaussian), ("pixel_vae", 32, pixel)):
        subprocess.run([vaec, os.path.join(models, source + ".vdl"), "--batch", str(batch),
                        "-o", out], check=True)
    runs = {name: os.path.join(tmp, name)
            for name in ("run", "gaussian-run", "run64", "pixel-run")}
    train = ["--limit", "2000", "--epochs", "2", "--seed", "3", "--no-progress"]
    check(run(so, *train, "--binarize", "static", "--out", runs["run"]).returncode == 0,
          "mnist_vae trains on binarized Fashion-MNIST")
    check(run(gaussian, *train, "--out", runs["gaussian-run"]).returncode == 0,
          "seed_vae (a Gaussian likelihood) trains")

    # --- Round trips ----------------------------------------------------------
    values = [float((i * 7 + i // 784) % 3 == 0) for i in range(45 * 784)]
    data = os.path.join(tmp, "binary.npy")
    write_npy(data, (45, 28, 28), values)
    vaez, back = os.path.join(tmp, "binary.vaez"), os.path.join(tmp, "binary-back.npy")
    c = run("compress", so, "--out", runs["run"], "--data", data, "-o", vaez)
    d = run("decompress", so, vaez, "--out", runs["run"], "-o", back)
    check(c.returncode == 0 and d.returncode == 0 and
          npy_parts(back)[1] == npy_parts(data)[1] and "'<f4'" in npy_parts(back)[0] and
          "(45, 28, 28)" in npy_parts(back)[0],
          "45 float32 examples of [28, 28] (2 rounds of 32 lanes) come back bit for bit: "
          + c.stdout.strip().splitlines()[0][:90] if c.returncode == 0 else c.stderr)

    test_vaez, test_idx = os.path.join(tmp, "test.vaez"), os.path.join(tmp, "test-idx")
    c = run("compress", so, "--out", runs["run"], "--test", "-o", test_vaez)
    d = run("decompress", so, test_vaez, "--out", runs["run"], "-o", test_idx)
    idx = open(test_idx, "rb").read() if d.returncode == 0 else b""
    check(c.returncode == 0 and len(idx) == 16 + 10000 * 784 and idx[:4] == b"\0\0\x08\x03" and
          set(idx[16:]) == {0, 255}, "the binarized test set comes back as IDX bytes 0 and 255")
    overhead = re.search(r"is ([-+0-9.]+) % of it", c.stdout)
    check(overhead is not None and abs(float(overhead.group(1))) < 1.0,
          f"its code is within 1 % of the -ELBO in bits/dim ({overhead.group(1) if overhead else c.stdout} %)")
    reread = os.path.join(tmp, "test-again.vaez")
    run("compress", so, "--out", runs["run"], "--test", "-o", reread)
    check(open(reread, "rb").read() == open(test_vaez, "rb").read(),
          "compressing the same data twice writes the same bytes")

    # --- 8-bit data: a discretized logistic ----------------------------------
    check(run(pixel, *train, "--classes", "0-8", "--out", runs["pixel-run"]).returncode == 0,
          "pixel_vae trains on the 8-bit images of classes 0-8")
    grey_vaez, grey_idx = os.path.join(tmp, "grey.vaez"), os.path.join(tmp, "grey-idx")
    c = run("compress", pixel, "--out", runs["pixel-run"], "--test", "-o", grey_vaez)
    d = run("decompress", pixel, grey_vaez, "--out", runs["pixel-run"], "-o", grey_idx)
    original = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()
    overhead = re.search(r"is ([-+0-9.]+) % of it", c.stdout)
    check(c.returncode == 0 and d.returncode == 0 and open(grey_idx, "rb").read() == original,
          "the 8-bit test set (all 10,000, every class) comes back as the original IDX bytes")
    check(overhead is not None and abs(float(overhead.group(1))) < 1.0,
          f"its code is within 1 % of the -ELBO ({overhead.group(1) if overhead else c.stdout} %)")
    s = run("score", pixel, "--out", runs["pixel-run"], "--auroc", "--complexity")
    rows = open(os.path.join(runs["pixel-run"], "scores.csv")).read().splitlines()
    auroc = re.search(r"input-complexity score .*: ([0-9.]+)", s.stdout)
    column = rows[0].split(",").index("png_bits")
    png = [float(r.split(",")[column]) for r in rows[1:]]
    check(s.returncode == 0 and rows[0].endswith(",png_bits,input_complexity_score") and
          len(rows) == 10001 and all(bits % 8 == 0 and 8 * 60 < bits < 8 * 1200 for bits in png)
          and auroc, f"score --complexity: PNG bits per image ({min(png):.0f} to {max(png):.0f}) "
          f"and the score's AUROC ({auroc.group(1) if auroc else s.stdout + s.stderr})")

    # --- Refusals, nothing written ------------------------------------------
    def refused(args, expected, what):
        target = args[args.index("-o") + 1]
        r = run(*args)
        check(r.returncode == 1 and expected in r.stderr and not os.path.exists(target),
              f"{what}: exit 1, nothing written ({r.stderr.strip()[:150]})")

    grey = os.path.join(tmp, "grey.npy")
    write_npy(grey, (2, 784), [0.0] * 800 + [0.5] + [1.0] * 767)
    refused(["compress", so, "--out", runs["run"], "--data", grey, "-o", tmp + "/g.vaez"],
            "x[1, 16] is 0.5", "grey levels for a Bernoulli model")
    refused(["compress", gaussian, "--out", runs["gaussian-run"], "--data", data, "-o",
             tmp + "/gauss.vaez"], "Gaussian likelihood", "a Gaussian model")
    blob = open(vaez, "rb").read()
    for what, damaged in (("a truncated file", blob[:len(blob) // 2]),
                          ("a file with a flipped byte",
                           blob[:-9] + bytes([blob[-9] ^ 4]) + blob[-8:])):
        path = os.path.join(tmp, "damaged.vaez")
        open(path, "wb").write(damaged)
        refused(["decompress", so, path, "--out", runs["run"], "-o", tmp + "/d.npy"],
                "not a valid .vaez file", what)
    check(run(other_build, *train, "--binarize", "static", "--out", runs["run64"])
          .returncode == 0, "the same model at batch 64 trains")
    refused(["decompress", other_build, vaez, "--out", runs["run"], "-o", tmp + "/o.npy"],
            "another build of model 'mnist_vae'", "another library of the same model")
    refused(["decompress", gaussian, vaez, "--out", runs["gaussian-run"], "-o", tmp + "/o.npy"],
            "compressed by model 'mnist_vae'", "another model")
    other_ckpt = os.path.join(runs["run64"], "checkpoint.bin")
    r = run("decompress", so, vaez, "--out", runs["run"], "--checkpoint", other_ckpt, "-o",
            tmp + "/o.npy")
    check(r.returncode == 1 and not os.path.exists(tmp + "/o.npy"),
          f"another checkpoint: exit 1 ({r.stderr.strip()[:120]})")
    r = run("compress", so, "--out", runs["run"], "-o", tmp + "/n.vaez")
    check(r.returncode == 1 and "--data FILE" in r.stderr, "compress without data says what to give")
    r = run("compress", so, "--out", runs["run"], "--data", data, "--latent-bits", "40", "-o",
            tmp + "/n.vaez")
    check(r.returncode == 2, "a precision out of range is a usage error (exit 2)")
finish()
