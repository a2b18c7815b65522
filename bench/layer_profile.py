#!/usr/bin/env python3
"""Where a compiled model's time goes, line by line of its VDL file.

    bench/layer_profile.py models/conv_vae.vdl --flags=--conv=im2col --flags=--conv=direct

For each set of vaec flags: compiles the model (one thread, --no-parallel,
plus the flags), runs build/bin/time_steps under `perf record`, and
attributes the samples of each generated kernel to the model line most of
its operations come from (the locations vaec keeps down to the LLVM
dialect). A kernel shared by several entry points (vaec outlines identical
loop nests once) counts once, so the table sums over everything time_steps
runs: vae_encode, vae_decode, vae_eval_elbo and vae_train_step, `repeats`
times each (forward and backward of a layer together). Sample counts, not
times: compare columns of one run on one machine, never use them as a
threshold. Needs `perf` (Debian's linux-perf).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kernel_lines(mlir_path):
    """Kernel name -> the model line most of its located operations have."""
    lines, current, counts = {}, None, collections.Counter()
    with open(mlir_path) as f:
        for text in f:
            m = re.match(r'\s*llvm\.func (?:internal )?@(\w+)\(', text)
            if m:
                if current:
                    lines[current] = counts
                current, counts = m.group(1), collections.Counter()
                continue
            counts.update(int(line) for line in re.findall(r'\.vdl":(\d+):\d+', text))
    if current:
        lines[current] = counts
    return {name: c.most_common(1)[0][0] if c else None for name, c in lines.items()}


def symbol_samples(perf_data):
    out = subprocess.run(['perf', 'report', '-i', perf_data, '--sort', 'symbol', '-n',
                          '--stdio'], capture_output=True, text=True, check=True).stdout
    samples = collections.Counter()
    for text in out.splitlines():
        m = re.match(r'\s*[\d.]+%\s+(\d+)\s+\[\.\]\s+(\S+)', text)
        if m:
            samples[m.group(2).split('..')[0]] += int(m.group(1))
    return samples


def profile(model, flags, repeats, work):
    vaec = os.path.join(ROOT, 'build/bin/vaec')
    base = [vaec, model, '--no-parallel'] + flags.split()
    tag = re.sub(r'[^A-Za-z0-9]+', '_', flags) or 'default'
    mlir, lib, data = (os.path.join(work, tag + ext) for ext in ('.mlir', '.so', '.perf'))
    subprocess.run(base + ['--emit=llvm-dialect', '-o', mlir], check=True)
    subprocess.run(base + ['-o', lib], check=True)
    subprocess.run(['perf', 'record', '-q', '-o', data, os.path.join(ROOT, 'build/bin/time_steps'),
                    lib, str(repeats)], check=True, stdout=subprocess.DEVNULL)
    where = kernel_lines(mlir)
    per_line = collections.Counter()
    for name, n in symbol_samples(data).items():
        line = where.get(name) if name.startswith('vae_') else None
        per_line[line if line is not None else 'other'] += n
    return per_line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('model')
    parser.add_argument('--flags', action='append', default=None,
                        help='vaec flags of one column (repeatable; default: none)')
    parser.add_argument('--repeats', type=int, default=20, help='time_steps repeats')
    args = parser.parse_args()
    if not shutil.which('perf'):
        sys.exit('layer_profile.py: needs perf (apt-get install linux-perf)')
    columns = args.flags or ['']
    with tempfile.TemporaryDirectory() as work:
        tables = [profile(args.model, flags, args.repeats, work) for flags in columns]
    source = open(args.model).read().splitlines()
    keys = sorted({k for t in tables for k in t},
                  key=lambda k: (isinstance(k, str), k if isinstance(k, int) else 0))
    print('| line | ' + ' | '.join(f or '(default)' for f in columns) + ' | source |')
    print('|---:|' + '---:|' * len(columns) + '---|')
    for key in keys:
        text = source[key - 1].strip() if isinstance(key, int) and key <= len(source) else ''
        print(f'| {key} | ' + ' | '.join(str(t[key]) for t in tables) + f' | `{text[:70]}` |')
    print('| total | ' + ' | '.join(str(sum(t.values())) for t in tables) + ' | |')


if __name__ == '__main__':
    main()
