#!/usr/bin/env python3
"""Each layer of a model in vaec and in PyTorch: forward + backward, in
GFLOP/s and % of the sgemm peak, so the gap is visible layer by layer.

    bench/.venv/bin/python bench/layers.py models/conv_vae.vdl [--threads 2] [--out FILE]

vaec: the model compiled as a user would (`vaec MODEL -o lib.so`, its
threads), `time_steps lib.so N --train-only` under `perf record`; each
generated kernel's samples go to the model line most of its operations come
from (as bench/layer_profile.py does), and a line's time is its share of the
samples times the median training step. A line's work is what `vaec --stats`
counts for it in the training step (`FLOPs by line`: its forward and backward
ops), so both columns divide the same FLOPs.

PyTorch: each line of the model that has a dense, conv2d or conv2d_transpose
op is replayed alone from the model's own IR (`vaec --emit=vdl`): the line's
ops of @loss in order (the contraction with its bias, the activation, a
reshape), its inputs random with the shapes vaec gives them, then backward
from random gradients of the values other ops use. Same threads, median of
`--repeats` forward + backward passes. Other ops on such a line (a
likelihood, the reparameterization) are not replayed: those rows are marked,
their vaec time includes them. Lines without a layer are vaec-only.

The peak: OpenBLAS sgemm (numpy's) on 2048^3 on the same threads, the better
of its own kernel choice and, with AVX-512, its SkylakeX kernel (compare.py's).
"""
import argparse
import collections
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, HERE)
from compare import cpu_model, has_avx512, sgemm_gflops, vector_isa  # noqa: E402
from layer_profile import kernel_lines, symbol_samples  # noqa: E402

OP = re.compile(r'\s*(?P<results>%[\w:, %#]+) = vdl\.(?P<name>\w+) (?P<body>.*?) : '
                r'(?P<types>.*) loc\("(?P<file>[^"]+)":(?P<line>\d+):\d+\)\s*$')
