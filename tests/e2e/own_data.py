#!/usr/bin/env python3
"""End to end, a user's own data and what VAEs are for beyond pictures:
.npy (uint8, float32, float64) and .csv input train alike; each kind of bad
data is refused naming the file, row and column, writing nothing; --classes
with score --auroc detects generated anomalies; encode --kmeans recovers
generated clusters; sample --n writes .npy without the data; a run killed
after a --checkpoint-every checkpoint resumes bit-identically.

No NumPy here (the tests' Python may lack it): .npy and IDX files are
written by hand."""

import gzip
import json
import math
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

from checks import check, finish

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]
FASHION = "/usr/share/datasets/fashion-mnist"


def write_npy(path, descr, shape, payload):
    """A version 1.0 .npy file: magic, header padded to 64 bytes, data."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join(f"{n}, " for n in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(payload)


def read_npy_shape(path):
    data = open(path, "rb").read()
    length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + length].decode()
    shape = tuple(int(n) for n in re.search(r"'shape': \(([^)]*)\)", header).group(1)
                  .replace(" ", "").split(",") if n)
    return re.search(r"'descr': '([^']*)'", header).group(1), shape, len(data) - 10 - length


def write_idx(path, dims, payload):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims))
        f.write(bytes(payload))


def run(*args):
    return subprocess.run([vae_train] + [str(a) for a in args], capture_output=True, text=True)


def test_elbo(stdout):
    return re.findall(r"test -ELBO ([0-9.]+) \(", stdout)


def generated_images(count, classes, seed):
    """28 x 28 patterns, one per class, with jitter and noise: 0 a vertical
    bar, 1 a horizontal bar, 2 a hollow square (the anomaly)."""
    rng = random.Random(seed)
    images, labels = [], []
    for i in range(count):
        label = classes[i % len(classes)]
        pixels = [0] * 784
        shift = rng.randint(-1, 1)
        for y in range(28):
            for x in range(28):
                if label == 0:
                    on = 11 + shift <= x < 17 + shift and 3 <= y < 25
                elif label == 1:
                    on = 11 + shift <= y < 17 + shift and 3 <= x < 25
                else:
                    on = (6 <= x < 22 and 6 <= y < 22) and not (9 <= x < 19 and 9 <= y < 19)
                pixels[y * 28 + x] = rng.randint(180, 255) if on else rng.randint(0, 30)
        images.append(pixels)
        labels.append(label)
    return images, labels


with tempfile.TemporaryDirectory() as tmp:
    so = os.path.join(tmp, "vae.so")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "--batch", "64", "-o", so],
                   check=True)

    # The same 1,500 Fashion-MNIST images as .npy of three types and as CSV.
    count = 1500
    raw = gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")).read()[16:16 + count * 784]
    labels = gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")).read()[8:8 + count]
    floats = [struct.unpack("<f", struct.pack("<f", v / 255))[0] for v in raw]
    files = {
        "u8": ("|u1", (count, 28, 28), raw),
        "f32": ("<f4", (count, 28, 28), struct.pack(f"<{len(floats)}f", *floats)),
        "f64": ("<f8", (count, 784), struct.pack(f"<{len(floats)}d", *floats)),
    }
    for name, (descr, shape, payload) in files.items():
        write_npy(os.path.join(tmp, name + ".npy"), descr, shape, payload)
    csv_path = os.path.join(tmp, "data.csv")
    with open(csv_path, "w") as f:
        f.write("label," + ",".join(f"p{i}" for i in range(784)) + "\n")
        for i in range(count):
            f.write(f"{labels[i]}," + ",".join("%.9g" % v for v in floats[i * 784:(i + 1) * 784])
                    + "\n")
    results = {}
    for name in files:
        r = run(so, "--data", os.path.join(tmp, name + ".npy"), "--test-fraction", "0.2",
                "--epochs", "2", "--out", os.path.join(tmp, "run-" + name))
        check(r.returncode == 0, f"trains on {name}.npy: " + r.stderr.strip())
        results[name] = test_elbo(r.stdout)
    r = run(so, "--data", csv_path, "--label-column", "label", "--test-fraction", "0.2",
            "--epochs", "2", "--out", os.path.join(tmp, "run-csv"))
    check(r.returncode == 0, "trains on data.csv with --label-column: " + r.stderr.strip())
    results["csv"] = test_elbo(r.stdout)
    check(len(results["u8"]) == 2 and all(v == results["u8"] for v in results.values()),
          f"uint8, float32, float64 .npy and CSV train alike: {results}")
    check("1200 train / 300 test examples" in r.stdout, "--test-fraction 0.2 holds out 300")
    # The run record keeps the data settings: eval needs no flags.
    ev = run("eval", so, "--out", os.path.join(tmp, "run-csv"))
    check(ev.returncode == 0 and f"test -ELBO {results['csv'][-1]} " in ev.stdout,
          "eval of a CSV run finds its test split again: " + ev.stdout.strip())
    enc = run("encode", so, "--out", os.path.join(tmp, "run-csv"))
    rows = open(os.path.join(tmp, "run-csv", "latents.csv")).read().splitlines()
    check(enc.returncode == 0 and len(rows) == 301 and rows[1].split(",")[1].isdigit(),
          "encode of a CSV run writes the labels of --label-column")

    # Labels of one's own data: --labels FILE.npy (int64, as NumPy writes
    # them) for .npy data, and --label-column N for a CSV without a header.
    write_npy(os.path.join(tmp, "labels.npy"), "<i8", (count,),
              struct.pack(f"<{count}q", *labels))
    r = run(so, "--data", os.path.join(tmp, "u8.npy"), "--labels", os.path.join(tmp, "labels.npy"),
            "--test-fraction", "0.2", "--classes", "0-8", "--epochs", "1",
            "--out", os.path.join(tmp, "run-labels"))
    in_classes = sum(1 for v in labels[:count] if v <= 8)
    check(r.returncode == 0 and "(classes 0-8; " in r.stdout and "anomalies -ELBO" in r.stdout,
          "--labels FILE.npy labels .npy data: --classes 0-8 trains: " + r.stderr.strip())
    enc = run("encode", so, "--out", os.path.join(tmp, "run-labels"))
    rows = open(os.path.join(tmp, "run-labels", "latents.csv")).read().splitlines()
    check(enc.returncode == 0 and rows[1].split(",")[1].isdigit(),
          "encode of that run writes the --labels of its test split")
    headless = os.path.join(tmp, "headless.csv")
    with open(headless, "w") as f:
        for i in range(200):
            f.write(",".join("%.9g" % v for v in floats[i * 784:(i + 1) * 784]) +
                    f",{labels[i]}\n")
    r = run(so, "--data", headless, "--label-column", "784", "--test-fraction", "0.2",
            "--classes", "0-4", "--epochs", "1", "--out", os.path.join(tmp, "run-headless"))
    check(r.returncode == 0 and "(classes 0-4; " in r.stdout,
          "--label-column 784 (0-based) labels a CSV without a header: " + r.stderr.strip())
    r = run(so, "--data", headless, "--label-column", "785", "--test-fraction", "0.2",
            "--out", os.path.join(tmp, "run-headless-785"))
    check(r.returncode == 1 and "has 785 columns, so --label-column 785 (0-based) names none"
          in r.stderr, "a column index beyond the file is refused: " + r.stderr.strip())
    write_npy(os.path.join(tmp, "few-labels.npy"), "<i8", (10,), struct.pack("<10q", *labels[:10]))
    r = run(so, "--data", os.path.join(tmp, "u8.npy"), "--labels",
            os.path.join(tmp, "few-labels.npy"), "--test-fraction", "0.2",
            "--out", os.path.join(tmp, "run-few"))
    check(r.returncode == 1 and "one integer (uint8, int8, int16, int32 or int64) per example"
          in r.stderr, "too few --labels are refused: " + r.stderr.strip())

    # Bad data: a clear error naming where, a non-zero exit, nothing written.
    def bad(name, args, *expected):
        out = os.path.join(tmp, "bad-" + name)
        r = run(so, *args, "--out", out)
        message = r.stderr.strip()
        check(r.returncode == 1 and all(e in message for e in expected) and
              not os.path.exists(out), f"{name}: {message}")

    nan = bytearray(files["f32"][2])
    struct.pack_into("<f", nan, (17 * 784 + 3 * 28 + 5) * 4, float("nan"))
    write_npy(os.path.join(tmp, "nan.npy"), "<f4", (count, 28, 28), bytes(nan))
    bad("NaN", ["--data", os.path.join(tmp, "nan.npy"), "--test-fraction", "0.2"],
        "nan.npy", "x[17, 3, 5]", "NaN")
    inf = bytearray(files["f64"][2])
    struct.pack_into("<d", inf, (4 * 784 + 100) * 8, float("-inf"))
    write_npy(os.path.join(tmp, "inf.npy"), "<f8", (count, 784), bytes(inf))
    bad("infinity", ["--data", os.path.join(tmp, "inf.npy"), "--test-fraction", "0.2"],
        "inf.npy", "x[4, 100]", "-inf")
    write_npy(os.path.join(tmp, "shape.npy"), "|u1", (count // 2, 28, 56), raw)
    bad("shape", ["--data", os.path.join(tmp, "shape.npy"), "--test-fraction", "0.2"],
        "shape.npy", "[28, 56]", "takes [784]")
    write_npy(os.path.join(tmp, "int.npy"), "<i4", (10, 784), bytes(4 * 7840))
    bad("dtype", ["--data", os.path.join(tmp, "int.npy"), "--test-fraction", "0.2"],
        "int.npy", "<i4", "float32, float64 or uint8")
    write_npy(os.path.join(tmp, "short.npy"), "|u1", (count, 28, 28), raw[:5000])
    bad("truncated", ["--data", os.path.join(tmp, "short.npy"), "--test-fraction", "0.2"],
        "short.npy", "truncated", "offset")
    lines = open(csv_path).read().splitlines()
    broken = lines[:]
    broken[9] = broken[9].replace(",", ",x1", 1)  # line 10, column 2 ('p0')
    open(os.path.join(tmp, "cell.csv"), "w").write("\n".join(broken) + "\n")
    bad("non-numeric cell", ["--data", os.path.join(tmp, "cell.csv"), "--label-column", "label",
                             "--test-fraction", "0.2"],
        "cell.csv', line 10, column 2 ('p0')", "is not a number")
    huge = lines[:]
    huge[4] = huge[4].replace(",", ",1e39,", 1).replace(",", "", 0)  # line 5, column 2
    huge[4] = ",".join(huge[4].split(",")[:785])
    open(os.path.join(tmp, "huge.csv"), "w").write("\n".join(huge) + "\n")
    bad("a value beyond float32", ["--data", os.path.join(tmp, "huge.csv"), "--label-column",
                                   "label", "--test-fraction", "0.2"],
        "huge.csv', line 5, column 2 ('p0')", "1e39 is beyond float32's range")
    ragged = lines[:]
    ragged[20] = ragged[20].rsplit(",", 1)[0]
    open(os.path.join(tmp, "ragged.csv"), "w").write("\n".join(ragged) + "\n")
    bad("ragged row", ["--data", os.path.join(tmp, "ragged.csv"), "--label-column", "label",
                       "--test-fraction", "0.2"],
        "ragged.csv', line 21", "784 cells", "785")
    bad("unknown label column", ["--data", csv_path, "--label-column", "class",
                                 "--test-fraction", "0.2"],
        "no column named 'class'", "label, p0")
    bad("a file without a test set", ["--data", os.path.join(tmp, "u8.npy")],
        "--test FILE", "--test-fraction")
    bad("classes without labels", ["--data", os.path.join(tmp, "u8.npy"), "--test-fraction",
                                   "0.2", "--classes", "0-8"], "--classes needs labels")

    # Anomaly detection: train on vertical and horizontal bars (0, 1); the
    # test set adds hollow squares (2), the anomalies.
    shapes = os.path.join(tmp, "shapes")
    os.makedirs(shapes)
    for stem, n, seed in (("train", 3000, 1), ("t10k", 600, 2)):
        images, labels3 = generated_images(n, [0, 1, 2], seed)
        write_idx(os.path.join(shapes, f"{stem}-images-idx3-ubyte"), [n, 28, 28],
                  [v for image in images for v in image])
        write_idx(os.path.join(shapes, f"{stem}-labels-idx1-ubyte"), [n], labels3)
    anomaly = os.path.join(tmp, "anomaly")
    r = run(so, "--data", shapes, "--classes", "0-1", "--epochs", "5", "--out", anomaly)
    check(r.returncode == 0 and "2000 train / 400 test examples (classes 0-1; 200 test "
          "examples of other classes, the anomalies, apart)" in r.stdout,
          "--classes 0-1 trains on the 2,000 examples of labels 0 and 1: " + r.stderr.strip())
    # Each epoch's test -ELBO is over the normal classes; the anomalies' is
    # beside it, and higher.
    epochs = re.findall(r"test -ELBO ([0-9.]+) \(rec [0-9.]+, KL [0-9.]+; [0-9.]+ bits/dim\)  "
                        r"anomalies -ELBO ([0-9.]+)", r.stdout)
    check(len(epochs) == 5 and float(epochs[-1][1]) > float(epochs[-1][0]),
          f"each epoch prints the anomalies' -ELBO beside the normal test -ELBO: {epochs[-1:]}")
    sc = run("score", so, "--out", anomaly, "--auroc", "--iw", "4")
    print(sc.stdout + sc.stderr)
    record = json.load(open(os.path.join(anomaly, "auroc.json")))
    check(sc.returncode == 0 and record["normal_classes"] == "0-1" and
          record["anomalies"] == 200 and record["normal_examples"] == 400,
          "score --auroc takes the run's classes: 400 normal, 200 anomalies")
    check(record["auroc_neg_elbo"] > 0.9 and record["auroc_neg_iw_log_likelihood"] > 0.9,
          f"the AUROC of -ELBO ({record['auroc_neg_elbo']:.3f}) and of the IW score "
          f"({record['auroc_neg_iw_log_likelihood']:.3f}) is well above 0.5")
    png = open(os.path.join(anomaly, "score_histogram.png"), "rb").read()
    check(png.startswith(b"\x89PNG\r\n\x1a\n"), "score_histogram.png is a PNG")
    none = run("score", so, "--out", os.path.join(tmp, "run-u8"), "--auroc")
    check(none.returncode == 1 and "--auroc needs the normal classes" in none.stderr,
          "--auroc of a run without --classes says what it needs: " + none.stderr.strip())

    # Clustering: a VAE on all three shapes; k-means on its posterior means
    # finds them.
    clusters = os.path.join(tmp, "clusters")
    r = run(so, "--data", shapes, "--epochs", "5", "--out", clusters)
    check(r.returncode == 0, "trains on the three shapes")
    enc = run("encode", so, "--out", clusters, "--kmeans", "3")
    print(enc.stdout + enc.stderr)
    record = json.load(open(os.path.join(clusters, "clusters.json")))
    check(enc.returncode == 0 and record["nmi"] > 0.95 and record["purity"] > 0.95,
          f"k-means recovers the generated clusters: NMI {record['nmi']:.3f}, "
          f"purity {record['purity']:.3f}")
    header = open(os.path.join(clusters, "latents.csv")).readline().strip()
    check(header.endswith(",cluster"), "latents.csv gains a cluster column")
    check(os.path.exists(os.path.join(clusters, "latent_scatter.png")), "latent_scatter.png")
    # More clusters than examples: refused before anything is written.
    many = run("encode", so, "--out", clusters, "--kmeans", "100000")
    check(many.returncode == 1 and "--kmeans 100000:" in many.stderr and
          "k-means needs at least one per cluster" in many.stderr,
          "encode --kmeans K beyond the examples is refused: " + many.stderr.strip())

    # reconstruct --n: rows of 10, each above its reconstructions, 3 x, with
    # the rows labelled INPUT and RECONSTRUCTION in a 126-pixel margin.
    def png_size(path):
        data = open(path, "rb").read()
        return struct.unpack(">II", data[16:24])

    rc = run("reconstruct", so, "--out", clusters, "--n", "14")
    check(rc.returncode == 0 and
          png_size(os.path.join(clusters, "reconstructions.png")) == (126 + 3 * 302, 3 * 122),
          "reconstruct --n 14: two pairs of rows of 10, 3 x, labelled: " + rc.stdout.strip())

    # sample --n: raw samples as .npy, with the run's data gone.
    for name in os.listdir(shapes):
        os.remove(os.path.join(shapes, name))
    sm = run("sample", so, "--out", clusters, "--n", "10")
    descr, shape, payload = read_npy_shape(os.path.join(clusters, "samples.npy"))
    check(sm.returncode == 0 and descr == "<f4" and shape == (10, 784) and payload == 4 * 7840,
          f"sample --n 10 writes samples.npy {descr} {shape} without the data: "
          + sm.stderr.strip())

    # A one-dimensional latent space is walked once (one row of 10).
    line_vdl = os.path.join(tmp, "line.vdl")
    text = open(os.path.join(models, "mnist_vae.vdl")).read()
    open(line_vdl, "w").write(text.replace("latent z: 20;", "latent z: 1;")
                              .replace("dense(h, 20)", "dense(h, 1)"))
    line_so = os.path.join(tmp, "line.so")
    subprocess.run([vaec, line_vdl, "--batch", "64", "-o", line_so], check=True)
    line = os.path.join(tmp, "line")
    r = run(line_so, "--data", os.path.join(tmp, "u8.npy"), "--test-fraction", "0.2",
            "--epochs", "1", "--out", line)
    check(r.returncode == 0 and "latent dimension 0" in r.stdout and
          png_size(os.path.join(line, "latent_traversal.png")) == (3 * 302, 40 + 3 * 32),
          "a one-dimensional latent space is traversed once: one row of 10, under a caption "
          "and the values of its columns")

    # --checkpoint-every: killed (SIGKILL, no chance to save) after a
    # checkpoint within an epoch, resumed, ends bit-identical to a straight
    # run.
    common = [so, "--data", os.path.join(tmp, "u8.npy"), "--test-fraction", "0.2",
              "--epochs", "2", "--checkpoint-every", "1"]
    straight = os.path.join(tmp, "straight")
    check(run(*common, "--out", straight).returncode == 0, "the straight run")
    killed = os.path.join(tmp, "killed")
    checkpoint = os.path.join(killed, "checkpoint.bin")
    for attempt in range(5):
        proc = subprocess.Popen([vae_train] + common + ["--out", killed, "--overwrite"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(checkpoint) and time.time() < deadline:
            time.sleep(0.002)
        time.sleep(0.01 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resumed = run(*common, "--out", killed, "--resume")
        if "of it (step" in resumed.stdout:  # resumed within an epoch
            break
    print(resumed.stdout.splitlines()[0] if resumed.stdout else resumed.stderr)
    check(resumed.returncode == 0 and "of it (step" in resumed.stdout,
          "resumed from a checkpoint within an epoch")
    same = open(checkpoint, "rb").read() == open(os.path.join(straight, "checkpoint.bin"),
                                                  "rb").read()
    check(same, "killed, resumed: the checkpoint is bit-identical to the straight run's")
    check(open(os.path.join(killed, "steps.csv")).read() ==
          open(os.path.join(straight, "steps.csv")).read(),
          "steps.csv holds every step once")

finish()
