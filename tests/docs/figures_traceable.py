#!/usr/bin/env python3
# ===- tests/docs/figures_traceable.py - every quoted number has a source --===#
#
# Every measured figure in README.md and docs/*.md (a speed, a time, a size,
# a ratio, a -ELBO, an AUROC) must name the bench/results file it comes from,
# and appear in that file: the results files a section (from one heading to
# the next) links to are the sources of every figure in it.
#
# A figure is a number followed by a unit (samples/s, ms, s, minutes,
# GFLOP/s, GB/s, MB, KB, bytes, nats, %; a ratio: 1.42x, 1.42×) or a number that follows
# "-ELBO", "ELBO", "AUROC", "NMI" or "purity"; table cells that are numbers
# count in a table whose header names such a unit. Numbers in `code` and
# ```fenced``` blocks are commands and examples, not measurements, and are
# not read. A figure appears in a results file when its digits do (commas
# and a trailing zero ignored: "33,552" matches "33552", "1.20" "1.2").
#
#   tests/docs/figures_traceable.py [ROOT]
#
# Exit 1 with `file:line: figure '...' ...` for each figure without a source.
#
# ===----------------------------------------------------------------------===#
import pathlib
import re
import sys

UNITS = r"samples/s|ms|s|seconds|minutes|min|GFLOP/s|GFLOP|GB/s|MB|KB|MiB|GiB|bytes|nats|%"
NUMBER = r"(?<![\w.\-/])[-−]?\d[\d,]*(?:\.\d+)?"
UNIT_FIGURE = re.compile(rf"({NUMBER})(?:\s?(?:{UNITS})(?![\w/])|[x×](?![\w/]))")
NAMED_FIGURE = re.compile(rf"(?:-ELBO|−ELBO|ELBO|AUROC|NMI|purity)[^\d\n|]{{0,12}}({NUMBER})")
RESULTS_LINK = re.compile(r"bench/results/[\w.\-]+\.md")
# A cell of numbers: "34,227", "1.00×", "248.41 / 248.72", "1,710–1,890", "56 ms".
NUMERIC_CELL = re.compile(rf"^[\s~≈]*{NUMBER}(?:\s*(?:{UNITS}|[x×]))?(?:\s*[/–-]\s*{NUMBER}"
                          rf"(?:\s*(?:{UNITS}|[x×]))?)*\s*$")
TABLE_UNITS = re.compile(r"samples/s|\bms\b|GFLOP|ELBO|seconds|\(s\)|speed|time|×|ratio|AUROC|NMI", re.I)


def normalize(number):
    text = number.replace(",", "").replace("−", "-").lstrip("-")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def numbers_in(path):
    """Every number the results file holds, normalized."""
    text = path.read_text(errors="replace")
    return {normalize(n) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)} | \
        {normalize(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def blocks(text):
    """(first line, kind, lines) of each paragraph, list item or table,
    fenced code left out."""
    out, current, kind, start, fenced = [], [], None, 0, False
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip().startswith("```"):
            fenced = not fenced
            if current:
                out.append((start, kind, current))
                current, kind = [], None
            continue
        if fenced:
            continue
        this = "table" if line.lstrip().startswith("|") else \
            "item" if re.match(r"\s*(?:[-*]|\d+\.)\s", line) else \
            "heading" if line.startswith("#") else \
            "blank" if not line.strip() else "text"
        continuing = current and (this == kind or (this == "text" and kind in ("item", "text")))
        if this == "item" and kind == "item":
            continuing = False  # each list item is a block
        if not continuing and current:
            out.append((start, kind, current))
            current, kind = [], None
        if this in ("blank", "heading"):
            continue
        if not current:
            start, kind = number, this
        current.append(line)
    if current:
        out.append((start, kind, current))
    return out


def figures(kind, lines):
    body = "\n".join(lines)
    plain = re.sub(r"`[^`]*`", "", body)
    plain = re.sub(r"\]\([^)]*\)", "]", plain)  # link targets
    found = [m.group(1) for m in UNIT_FIGURE.finditer(plain)]
    found += [m.group(1) for m in NAMED_FIGURE.finditer(plain)]
    if kind == "table" and TABLE_UNITS.search(lines[0]):
        for row in lines[2:]:
            for cell in row.strip().strip("|").split("|")[1:]:
                cell = re.sub(r"`[^`]*`", "", cell).replace("*", "")
                if NUMERIC_CELL.match(cell):
                    found += re.findall(NUMBER, cell)
    return found


def sections(text):
    """The blocks of `text` grouped by heading: (heading line, blocks)."""
    lines = text.split("\n")
    grouped, current, heading, fenced = [], [], 0, False
    for number, line in enumerate(lines, 1):
        if line.strip().startswith("```"):
            fenced = not fenced
        if line.startswith("#") and not fenced:
            grouped.append((heading, current))
            current, heading = [], number
        current.append(line)
    grouped.append((heading, current))
    return [(heading, blocks("\n".join(body)), heading or 1) for heading, body in grouped]


def check(root):
    problems = []
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    for path in files:
        for heading, section_blocks, offset in sections(path.read_text()):
            sources = sorted({link for _, _, lines in section_blocks
                              for link in RESULTS_LINK.findall("\n".join(lines))})
            for start, kind, lines in section_blocks:
                for figure in figures(kind, lines):
                    where = f"{path.relative_to(root)}:{start + offset - 1}"
                    if not sources:
                        problems.append(f"{where}: figure '{figure}' cites no bench/results "
                                        f"file in its section")
                        continue
                    missing = [s for s in sources if not (root / s).is_file()]
                    if missing:
                        problems.append(f"{where}: cites {missing[0]}, which does not exist")
                        break
                    if not any(normalize(figure) in numbers_in(root / s) for s in sources):
                        problems.append(f"{where}: figure '{figure}' is not in "
                                        f"{', '.join(sources)}")
    return problems


def self_test():
    """The checker on a small tree: what it must accept and what it must not."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "docs").mkdir()
        (root / "bench" / "results").mkdir(parents=True)
        (root / "bench" / "results" / "r.md").write_text("| a | 33,552 | 1.42× | 243.42 |\n")
        cases = {
            "## A\n\nvaec: 33,552 samples/s, 1.42x JAX ([r](bench/results/r.md)).\n": 0,
            "## A\n\n[r](bench/results/r.md)\n\n| what | samples/s |\n|---|---:|\n| x | 33552 |\n": 0,
            "## A\n\nvaec: 33,552 samples/s.\n": 1,                      # no source
            "## A\n\nvaec: 33,553 samples/s ([r](bench/results/r.md)).\n": 1,  # not in it
            "## A\n\n[r](bench/results/r.md)\n\n## B\n\ntest −ELBO 243.42\n": 1,  # other section
            "## A\n\na `600 s` timeout, `--epochs 10`\n\n```\n1.5 ms\n```\n": 0,  # code
            "## A\n\n| what | ms |\n|---|---:|\n| step | 56 |\n": 1,         # table cell
            "## A\n\n([r](bench/results/gone.md)) 33,552 samples/s\n": 1,      # missing file
        }
        failures = 0
        for text, expected in cases.items():
            (root / "README.md").write_text(text)
            found = len(check(root))
            if found != expected:
                failures += 1
                print(f"self-test: {found} problems, expected {expected}, in:\n{text}")
        return failures


def main():
    if self_test():
        return 1
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parents[2])
    problems = check(root)
    for problem in problems:
        print(problem)
    print(f"figures-traceable: {len(problems)} untraceable figures")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
