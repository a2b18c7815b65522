#!/usr/bin/env python3
"""Convolutions of every kernel size compile, and their IR does not grow with
the kernel: a held-out-style sweep the difftest's random models (kernels up
to 7) never reach. For kernels 1, 5, 11, 15 and 30 and strides 1 to 4, a
model with a conv2d encoder and a conv2d_transpose decoder on a
[4, 32, 32] input is lowered to linalg (`vaec --emit=linalg`); its op count
and its slices (what one-shot bufferization's analysis grows with) must stay
under bounds that do not depend on the kernel. The kernel-30 model is
compiled to a library. A direct convolution forced on a kernel row wider
than AVX2's register file (15 x 15, 48 filters) goes through
vdl-tile-and-vectorize without a crash. Bounds are on IR size, never on time.

    conv_kernels.py VAEC VAE_OPT"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from checks import check, finish  # noqa: E402

vaec, vae_opt = sys.argv[1:3]
SIZE, CHANNELS, FILTERS = 32, 4, 16
# Bounds that do not depend on the kernel: ops and slices stay flat as the
# kernel grows (a lowering per tap grows with k²: a direct filter gradient
# copied k² column slices, which bufferization's analysis is quadratic in, and
# col2im unrolled every landing tap, 900 gathers at k = 30, stride 1, which
# LLVM took 9 s over). Measured at this commit: 3,066 to 3,944 ops (k = 15,
# stride 4: 16 taps a phase, still unrolled) and at most 418 slices (k = 5,
# direct where auto picks it).


MAX_OPS = 4500
MAX_SLICES = 450


def model(kernel, stride):
    """A conv2d encoder and a conv2d_transpose decoder back to the input."""
    padding = 0 if kernel == 1 else 1
    span = SIZE + 2 * padding - kernel
    out = span // stride + 1
    output_padding = span % stride
    return f"""model k{kernel}s{stride} {{
  input x: f32[{CHANNELS}, {SIZE}, {SIZE}];
  latent z: 8;
  encoder(x) {{
    h = relu(conv2d(x, {FILTERS}, kernel = {kernel}, stride = {stride}, padding = {padding}));
    return normal(mu = dense(flatten(h), 8), logvar = dense(flatten(h), 8));
  }}
  decoder(z) {{
    h = reshape(relu(dense(z, {FILTERS * out * out})), [{FILTERS}, {out}, {out}]);
    return bernoulli(logits = conv2d_transpose(h, {CHANNELS}, kernel = {kernel}, stride = {stride},
                                               padding = {padding}, output_padding = {output_padding}));
  }}
  prior normal(0, 1);
}}
train {{ optimizer adam(lr = 1e-3); batch 8; epochs 1; loss elbo(beta = 1.0); seed 1; }}
"""


def run(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


with tempfile.TemporaryDirectory() as tmp:
    for kernel in (1, 5, 11, 15, 30):
        for stride in (1, 2, 3, 4):
            source = os.path.join(tmp, f"k{kernel}s{stride}.vdl")
            with open(source, "w") as f:
                f.write(model(kernel, stride))
            ir = os.path.join(tmp, f"k{kernel}s{stride}.mlir")
            r = run([vaec, source, "--emit=linalg", "-o", ir])
            if r.returncode != 0:
                check(False, f"kernel {kernel}, stride {stride} lowers: {r.stderr[-400:]}")
                continue
            text = open(ir).read()
            ops = len(re.findall(r"^\s*(?:%\S+ = )?\"?[a-z_]+\.[a-z_.]+", text, re.M))
            slices = len(re.findall(r"tensor\.(?:insert|extract)_slice", text))
            check(ops <= MAX_OPS and slices <= MAX_SLICES,
                  f"kernel {kernel}, stride {stride}: {ops} ops <= {MAX_OPS}, "
                  f"{slices} slices <= {MAX_SLICES}")
    library = os.path.join(tmp, "k30.so")
    r = run([vaec, os.path.join(tmp, "k30s1.vdl"), "-o", library])
    check(r.returncode == 0 and os.path.getsize(library) > 0,
          "the kernel-30 model compiles to a library" + ("" if r.returncode == 0
                                                          else ": " + r.stderr[-400:]))

    # A kernel row of 15 taps is 15 live filter rows: no register block of
    # AVX2's 16 registers leaves room for them beside an accumulator.
    wide = os.path.join(tmp, "wide.vdl")
    with open(wide, "w") as f:
        f.write(model(15, 1).replace(f"conv2d(x, {FILTERS},", "conv2d(x, 48,"))
    fused = os.path.join(tmp, "wide.mlir")
    r = run([vaec, wide, "--cpu=znver3", "--conv=direct", "--emit=fused", "-o", fused])
    check(r.returncode == 0, "a 15-wide direct convolution for AVX2 lowers to linalg" +
          ("" if r.returncode == 0 else ": " + r.stderr[-400:]))
    if r.returncode == 0:
        direct = "linalg.conv_2d_nhwc_hwcf" in open(fused).read()
        r = run([vae_opt, fused, "--vdl-tile-and-vectorize", "-o", os.devnull])
        check(direct and r.returncode == 0,
              "vdl-tile-and-vectorize takes its 15 live filter rows on AVX2 (exit "
              f"{r.returncode}{'' if r.returncode == 0 else ': ' + r.stderr[-300:]})")
finish()
