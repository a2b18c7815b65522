#!/usr/bin/env python3
"""bench/compression.py - vaec's bits-back compression against general-purpose
codecs, on the Fashion-MNIST test set (issue 35).

    bench/.venv/bin/python bench/compression.py [--epochs 10] [--data DIR]

Trains models/mnist_vae.vdl (Bernoulli) on the statically binarized training
set and models/pixel_vae.vdl (a discretized logistic) on the 8-bit training
set, then on the 10,000 test images (data the models never saw; binarized
here by a fixed NumPy draw for the first):

- vaec: `vae-train compress` and `decompress`, the round trip checked byte
  for byte; bits/dim of the file and without its initial bits; the model's
  -ELBO of the same images in bits/dim; images/s each way (the coder's own
  time, and the command's wall time with loading);
- gzip -9, bzip2 -9, xz -9e, zstd -19 on the raw bytes (a byte per pixel)
  and on packed bits (8 pixels a byte); PNG (Pillow, 1-bit, zlib level 9)
  per image and as one strip of all images; WebP lossless (Debian's cwebp
  -lossless -z 9) per image and as a 100 x 100 grid (WebP is at most
  16,383 pixels a side).

Prints a Markdown
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
from compare import BIN, ROOT, cpu_model, run, vaec_commit, vector_isa  # noqa: E402

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


def vaec_compression(model, run_dir, data_path, work, flags=()):
    """compress and decompress `data_path`; the numbers they print."""
    vaez, back = os.path.join(work, "test.vaez"), os.path.join(work, "back.npy")
    out, wall_c, _ = run([os.path.join(BIN, "vae-train"), "compress", model, "--out", run_dir,
                          "--data", data_path, "-o", vaez, *flags])
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
        "output": out.replace(work + "/", ""), "decoded": decoded.replace(work + "/", ""),
    }


def train(source, flags, epochs, data, work):
    """Compiles models/SOURCE.vdl and trains it; (library, run folder, seconds)."""
    model, run_dir = os.path.join(work, source + ".so"), os.path.join(work, source)
    run([os.path.join(BIN, "vaec"), os.path.join(ROOT, "models", source + ".vdl"), "-o", model])
    start = time.perf_counter()
    trained, _, _ = run([os.path.join(BIN, "vae-train"), model, *flags, "--epochs", str(epochs),
                         "--out", run_dir, "--no-progress", "--data", data])
    print(trained, file=sys.stderr)
    return model, run_dir, time.perf_counter() - start


def summary(vaec, values, model, seconds, epochs, what):
    bits = 8 * vaec["bytes"] / values
    net = (8 * vaec["bytes"] - vaec["initial_bits"]) / values
    elbo = vaec["elbo_bits_per_dim"]
    return [
        f"Model: models/{model}.vdl, batch 128 (128 ANS lanes), trained {epochs} epochs on "
        f"{what} ({seconds:.0f} s). Default precisions: latent 12 bits, posterior 24, "
        f"likelihood 24.", "",
        f"- round trip exact (bytes, dtype, shape): **{vaec['exact']}**",
        f"- vaec file: {vaec['bytes']:,} bytes = {bits:.4f} bits/dim; initial bits "
        f"{vaec['initial_bits']:,.0f} (128 lanes); without them {net:.4f} bits/dim",
        f"- the model's test -ELBO of the same images: {elbo:.4f} bits/dim; the code without "
        f"its initial bits is {100 * (net / elbo - 1):+.2f} % of it, with them "
        f"{100 * (bits / elbo - 1):+.2f} %",
        f"- compress {vaec['encode_rate']:,.0f} images/s, decompress "
        f"{vaec['decode_rate']:,.0f} images/s (the coder; the commands' wall time with "
        f"loading: {vaec['encode_wall']:.2f} s and {vaec['decode_wall']:.2f} s)", "",
        "What the commands printed:", "", "```", vaec["output"].strip(),
        vaec["decoded"].strip(), "```", ""]


def precision_sweep(model, run_dir, data_path, work, values):
    """The binarized code at other latent precisions (posterior 12 bits finer)."""
    lines = ["#### Latent precision (binarized set)", "",
             "| --latent-bits | --posterior-bits | bytes | bits/dim | vs the -ELBO, without "
             "initial bits |", "|---:|---:|---:|---:|---:|"]
    for bits in (8, 12, 16):
        r = vaec_compression(model, run_dir, data_path, work,
                             ["--latent-bits", str(bits), "--posterior-bits", str(bits + 12)])
        net = (8 * r["bytes"] - r["initial_bits"]) / values
        lines.append(f"| {bits} | {bits + 12} | {r['bytes']:,} | {8 * r['bytes'] / values:.4f} "
                     f"| {100 * (net / r['elbo_bits_per_dim'] - 1):+.2f} % |")
    return lines + [""]


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
    commit = vaec_commit()
    test = read_idx(find(args.data, "t10k-images-idx3-ubyte"))
    binary = np.where(np.random.default_rng(35).random(test.shape) * 255 < test, 255,
                      0).astype(np.uint8)
    values = test.size
    with tempfile.TemporaryDirectory() as work:
        model, run_dir, binary_seconds = train("mnist_vae", ["--binarize", "static"],
                                               args.epochs, args.data, work)
        binary_path = os.path.join(work, "test-binary.npy")
        np.save(binary_path, binary)
        binary_vaec = vaec_compression(model, run_dir, binary_path, work)
        sweep = precision_sweep(model, run_dir, binary_path, work, values)
        model, run_dir, grey_seconds = train("pixel_vae", [], args.epochs, args.data, work)
        grey_path = os.path.join(work, "test-8bit.npy")
        np.save(grey_path, test)
        grey_vaec = vaec_compression(model, run_dir, grey_path, work)
        binary_sizes = general_codecs(binary, True, work)
        grey_sizes = general_codecs(test, False, work)
    report = [
        "## Lossless compression of the Fashion-MNIST test set (bench/compression.py)", "",
        f"Machine: {cpu_model()}, {vector_isa()}, {os.cpu_count()} cores; "
        f"{datetime.date.today()}; vaec {commit}. One run. Test set: the 10,000 test images, "
        "never seen in training.", "",
        "### Binarized (a fixed NumPy draw, seed 35)", "",
        *summary(binary_vaec, values, "mnist_vae", binary_seconds, args.epochs,
                 "the statically binarized training set"),
        *table("Binarized: every codec", binary_sizes, values, binary_vaec), "", *sweep,
        "### 8-bit grey levels", "",
        *summary(grey_vaec, values, "pixel_vae", grey_seconds, args.epochs,
                 "the 8-bit training set"),
        *table("8-bit: every codec", grey_sizes, values, grey_vaec),
    ]
    print("\n".join(report))


if __name__ == "__main__":
    main()