ARG = re.compile(r'%(arg\d+): tensor<([\dx]+)xf32> \{[^}]*?vdl\.param = "([^"]+)"')
LAYER_OPS = {"dense", "conv2d", "conv2d_transpose"}
REPLAYED = LAYER_OPS | {"relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "reshape"}


def shape(text):
    return [int(d) for d in text.split("x")]


def loss_ops(model, work):
    """The ops of @loss as dicts (name, results, operands, attributes, result
    shapes, line) and the names of its parameter arguments."""
    path = os.path.join(work, "model.mlir")
    subprocess.run([os.path.join(BIN, "vaec"), model, "--emit=vdl", "-o", path], check=True)
    ops, params, inside = [], set(), False
    for text in open(path):
        if text.lstrip().startswith("func.func @loss("):
            inside, params = True, {m.group(1) for m in ARG.finditer(text)}
            continue
        if inside and text.strip().startswith("}"):
            break
        m = OP.match(text) if inside else None
        if not m:
            continue
        body = m.group("body")
        operands = re.findall(r"%(\w+)", body.split(" stride")[0].split(" prior")[0])
        attrs = {k: int(v) for k, v in re.findall(r"(\w+) = (-?\d+)", body)}
        alpha = re.search(r"alpha = ([-\d.e+]+)", body)
        if alpha:
            attrs["alpha"] = float(alpha.group(1))
        result_types = m.group("types").split("->")[-1]
        ops.append(dict(name=m.group("name"), line=int(m.group("line")),
                        results=re.findall(r"%(\w+)", m.group("results")), operands=operands,
                        attrs=attrs, shapes=[shape(s) for s in
                                             re.findall(r"tensor<([\dx]+)xf32>", result_types)]))
    return ops, params


def vaec_lines(model, repeats, work):
    """(step seconds, {line: share of the step's samples}, {line: FLOPs})."""
    vaec, lib = os.path.join(BIN, "vaec"), os.path.join(work, "model.so")
    stats = subprocess.run([vaec, model, "--stats", "-o", lib], check=True,
                           capture_output=True, text=True).stderr
    by_line = re.search(r"@vae_train_step: FLOPs by line:(.*)", stats).group(1).split()
    flops = {int(key.rsplit(":", 1)[1]): int(n) for key, n in zip(by_line[::2], by_line[1::2])}
    llvm = os.path.join(work, "model-llvm.mlir")
    subprocess.run([vaec, model, "--emit=llvm-dialect", "-o", llvm], check=True)
    data = os.path.join(work, "steps.perf")
    out = subprocess.run(["perf", "record", "-q", "-o", data, os.path.join(BIN, "time_steps"),
                          lib, str(repeats), "--train-only"], check=True, capture_output=True,
                         text=True).stdout
    step = float(re.search(r"train step \(vae_train_step\): ([\d.]+) ms", out).group(1)) / 1e3
    where, samples = kernel_lines(llvm), collections.Counter()
    for name, n in symbol_samples(data).items():
        line = where.get(name) if name.startswith("vae_") else None
        samples[line if line is not None else "other"] += n
    total = sum(samples.values())
    return step, {k: n / total for k, n in samples.items()}, flops


def torch_line(torch, ops, params, shapes, line, repeats):
    """Median seconds of one forward + backward of `line`'s layer ops, or
    None where it has no layer."""
    F = torch.nn.functional
    mine = [op for op in ops if op["line"] == line and op["name"] in REPLAYED]
    if not any(op["name"] in LAYER_OPS for op in mine):
        return None
    made = {r for op in mine for r in op["results"]}
    later = {o for op in ops if op not in mine for o in op["operands"]}
    leaves = {}
    def leaf(name, dims):
        # Data arguments (x, eps) need no gradient; parameters and values
        # computed by earlier lines do.
        grad = not name.startswith("arg") or name in params
        leaves[name] = torch.randn(*dims, requires_grad=grad)
        return leaves[name]
    def run():
        env = {}
        for op in mine:
            a, at = [env.get(o, leaves.get(o)) for o in op["operands"]], op["attrs"]
            n = op["name"]
            if n == "dense":
                y = torch.addmm(a[2], a[0], a[1]) if len(a) > 2 else a[0] @ a[1]
            elif n == "conv2d":
                y = F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=at["stride"],
                             padding=at["padding"])
            elif n == "conv2d_transpose":
                y = F.conv_transpose2d(a[0], a[1], a[2] if len(a) > 2 else None,
                                       stride=at["stride"], padding=at["padding"],
                                       output_padding=at.get("output_padding", 0))
            elif n == "reshape":
                y = a[0].reshape(op["shapes"][0])
            elif n == "leaky_relu":
                y = F.leaky_relu(a[0], at.get("alpha", 0.01))
            else:
                y = getattr(F, n)(a[0]) if n != "tanh" and n != "sigmoid" else \
                    getattr(torch, n)(a[0])
            env[op["results"][0]] = y
        outs = [r for r in made if r in later] or [mine[-1]["results"][0]]
        return [env[r] for r in outs]
    # Inputs from outside the line, with the shapes of the values they are.
    for op in mine:
        for o in op["operands"]:
            if o not in made and o not in leaves:
                leaf(o, shapes[o])
    grads = [torch.randn_like(y) for y in run()]
    seconds = []
    for i in range(repeats + 3):
        for t in leaves.values():
            t.grad = None
        start = time.perf_counter()
        torch.autograd.backward(run(), grads)
        if i >= 3:
            seconds.append(time.perf_counter() - start)
    return sorted(seconds)[len(seconds) // 2]


def argument_shapes(model, work):
    """Shapes of @loss's arguments (parameters and data), by name."""
    text = open(os.path.join(work, "model.mlir")).read()
    head = text[text.index("func.func @loss("):]
    head = head[:head.index("{\n")]
    return {m.group(1): shape(m.group(2))
            for m in re.finditer(r"%(arg\d+): tensor<([\dx]+)xf32>", head)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", help="write the table here as well")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    coretype = "SkylakeX" if has_avx512() else None
    peak = max(sgemm_gflops(args.threads, 2048, 2048, 2048, 10),
               sgemm_gflops(args.threads, 2048, 2048, 2048, 10, coretype) if coretype else 0)
    with tempfile.TemporaryDirectory() as work:
        step, share, flops = vaec_lines(args.model, args.repeats * 3, work)
        ops, params = loss_ops(args.model, work)
        shapes = argument_shapes(args.model, work)
        for op in ops:  # arguments get the shapes the IR declares
            for r, s in zip(op["results"], op["shapes"]):
                shapes[r] = s
        source = open(args.model).read().splitlines()
        rows = [(line, flops[line], share.get(line, 0) * step,
                 torch_line(torch, ops, params, shapes, line, args.repeats))
                for line in sorted(flops)]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    out = [f"# {os.path.basename(args.model)} layer by layer: vaec against PyTorch "
           f"({datetime.date.today()})", "",
           f"Host: {cpu_model()}, {vector_isa()}, {os.cpu_count()} cores; {args.threads} "
           f"threads. vaec {commit}, torch {torch.__version__}. Peak: OpenBLAS sgemm 2048³ "
           f"{peak:.0f} GFLOP/s. vaec's training step (time_steps, median): "
           f"{step * 1e3:.1f} ms.", "",
           "vaec's column is the line's share of the whole training step; PyTorch's is the "
           "line replayed alone, its input gradient accumulated into a leaf tensor (a whole "
           "model passes it on): compare rows, not the sums with a PyTorch training step.", "",
           f"Command: `bench/layers.py {args.model} --threads {args.threads} --repeats "
           f"{args.repeats}`", "",
           "| line | layer | MFLOP (fwd + bwd) | vaec ms | vaec GFLOP/s | % of peak | "
           "PyTorch ms | PyTorch GFLOP/s | % of peak | vaec / PyTorch time |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for line, n, ours, theirs in rows:
        text = source[line - 1].strip()[:60].replace("|", "\\|") if line <= len(source) else ""
        if theirs and any(op["line"] == line and op["name"] not in REPLAYED for op in ops):
            text += "` (PyTorch: its layers only)"
        else:
            text += "`"
        g = n / ours / 1e9 if ours else 0
        cells = [f"{line}", f"`{text}", f"{n / 1e6:.1f}", f"{ours * 1e3:.2f}", f"{g:.1f}",
                 f"{100 * g / peak:.0f}"]
        if theirs:
            t = n / theirs / 1e9
            cells += [f"{theirs * 1e3:.2f}", f"{t:.1f}", f"{100 * t / peak:.0f}",
                      f"{ours / theirs:.2f}"]
        else:
            cells += ["—"] * 4
        out.append("| " + " | ".join(cells) + " |")
    other = share.get("other", 0) * step
    ours_sum = sum(r[2] for r in rows if r[3])
    theirs_sum = sum(r[3] for r in rows if r[3])
    out.append(f"| | the replayed lines together | | {ours_sum * 1e3:.2f} | | | "
               f"{theirs_sum * 1e3:.2f} | | | {ours_sum / theirs_sum:.2f} |")
    out.append(f"| other | kernels without a model line | | {other * 1e3:.2f} | | | | | | |")
    print("\n".join(out))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
