#!/usr/bin/env python3
"""bench/compression.py - vaec's bits-back compression against general-purpose
codecs, on the Fashion-MNIST test set (issue 35).

    bench/.venv/bin/python bench/compression.py [--epochs 10] [--data DIR]

Trains models/mnist_vae.vdl (Bernoulli) on the statically binarized training
set, then on the 10,000 test images, binarized here by a fixed NumPy draw
(data the model never saw):

- vaec: `vae-train compress` and `decompress`, the round trip checked byte
  for byte; bits/dim of the file and without its initial bits; the model's
  -ELBO of the same images in bits/dim; images/s each way (the coder's own
  time, and the command's wall time with loading);
- gzip -9, bzip2 -9, xz -9e, zstd -19 on the raw bytes (a byte per pixel)
  and on packed bits (8 pixels a byte); PNG (Pillow, 1-bit, zlib level 9)
  per image and as one strip of all images; WebP lossless (Debian's cwebp
  -lossless -z 9) per image and as a 100 x 100 grid (WebP is at most
  16,383 pixels a side).

The 8-bit set gets the same general-purpose codecs; vaec has no discrete
likelihood for 8-bit data yet, so its column there says so. Prints a Markdown
report (machine, date, commit) for bench/results/. Needs build/bin (cmake
--build build), bench/setup.sh (NumPy, Pillow, cwebp).
"""
import argparse
import datetime
import gzip
import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, ROOT, cpu_model, run, vector_isa  # noqa: E402

