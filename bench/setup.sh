#!/usr/bin/env bash
#===- bench/setup.sh - Peers for the benchmark: PyTorch, JAX, optax ------===#
#
# Creates bench/.venv (Debian's python3 + venv) and installs the frameworks
# vaec is measured against from PyPI, and the codecs bench/compression.py
# measures it against from Debian. Not part of the test command: the
# benchmark needs several GB of wheels (PyTorch pulls its CUDA libraries even
# though the benchmark runs on the CPU).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/../tools/install-deps.sh"
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
  python3-venv linux-perf webp zstd xz-utils bzip2 >/dev/null
venv="$here/.venv"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$venv/bin/python" -c 'import torch, jax, optax; print("torch", torch.__version__, "jax", jax.__version__, "optax", optax.__version__)'
