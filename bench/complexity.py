#!/usr/bin/env python3
"""bench/complexity.py - held-out classes of Fashion-MNIST as anomalies,
scored by the -ELBO, the importance-weighted bound and the input-complexity
score (Serra et al., ICLR 2020), one row per class (issue 35).

    bench/.venv/bin/python bench/complexity.py [--models mnist_vae,pixel_vae]
        [--epochs 10] [--iw 16] [--data DIR]

For each model and each class c: `vae-train MODEL --classes <the other
nine>` for --epochs, then `vae-train score --auroc --complexity --iw K` on
the 10,000 test images (1,000 of class c), as
bench/results/2026-12-03-anomaly-clusters-zen4.md did for the -ELBO and the
IW bound alone. mnist_vae (Bernoulli) sees grey levels in [0, 1], as in that
file; pixel_vae (a discretized logistic) the bytes, so its -log2 p(x) is a
code length. Prints a Markdown report for bench/results/.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, ROOT, cpu_model, run, vaec_commit, vector_isa  # noqa: E402

CLASSES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle boot"]


def held_out(model, c, args, work):
    """auroc.json of a run that trained on every class but `c`."""
    out = os.path.join(work, f"{os.path.basename(model)}-{c}")
    others = ",".join(str(k) for k in range(10) if k != c)
    run([os.path.join(BIN, "vae-train"), model, "--classes", others, "--epochs",
         str(args.epochs), "--out", out, "--no-progress", "--data", args.data])
    run([os.path.join(BIN, "vae-train"), "score", model, "--out", out, "--auroc",
         "--complexity", "--iw", str(args.iw)])
    return json.load(open(os.path.join(out, "auroc.json")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mnist_vae,pixel_vae")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--iw", type=int, default=16)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    commit = vaec_commit()
    report = [
        "## Held-out classes as anomalies: -ELBO, IW bound, input complexity "
        "(bench/complexity.py)", "",
        f"Machine: {cpu_model()}, {vector_isa()}, {os.cpu_count()} cores; "
        f"{datetime.date.today()}; vaec {commit}. One run per row: trained {args.epochs} "
        f"epochs on the 54,000 training images of the nine other classes, scored on the "
        f"10,000 test images (1,000 of the held-out class) by `score --auroc --complexity "
        f"--iw {args.iw}`. The input-complexity score is -log2 p(x) (the IW bound) minus the "
        f"bits of a PNG of the image (libpng, level 9).", ""]
    with tempfile.TemporaryDirectory() as work:
        for name in args.models.split(","):
            model = os.path.join(work, name + ".so")
            run([os.path.join(BIN, "vaec"), os.path.join(ROOT, "models", name + ".vdl"), "-o",
                 model])
            start = time.perf_counter()
            rows = [held_out(model, c, args, work) for c in range(10)]
            report += [f"### models/{name}.vdl ({time.perf_counter() - start:.0f} s)", "",
                       "| held out | class | AUROC, -ELBO | AUROC, IW -log p(x) | "
                       "AUROC, input complexity |", "|---:|---|---:|---:|---:|"]
            for c, r in enumerate(rows):
                report.append(f"| {c} | {CLASSES[c]} | {r['auroc_neg_elbo']:.4f} | "
                              f"{r['auroc_neg_iw_log_likelihood']:.4f} | "
                              f"{r['auroc_input_complexity']:.4f} |")
            mean = {key: sum(r[key] for r in rows) / len(rows)
                    for key in ("auroc_neg_elbo", "auroc_neg_iw_log_likelihood",
                                "auroc_input_complexity")}
            report += [f"| | **mean** | {mean['auroc_neg_elbo']:.4f} | "
                       f"{mean['auroc_neg_iw_log_likelihood']:.4f} | "
                       f"{mean['auroc_input_complexity']:.4f} |", ""]
            print("\n".join(report[-14:]), file=sys.stderr)
    print("\n".join(report))


if __name__ == "__main__":
    main()
