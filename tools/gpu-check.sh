#!/usr/bin/env bash
#===- tools/gpu-check.sh - vaec on an NVIDIA GPU, against the CPU and PyTorch -===#
#
#   tools/gpu-check.sh prepare [DIR]        # here: LLVM/MLIR, a build/
#   tools/gpu-check.sh run [DIR] [OUT]      # there: an NVIDIA GPU, its driver,
#                                           # python3 with torch (no LLVM, no MLIR)
#
# `prepare` puts into DIR (default gpu-check/) everything the GPU machine
# needs that it cannot build: vae-train, vae-compare-steps and time_steps,
# the libraries of mnist_vae for the CPU (one thread: no libomp there) and for
# the GPU at batch 128, 1024 and 4096 (seed_vae at 128), and a copy of
# Fashion-MNIST. `run` then, in a few minutes:
#   1. checks the GPU step against the CPU library on identical weights, data
#      and noise (vae-compare-steps: loss within 1e-4, parameters after 3
#      steps within 1e-3);
#   2. trains mnist_vae 2 epochs on the GPU (each step one CUDA graph, and
#      again kernel by kernel) and on the CPU: samples/s and test -ELBO (the
#      target: within 0.5 nat of each other);
#   3. times the training step at batch 128, 1024 and 4096 (time_steps:
#      GFLOP/s of the dense layers);
#   4. trains the same model with PyTorch on the same GPU, eager and
#      torch.compile with CUDA graphs (bench/peers.py --device cuda);
# and writes OUT/gpu-check.md (default gpu-check-out/), the table for
# bench/results/. Numbers, not tests: a failing check is reported, and the
# script goes on.
#
#===----------------------------------------------------------------------===#
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
command="${1:-}"
dir="${2:-gpu-check}"

prepare() {
  local build="$here/build"
  local vaec="$build/bin/vaec"
  [ -x "$vaec" ] || { echo "gpu-check: build first (cmake --preset default && cmake --build build)"; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib" "$dir/data"
  cp "$build/bin/vae-train" "$build/bin/vae-compare-steps" "$build/bin/time_steps" "$dir/bin/"
  cp "$here/bench/peers.py" "$dir/"
  set -e
  "$vaec" "$here/models/mnist_vae.vdl" --no-parallel -o "$dir/lib/mnist_vae_cpu_b128.so"
  for batch in 128 1024 4096; do
    "$vaec" "$here/models/mnist_vae.vdl" --target=nvptx --gpu-arch=sm_90 --batch "$batch" \
      -o "$dir/lib/mnist_vae_gpu_b$batch.so"
  done
  "$vaec" "$here/models/seed_vae.vdl" --no-parallel -o "$dir/lib/seed_vae_cpu_b128.so"
  "$vaec" "$here/models/seed_vae.vdl" --target=nvptx --gpu-arch=sm_90 -o "$dir/lib/seed_vae_gpu_b128.so"
  cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$dir/data/"
  set +e
  du -sh "$dir"
  echo "gpu-check: carry '$dir' to the GPU machine and run: tools/gpu-check.sh run $dir"
}

run() {
  local out="${3:-gpu-check-out}"
  mkdir -p "$out"
  local report="$out/gpu-check.md" bin="$dir/bin" lib="$dir/lib" data="$dir/data"
  local python="${PYTHON:-python3}"
  local gpu cpu
  gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
  {
    echo "# vaec on an NVIDIA GPU ($(date -u +%Y-%m-%d))"
    echo
    echo "GPU: ${gpu:-none found by nvidia-smi}. Host CPU: $cpu."
    echo
  } > "$report"

  echo "## 1. GPU step against the CPU library (vae-compare-steps)" | tee -a "$report"
  for model in mnist_vae seed_vae; do
    echo '```' >> "$report"
    timeout 300 "$bin/vae-compare-steps" "$lib/${model}_cpu_b128.so" "$lib/${model}_gpu_b128.so" 3 \
      2>&1 | tee -a "$report"
    echo "exit ${PIPESTATUS[0]}" | tee -a "$report"
    echo '```' >> "$report"
  done

  echo "## 2. Two epochs of Fashion-MNIST, mnist_vae, batch 128" | tee -a "$report"
  echo "| run | samples/s (epoch 2) | test -ELBO | wall s |" >> "$report"
  echo "|---|---|---|---|" >> "$report"
  # gpu: each step one CUDA graph; gpu-direct: kernel by kernel.
  for which in gpu gpu-direct cpu; do
    local start end library=${which%-direct} graphs=1
    [[ $which == gpu-direct ]] && graphs=0
    start=$(date +%s%N)
    VAE_CUDA_GRAPHS=$graphs timeout 900 "$bin/vae-train" "$lib/mnist_vae_${library}_b128.so" \
      --data "$data" --epochs 2 --out "$out/run-$which" --overwrite --no-progress 2>&1 |
      tee "$out/train-$which.log"
    end=$(date +%s%N)
    "$python" - "$out/run-$which/metrics.json" "$which" "$(( (end - start) / 1000000 ))" >> "$report" <<'EOF'
import json, sys
path, which, wall = sys.argv[1:4]
try:
    epochs = json.load(open(path))["epochs"]
    last = epochs[-1]
    name = {"gpu": "GPU, CUDA graphs", "gpu-direct": "GPU, kernel by kernel",
            "cpu": "CPU, 1 thread"}[which]
    print(f"| vaec {name} | {last['samples_per_second']:.0f} "
          f"| {last['test']['neg_elbo']:.2f} | {float(wall) / 1000:.1f} |")
except Exception as error:
    print(f"| vaec {which} | failed: {error} | | |")
EOF
  done

  echo "## 3. Training step by batch size (time_steps)" | tee -a "$report"
  echo '```' >> "$report"
  for batch in 128 1024 4096; do
    timeout 300 "$bin/time_steps" "$lib/mnist_vae_gpu_b$batch.so" 100 2>&1 | tee -a "$report"
  done
  echo "(batch 128 again, kernel by kernel: VAE_CUDA_GRAPHS=0)" | tee -a "$report"
  VAE_CUDA_GRAPHS=0 timeout 300 "$bin/time_steps" "$lib/mnist_vae_gpu_b128.so" 100 2>&1 |
    tee -a "$report"
  echo '```' >> "$report"

  echo "## 4. PyTorch on the same GPU (bench/peers.py --device cuda)" | tee -a "$report"
  echo "| framework | batch | samples/s (last epoch) | test -ELBO |" >> "$report"
  echo "|---|---|---|---|" >> "$report"
  for spec in "torch-eager 128 2" "torch-graphs 128 2" "torch-eager 4096 1" "torch-graphs 4096 1"; do
    set -- $spec
    timeout 600 "$python" "$dir/peers.py" --framework "$1" --model mnist_vae --device cuda \
      --batch "$2" --epochs "$3" --data "$data" > "$out/peer-$1-$2.json" 2> "$out/peer-$1-$2.log"
    "$python" - "$out/peer-$1-$2.json" "$1" "$2" >> "$report" <<'EOF'
import json, sys
path, framework, batch = sys.argv[1:4]
try:
    result = json.load(open(path))
    print(f"| {framework} | {batch} | {result['samples_per_second'][-1]:.0f} | "
          f"{result['test']['neg_elbo']:.2f} |")
except Exception as error:
    print(f"| {framework} | {batch} | failed (see peer-{framework}-{batch}.log) | |")
EOF
  done
  echo
  cat "$report"
}

case "$command" in
  prepare) prepare ;;
  run) run "$@" ;;
  *) sed -n '3,6p' "$0"; exit 2 ;;
esac
