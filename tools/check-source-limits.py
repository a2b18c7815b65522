#!/usr/bin/env python3
# ===- tools/check-source-limits.py - file and function length limits -----===#
#
# The house rules of CONTRIBUTING.md, checked: no source file over 700 lines
# anywhere in the repository, and no function over 120 lines in the
# compiler, the runtime and the tools (frontend/ ir/ passes/ codegen/
# runtime/ tools/). C++ functions are found by a brace scanner (comments,
# strings and character literals stripped first; a brace opens a function
# where it follows a parameter list at namespace or class scope), Python
# functions by the ast module. A function's length is the lines from its
# signature to its closing brace (C++) or its last statement (Python).
#
#   tools/check-source-limits.py [--root DIR] [--report N]
#
# Exit 1 with one `path:line: ...` line per breach; --report N lists the N
# largest files and functions as well (what the closing note quotes).
#
# ===----------------------------------------------------------------------===#
import argparse
import ast
import pathlib
import re
import subprocess
import sys

FILE_LIMIT = 700
FUNCTION_LIMIT = 120
SOURCE_SUFFIXES = {".cpp", ".h", ".c", ".td", ".py", ".cu"}
FUNCTION_FOLDERS = ("frontend/", "ir/", "passes/", "codegen/", "runtime/", "tools/")
# Headers of braces that open a scope holding functions, not a function body.
SCOPE_KEYWORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b|extern\s+\"C\"")
CONTROL_KEYWORDS = re.compile(r"^(if|for|while|switch|catch|do|else|try)\b")


def strip_cpp(text):
    """`text` with comments, string and character literals blanked out (line
    breaks kept, so line numbers still hold)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            k = text.find("(", i)
            delim = text[i + 2 : k]
            j = text.find(")" + delim + '"', k)
            j = n if j < 0 else j + len(delim) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def cpp_functions(text):
    """(name, first line, last line) of each function body at namespace or
    class scope (lambdas and local classes count toward their function)."""
    code = strip_cpp(text)
    functions, stack = [], []  # stack of scope kinds: "scope", "function", "other"
    header_start = 0
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        if c not in "{};":
            continue
        in_function = any(kind == "function" for kind in stack)
        if c == "{" and not in_function:
            header = code[header_start:i].strip()
            kind = classify(header)
            if kind == "function":
                body = code[header_start:i]
                first = line - body[len(body) - len(body.lstrip()):].count("\n")
                stack.append(("function", function_name(header), first))
            else:
                stack.append((kind, None, line))
            header_start = i + 1
        elif c == "{":
            stack.append(("other", None, line))
        elif c == "}":
            if stack:
                kind, name, first = stack.pop()
                if kind == "function":
                    functions.append((name, first, line))
            header_start = i + 1
        elif c == ";" and not in_function:
            header_start = i + 1
    return functions


def classify(header):
    flat = " ".join(header.split())
    # Drop template heads and attributes so `template <...> struct` reads as struct.
    flat = re.sub(r"^template\s*<.*?>\s*", "", flat)
    if not flat or flat.endswith("=") or flat.endswith("]") or flat.endswith(","):
        return "other"
    if "(" not in flat:
        return "scope" if SCOPE_KEYWORDS.search(flat) or flat.startswith("extern") else "other"
    before_paren = flat.split("(", 1)[0]
    if SCOPE_KEYWORDS.search(before_paren) and not before_paren.rstrip().endswith("operator"):
        return "scope"
    if CONTROL_KEYWORDS.match(flat):
        return "other"
    return "function"


def function_name(header):
    flat = " ".join(header.split())
    # The name is the identifier before the parameter list that is not inside
    # the initializer list: take the text up to the first top-level '('.
    depth, cut = 0, len(flat)
    for i, c in enumerate(flat):
        if c == "<":
            depth += 1
        elif c == ">":
            depth = max(0, depth - 1)
        elif c == "(" and depth == 0:
            cut = i
            break
    words = re.findall(r"[~\w:]+(?:\s*(?:operator\s*\S+))?", flat[:cut])
    return words[-1] if words else flat[:40]


def python_functions(text):
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [(node.name, node.lineno, node.end_lineno)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def tracked_sources(root):
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=root, capture_output=True, text=True, check=True).stdout.split()
    return sorted(f for f in files if pathlib.Path(f).suffix in SOURCE_SUFFIXES
                  and (root / f).is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--root", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent.parent)
    parser.add_argument("--report", type=int, default=0,
                        help="also list the N largest files and functions")
    args = parser.parse_args()
    breaches, sizes, lengths = [], [], []
    for path in tracked_sources(args.root):
        text = (args.root / path).read_text(errors="replace")
        lines = text.count("\n")
        sizes.append((lines, path))
        if lines > FILE_LIMIT:
            breaches.append(f"{path}:1: {lines} lines (limit {FILE_LIMIT})")
        if not path.startswith(FUNCTION_FOLDERS) or path.endswith(".td"):
            continue
        found = python_functions(text) if path.endswith(".py") else cpp_functions(text)
        for name, first, last in found:
            length = last - first + 1
            lengths.append((length, f"{path}:{first}", name))
            if length > FUNCTION_LIMIT:
                breaches.append(f"{path}:{first}: function '{name}' is {length} lines "
                                f"(limit {FUNCTION_LIMIT})")
    if args.report:
        print(f"largest files (of {len(sizes)}):")
        for lines, path in sorted(sizes, reverse=True)[: args.report]:
            print(f"  {lines:5d}  {path}")
        print(f"longest functions (of {len(lengths)}, in {', '.join(FUNCTION_FOLDERS)}):")
        for length, where, name in sorted(lengths, reverse=True)[: args.report]:
            print(f"  {length:5d}  {where}  {name}")
    for breach in breaches:
        print(breach)
    print(f"check-source-limits: {len(breaches)} breaches "
          f"(files <= {FILE_LIMIT} lines, functions <= {FUNCTION_LIMIT} lines)")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
