#!/usr/bin/env python3
"""bench/linear_probe.py - what a VAE's latent means are worth as features
(issue 36): logistic regression on the posterior means against the same on
the raw pixels, accuracy on the Fashion-MNIST test set.

    bench/.venv/bin/python bench/linear_probe.py [--epochs 10] [--data DIR]

Trains models/mnist_vae.vdl on the training set, writes the means of both
sets with `vae-train encode --split all`, and fits scikit-learn's
LogisticRegression (lbfgs, standardized inputs) on the training rows of each
representation. Prints a Markdown report for bench/results/.
"""
import argparse
import datetime
import gzip
import os
import struct
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, ROOT, cpu_model, run, vaec_commit, vector_isa  # noqa: E402


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    sys.exit(f"linear_probe.py: no {stem}[.gz] in {data_dir}")


def probe(train_x, train_y, test_x, test_y):
    """(test accuracy, seconds) of a standardized logistic regression."""
    start = time.perf_counter()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train_x, train_y)
    return float((model.predict(test_x) == test_y).mean()), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    commit = vaec_commit()
    pixels = {s: read_idx(find(args.data, f"{p}-images-idx3-ubyte")).reshape(-1, 784) / 255.0
              for s, p in (("train", "train"), ("test", "t10k"))}
    labels = {s: read_idx(find(args.data, f"{p}-labels-idx1-ubyte"))
              for s, p in (("train", "train"), ("test", "t10k"))}
    with tempfile.TemporaryDirectory() as work:
        model, out = os.path.join(work, "mnist_vae.so"), os.path.join(work, "run")
        run([os.path.join(BIN, "vaec"), os.path.join(ROOT, "models", "mnist_vae.vdl"), "-o",
             model])
        run([os.path.join(BIN, "vae-train"), model, "--epochs", str(args.epochs), "--out", out,
             "--no-progress", "--data", args.data])
        run([os.path.join(BIN, "vae-train"), "encode", model, "--out", out, "--split", "all"])
        rows = np.genfromtxt(os.path.join(out, "latents.csv"), delimiter=",", names=True,
                             dtype=None, encoding=None)
    means = np.stack([rows[f"mu{j}"] for j in range(20)], axis=1)
    split = rows["split"]
    latent = {s: means[split == s] for s in ("train", "test")}
    assert (rows["label"][split == "test"] == labels["test"]).all()
    by_means = probe(latent["train"], labels["train"], latent["test"], labels["test"])
    by_pixels = probe(pixels["train"], labels["train"], pixels["test"], labels["test"])
    print("\n".join([
        "## Linear probe: logistic regression on mnist_vae's posterior means "
        "(bench/linear_probe.py)", "",
        f"Machine: {cpu_model()}, {vector_isa()}, {os.cpu_count()} cores; "
        f"{datetime.date.today()}; vaec {commit}. One run: mnist_vae trained {args.epochs} "
        "epochs on the 60,000 Fashion-MNIST training images (unlabelled), `encode --split all`; "
        "scikit-learn's LogisticRegression (standardized inputs, lbfgs, 1,000 iterations) "
        "fitted on the training rows, accuracy on the 10,000 test images.", "",
        "| features | dimensions | test accuracy | fit seconds |", "|---|---:|---:|---:|",
        f"| posterior means | 20 | {by_means[0]:.4f} | {by_means[1]:.1f} |",
        f"| raw pixels | 784 | {by_pixels[0]:.4f} | {by_pixels[1]:.1f} |"]))


if __name__ == "__main__":
    main()
