#!/usr/bin/env python3
"""Reads LLVM's verbose assembly (x86-64 or AArch64, as `vaec --emit=asm`
prints it) on stdin and counts the innermost loops of matmul tiles — a k loop
does FMAs on operands broadcast from memory: x86 `vbroadcastss (%reg)` or an
embedded `{1toN}` broadcast, AArch64 `fmla` by lane — and how many of them
spill or reload a register inside the loop:

    k-loops: 24 spilling: 0

then one line per spilling loop: `spills in <function> <header> (<n> lines)`.
LLVM marks loop blocks with `Loop Header` / `in Loop: Header=` comments and
stack traffic with `Spill` / `Reload` comments."""
import re
import sys

FMA = re.compile(r"\b(vfn?m(add|sub)\w*|fmla|fmls)\b")
BROADCAST = re.compile(r"vbroadcasts[sd]\s+-?\d*\(%|\{1to\d+\}|\bfmla\s+v\d+\.\d+s,\s*v\d+\.\d+s,\s*v\d+\.s\[")

loops = {}  # (function, header) -> counts
function = current = block = None
for line in sys.stdin:
    if re.match(r"^[A-Za-z_][\w.]*:", line):  # a function starts
        function, current, block = line.split(":")[0], None, None
        continue
    label = re.match(r"^\.LBB(\w+):", line)
    if label or re.match(r"^\s*(#|//) %bb\.\d+:", line):
        current, block = None, "BB" + label.group(1) if label else None
    if "Inner Loop Header" in line and block:  # the comment under the label
        current = (function, block)
        loops.setdefault(current, {"fma": 0, "broadcast": 0, "spill": 0})
        continue
    member = re.search(r"in Loop: Header=(BB\w+)", line)
    if member:
        key = (function, member.group(1))
        current = key if key in loops else None
    if current is None:
        continue
    counts = loops[current]
    counts["fma"] += bool(FMA.search(line))
    counts["broadcast"] += bool(BROADCAST.search(line))
    counts["spill"] += bool(re.search(r"\b(Spill|Reload)\b", line))

kloops = {k: v for k, v in loops.items() if v["fma"] >= 4 and v["broadcast"]}
spilling = {k: v for k, v in kloops.items() if v["spill"]}
print(f"k-loops: {len(kloops)} spilling: {len(spilling)}")
for (fn, hdr), v in sorted(spilling.items()):
    print(f"spills in {fn} {hdr} ({v['spill']} lines)")
