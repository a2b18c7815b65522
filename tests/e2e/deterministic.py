#!/usr/bin/env python3
"""vaec is deterministic (issue 34): the same source and flags give the
same bytes, whatever the run and the threads. Three compiles of mnist_vae,
seed_vae and conv_vae to a library, and one with --mlir-disable-threading,
are byte-identical; so is every text and binary --emit stage of conv_vae
(the model whose im2col index tables bufferization named in pointer order:
two of three libraries agreed before the fix).

    deterministic.py VAEC MODELS_DIR"""

import hashlib
import os
import subprocess
import sys
import tempfile

from checks import check, finish

vaec, models = sys.argv[1], sys.argv[2]
STAGES = ["ast", "vdl", "grad", "linalg", "fused", "memref", "llvm-dialect", "llvm", "asm",
          "obj"]


def digest(source, out, *flags):
    subprocess.run([vaec, source, "-o", out, *flags], check=True)
    return hashlib.sha256(open(out, "rb").read()).hexdigest()


with tempfile.TemporaryDirectory() as tmp:
    for model in ("mnist_vae", "seed_vae", "conv_vae"):
        source = os.path.join(models, model + ".vdl")
        out = os.path.join(tmp, model + ".so")
        runs = [digest(source, out) for _ in range(3)]
        single = digest(source, out, "--mlir-disable-threading")
        check(len(set(runs)) == 1 and single == runs[0],
              f"{model}: three libraries and one compiled on one thread are byte-identical "
              f"({', '.join(d[:8] for d in runs + [single])})")
    source = os.path.join(models, "conv_vae.vdl")
    for stage in STAGES:
        out = os.path.join(tmp, "conv_vae." + stage)
        first = digest(source, out, "--emit=" + stage)
        second = digest(source, out, "--emit=" + stage)
        check(first == second, f"conv_vae --emit={stage}: two compiles are byte-identical")

finish()
