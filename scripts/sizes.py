#!/usr/bin/env python3
"""Files over `--file` lines of code and functions over `--fn` lines, in `src/` and
`poller/src/`.

A line of code is a line that is neither blank nor only a comment (`//`, `///`, `//!`).
A function's length runs from its `fn` line to the line of its closing brace, comments
included (what a reader scrolls through). Test modules count like any other code. Exits 1
if anything is over.

    scripts/sizes.py [--file 450] [--fn 60]
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TREES = ["src", "poller/src"]
FN = re.compile(r"^\s*(pub(\([a-z]+\))?\s+)?(const\s+)?(unsafe\s+)?fn\s+([a-z_0-9]+)")


def code_lines(lines):
    return sum(1 for l in lines if l.strip() and not l.strip().startswith("//"))


def functions(lines):
    """(name, first line, length) of each function with a body."""
    found = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, opened = 0, False
        for j in range(i, len(lines)):
            text = re.sub(r"//.*", "", lines[j])
            text = re.sub(r"'.'|'\\.'|\"(\\.|[^\"\\])*\"", "", text)
            if not opened and ";" in text and "{" not in text:
                break  # a declaration without a body
            depth += text.count("{") - text.count("}")
            opened |= "{" in text
            if opened and depth <= 0:
                found.append((m.group(5), i + 1, j - i + 1))
                break
    return found


def main():
    args = sys.argv[1:]
    max_file = int(args[args.index("--file") + 1]) if "--file" in args else 450
    max_fn = int(args[args.index("--fn") + 1]) if "--fn" in args else 60
    over = []
    for tree in TREES:
        for root, _, files in os.walk(os.path.join(ROOT, tree)):
            for name in sorted(files):
                if not name.endswith(".rs"):
                    continue
                path = os.path.join(root, name)
                lines = open(path, encoding="utf-8").read().split("\n")
                rel = os.path.relpath(path, ROOT)
                n = code_lines(lines)
                if n > max_file:
                    over.append(f"{rel}: {n} lines of code (most {max_file})")
                for fn, line, length in functions(lines):
                    if length > max_fn:
                        over.append(f"{rel}:{line}: fn {fn} is {length} lines (most {max_fn})")
    for item in over:
        print(item)
    if not over:
        print(f"no file over {max_file} lines of code, no function over {max_fn} lines")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
