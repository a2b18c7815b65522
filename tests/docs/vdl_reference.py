#!/usr/bin/env python3
"""Every example of docs/vdl.md compiles: each ```vdl block is written to a
file and compiled by vaec into a library; each ```vdl-error block must fail
with the message its first line (`// error: ...`) gives, at a line and
column of the file."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from checks import check, finish  # noqa: E402

vaec, reference = sys.argv[1], sys.argv[2]
text = open(reference).read()
blocks = re.findall(r"```(vdl|vdl-error)\n(.*?)```", text, re.S)
check(len([b for b in blocks if b[0] == "vdl"]) >= 6, f"{len(blocks)} examples found")

with tempfile.TemporaryDirectory() as tmp:
    for i, (kind, source) in enumerate(blocks):
        path = os.path.join(tmp, f"example{i}.vdl")
        with open(path, "w") as f:
            f.write(source)
        name = re.search(r"model (\w+)", source).group(1)
        if kind == "vdl":
            r = subprocess.run([vaec, path, "--batch", "8", "-o", path[:-4] + ".so"],
                               capture_output=True, text=True)
            check(r.returncode == 0 and os.path.getsize(path[:-4] + ".so") > 0,
                  f"example {i} (model {name}) compiles " + r.stderr.strip())
        else:
            expected = source.splitlines()[0].removeprefix("// error: ")
            r = subprocess.run([vaec, path, "--emit=vdl", "-o", os.devnull],
                               capture_output=True, text=True)
            check(r.returncode == 1 and
                  re.search(rf"example{i}\.vdl:\d+:\d+: error: " + re.escape(expected), r.stderr),
                  f"error example {i}: " + (r.stderr.splitlines() or ["(no message)"])[0])
finish()
