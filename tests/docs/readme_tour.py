#!/usr/bin/env python3
"""The tour runs as written: docs/tour.md's command block, line by line, in
a scratch folder that holds the clone's models/ (as the clone does), with the
tools on PATH as `cmake --install` puts them. Every line must exit 0, and
every line of the README's short tour must be one of the tour's (so that it
runs too); the time the whole tour took is printed.

    readme_tour.py README.md docs/tour.md BIN_DIR SOURCE_DIR"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from checks import check, finish  # noqa: E402

readme, tour_doc, bin_dir, source_dir = sys.argv[1:5]


def commands(path, heading):
    """The command lines of the first code block after `heading`."""
    text = open(path).read()
    block = re.search(heading + r"\n.*?```\n(.*?)```", text, re.S).group(1)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


lines = commands(tour_doc, "# A tour of the command line")
check(len(lines) >= 30, f"{len(lines)} commands in the tour")
short = commands(readme, "## A short tour")
check(len(short) >= 10, f"{len(short)} commands in the README's short tour")
for line in short:
    check(line in lines, f"README's tour line is in docs/tour.md: {line}")

with tempfile.TemporaryDirectory() as tmp:
    os.symlink(os.path.join(source_dir, "models"), os.path.join(tmp, "models"))
    os.makedirs(os.path.join(tmp, "build"))
    os.symlink(bin_dir, os.path.join(tmp, "build", "bin"))
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    start = time.time()
    for line in lines:
        began = time.time()
        r = subprocess.run(line, shell=True, cwd=tmp, env=env, capture_output=True, text=True)
        check(r.returncode == 0,
              f"{time.time() - began:5.1f} s  {line}" +
              ("" if r.returncode == 0 else "\n" + (r.stderr or r.stdout)[-600:]))
    print(f"the tour took {time.time() - start:.0f} s")
finish()
