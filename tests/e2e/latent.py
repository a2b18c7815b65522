#!/usr/bin/env python3
"""End to end, the latent space as a tool (issue 36): `decode --z` writes the
decoder's means at codes of one's own (and a PNG), `interpolate` the points
between two test examples' means, straight or on the great circle; wrong
widths, indices out of range and missing flags are clear errors.

No NumPy here: .npy files are written and read by hand."""

import os
import struct
import subprocess
import sys
import tempfile

from checks import check, finish, npy_parts, write_npy

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]



def read_npy(path):
    """(header text, float32 values) of a version 1.0 .npy file."""
    header, body = npy_parts(path)
    return header, struct.unpack(f"<{len(body) // 4}f", body)


def run(*args):
    return subprocess.run([vae_train] + [str(a) for a in args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    so, out = os.path.join(tmp, "vae.so"), os.path.join(tmp, "run")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "--batch", "32", "-o", so],
                   check=True)
    check(run(so, "--limit", "640", "--epochs", "1", "--out", out).returncode == 0,
          "mnist_vae trains")

    codes = os.path.join(tmp, "codes.npy")
    write_npy(codes, (3, 20), [0.1 * (i % 7) - 0.3 for i in range(60)])
    images = os.path.join(tmp, "images.npy")
    r = run("decode", so, "--out", out, "--z", codes, "-o", images)
    header, values = read_npy(images) if r.returncode == 0 else ("", ())
    check(r.returncode == 0 and "(3, 784)" in header and len(values) == 3 * 784 and
          all(0 <= v <= 1 for v in values) and os.path.exists(images[:-4] + ".png"),
          "decode --z: 3 codes to 3 images of probabilities, and a PNG")
    r = run("decode", so, "--out", out, "--z", codes, "-o", images)
    check(read_npy(images)[1] == values, "decoding the same codes again gives the same images")
    wrong = os.path.join(tmp, "wrong.npy")
    write_npy(wrong, (2, 7), [0.0] * 14)
    r = run("decode", so, "--out", out, "--z", wrong, "-o", os.path.join(tmp, "w.npy"))
    check(r.returncode == 1 and "codes of 7 values" in r.stderr and "[n, 20]" in r.stderr and
          not os.path.exists(os.path.join(tmp, "w.npy")),
          f"codes of the wrong width: exit 1, nothing written ({r.stderr.strip()[:100]})")
    r = run("decode", so, "--out", out, "-o", images)
    check(r.returncode == 2 and "--z" in r.stderr, "decode without --z is a usage error")

    # encode --split: the training set too, labelled, and nothing stale beside it.
    r = run("encode", so, "--out", out, "--kmeans", "3")
    check(r.returncode == 0 and os.path.exists(os.path.join(out, "clusters.json")),
          "encode --kmeans writes clusters.json")
    r = run("encode", so, "--out", out, "--split", "all")
    rows = open(os.path.join(out, "latents.csv")).read().splitlines()
    splits = [row.split(",")[2] for row in rows[1:]]
    check(r.returncode == 0 and rows[0].startswith("index,label,split,mu0") and
          splits.count("train") == 60000 and splits.count("test") == 10000 and
          all(row.split(",")[1].isdigit() for row in rows[1:]),
          "encode --split all: 60,000 training and 10,000 test rows, labelled, a split column")
    check(not os.path.exists(os.path.join(out, "clusters.json")),
          "and the clusters.json of the earlier --kmeans is gone (it described other latents)")
    r = run("encode", so, "--out", out, "--split", "train")
    rows = open(os.path.join(out, "latents.csv")).read().splitlines()
    check(r.returncode == 0 and len(rows) == 60001 and rows[0].startswith("index,label,mu0"),
          "encode --split train: the training set's 60,000")
    check(run("encode", so, "--out", out, "--split", "val").returncode == 2,
          "--split val is a usage error")

    for spherical in ([], ["--spherical"]):
        r = run("interpolate", so, "--out", out, "--from", 3, "--to", 7, "--steps", 6,
                *spherical)
        header, line = read_npy(os.path.join(out, "interpolation.npy"))
        check(r.returncode == 0 and "(6, 784)" in header and
              os.path.exists(os.path.join(out, "interpolation.png")),
              f"interpolate {' '.join(spherical) or '(segment)'}: 6 points and a picture")
    r = run("interpolate", so, "--out", out, "--from", 3, "--to", 10000)
    check(r.returncode == 1 and "examples 0 to 9999" in r.stderr,
          f"an index out of range: exit 1 ({r.stderr.strip()[:100]})")
    r = run("interpolate", so, "--out", out, "--from", 3, "--to", 4, "--steps", 1)
    check(r.returncode == 2, "--steps 1 is a usage error (2 points at least)")
finish()
