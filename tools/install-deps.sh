#!/usr/bin/env bash
#===- tools/install-deps.sh - Debian packages vaec needs ------------------===#
#
# Installs every Debian 12 package the project builds, tests and trains with.
# Idempotent: packages already present are skipped by apt. Run as root (or
# through sudo when it exists).
#
#===----------------------------------------------------------------------===#
set -euo pipefail

packages=(
  # Toolchain: LLVM/MLIR 19, clang++-19, its sanitizer/libFuzzer runtime.
  llvm-19-dev libmlir-19-dev mlir-19-tools clang-19 llvm-19-tools
  libclang-rt-19-dev lld-19
  # Build, and the formatter of the house style (CONTRIBUTING.md).
  cmake ninja-build ccache python3 pkg-config clang-format-19
  # Libraries the project chose.
  libfmt-dev catch2 libcli11-dev xtensor-dev libxsimd-dev zlib1g-dev
  nlohmann-json3-dev libpng-dev
  # SHA-256 of checkpoints (OpenSSL's libcrypto).
  libssl-dev
  # NumPy for the tests' Python (Debian's python3).
  python3-numpy
  # OpenMP runtime the generated training step runs its parallel loops on.
  libomp-19-dev
  # MPI for data-parallel training over processes and machines
  # (`mpirun -np N vae-train ...`, docs/distributed.md).
  libopenmpi-dev openmpi-bin
  # Default training data (MNIST format).
  dataset-fashion-mnist
  # aarch64 libraries (`vaec --target-triple=aarch64-linux-gnu`): Debian's
  # arm64 cross C library and GCC runtime to link against, and qemu-user to
  # run them in the cross test.
  libc6-dev-arm64-cross libgcc-12-dev-arm64-cross qemu-user-static
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
echo "install-deps: installing ${missing[*]}"
apt_get update -q
apt_get install -y -q --no-install-recommends "${missing[@]}"