CODECS = {  # name: command reading stdin, writing stdout
    "gzip -9": ["gzip", "-9", "-c"],
    "bzip2 -9": ["bzip2", "-9", "-c"],
    "xz -9e": ["xz", "-9e", "-c"],
    "zstd -19": ["zstd", "-19", "-c", "-q"],
}


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    _, count, rows, cols = struct.unpack(">IIII", data[:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    sys.exit(f"compression.py: no {stem}[.gz] in {data_dir}")


def codec_bytes(command, raw):
    return len(subprocess.run(command, input=raw, capture_output=True, check=True).stdout)


def png_bytes(images, mode):
    """PNG files of `images` (each [h, w]), summed."""
    total = 0
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).convert(mode).save(buffer, "PNG", optimize=True)
        total += buffer.tell()
    return total


def webp_bytes(images, work):
    total = 0
    for i, image in enumerate(images):
        png, webp = os.path.join(work, f"{i}.png"), os.path.join(work, f"{i}.webp")
        Image.fromarray(image).save(png)
        subprocess.run(["cwebp", "-quiet", "-lossless", "-z", "9", png, "-o", webp], check=True)
        total += os.path.getsize(webp)
    return total


def general_codecs(images, binary, work):
    """{codec: bytes} for the [n, 28, 28] uint8 `images`."""
    n = len(images)
    raw = images.tobytes()
    sizes = {f"{name} (bytes)": codec_bytes(cmd, raw) for name, cmd in CODECS.items()}
    if binary:
        packed = np.packbits(images > 0).tobytes()
        sizes.update({f"{name} (packed bits)": codec_bytes(cmd, packed)
                      for name, cmd in CODECS.items()})
    mode = "1" if binary else "L"
    sizes["PNG per image"] = png_bytes(images, mode)
    sizes["PNG, one strip"] = png_bytes([images.reshape(n * 28, 28)], mode)
    grid = images[:10000].reshape(100, 100, 28, 28).transpose(0, 2, 1, 3).reshape(2800, 2800)
    sizes["WebP lossless per image"] = webp_bytes(images, work)
    sizes["WebP lossless, 100 x 100 grid"] = webp_bytes([grid], work)
    return sizes


def vaec_compression(model, run_dir, data_path, work):
    """compress and decompress `data_path`; the numbers they print."""
    vaez, back = os.path.join(work, "test.vaez"), os.path.join(work, "back.npy")
    out, wall_c, _ = run([os.path.join(BIN, "vae-train"), "compress", model, "--out", run_dir,
                          "--data", data_path, "-o", vaez])
    print(out, file=sys.stderr)
    decoded, wall_d, _ = run([os.path.join(BIN, "vae-train"), "decompress", model, vaez,
                              "--out", run_dir, "-o", back])
    print(decoded, file=sys.stderr)
    number = lambda pattern, text=out: float(re.search(pattern, text).group(1))  # noqa: E731
    original, restored = np.load(data_path), np.load(back)
    return {
        "bytes": os.path.getsize(vaez),
        "initial_bits": number(r"\((\d+) initial bits"),
        "elbo_bits_per_dim": number(r"nats, ([0-9.]+) bits/dim"),
        "encode_rate": number(r"s, ([0-9]+) examples/s"),
        "decode_rate": number(r"s, ([0-9]+) examples/s", decoded),
        "encode_wall": wall_c, "decode_wall": wall_d,
        "exact": original.dtype == restored.dtype and original.shape == restored.shape and
        original.tobytes() == restored.tobytes(),
    }


def table(title, sizes, values, vaec=None):
    lines = [f"### {title}", "", "| codec | bytes | bits/dim | vs vaec |", "|---|---:|---:|---:|"]
    best = vaec["bytes"] if vaec else None
    if vaec:
        lines.append(f"| **vaec bits-back ANS** | {vaec['bytes']:,} | "
                     f"{8 * vaec['bytes'] / values:.4f} | 1.00× |")
    for name, size in sorted(sizes.items(), key=lambda kv: kv[1]):
        ratio = f"{size / best:.2f}×" if best else "—"
        lines.append(f"| {name} | {size:,} | {8 * size / values:.4f} | {ratio} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    test = read_idx(find(args.data, "t10k-images-idx3-ubyte"))
    binary = np.where(np.random.default_rng(35).random(test.shape) * 255 < test, 255,
                      0).astype(np.uint8)
    values = test.size
    with tempfile.TemporaryDirectory() as work:
        model, run_dir = os.path.join(work, "mnist_vae.so"), os.path.join(work, "run")
        run([os.path.join(BIN, "vaec"), os.path.join(ROOT, "models", "mnist_vae.vdl"), "-o",
             model])
        start = time.perf_counter()
        trained, _, _ = run([os.path.join(BIN, "vae-train"), model, "--binarize", "static",
                             "--epochs", str(args.epochs), "--out", run_dir, "--no-progress",
                             "--data", args.data])
        train_seconds = time.perf_counter() - start
        print(trained, file=sys.stderr)
        binary_path = os.path.join(work, "test-binary.npy")
        np.save(binary_path, binary)
        vaec = vaec_compression(model, run_dir, binary_path, work)
        binary_sizes = general_codecs(binary, True, work)
        grey_sizes = general_codecs(test, False, work)
    bits = 8 * vaec["bytes"] / values
    net = (8 * vaec["bytes"] - vaec["initial_bits"]) / values
    report = [
        f"## Lossless compression of the Fashion-MNIST test set (bench/compression.py)", "",
        f"Machine: {cpu_model()}, {vector_isa()}, {os.cpu_count()} cores; "
        f"{datetime.date.today()}; vaec {commit}. One run.", "",
        f"Model: models/mnist_vae.vdl (Bernoulli), batch 128 (128 ANS lanes), trained "
        f"{args.epochs} epochs on the statically binarized training set "
        f"({train_seconds:.0f} s). Test set: the 10,000 test images binarized by a fixed "
        f"NumPy draw (seed 35), never seen in training. Default precisions: latent 12 "
        f"bits, posterior 24, likelihood 24.", "",
        f"- round trip exact (bytes, dtype, shape): **{vaec['exact']}**",
        f"- vaec file: {vaec['bytes']:,} bytes = {bits:.4f} bits/dim; initial bits "
        f"{vaec['initial_bits']:,.0f} (128 lanes); without them {net:.4f} bits/dim",
        f"- the model's test -ELBO of the same images: {vaec['elbo_bits_per_dim']:.4f} "
        f"bits/dim; the code without its initial bits is "
        f"{100 * (net / vaec['elbo_bits_per_dim'] - 1):+.2f} % of it, with them "
        f"{100 * (bits / vaec['elbo_bits_per_dim'] - 1):+.2f} %",
        f"- compress {vaec['encode_rate']:,.0f} images/s, decompress "
        f"{vaec['decode_rate']:,.0f} images/s (the coder; the commands' wall time with "
        f"loading: {vaec['encode_wall']:.2f} s and {vaec['decode_wall']:.2f} s)", "",
    ]
    report += table("Binarized (one bit of information per pixel)", binary_sizes, values, vaec)
    report += ["", *table("8-bit grey levels", grey_sizes, values),
               "", "vaec: no discrete likelihood for 8-bit data yet (a Bernoulli model "
               "codes 0 and 1 only), so no vaec row here."]
    print("\n".join(report))


if __name__ == "__main__":
    main()
