#!/usr/bin/env python3
"""The import graph of the nethttp crate's `src/`, and its circles.

Each file is a module (`src/conn/stream.rs` is `conn::stream`). An edge A -> B means A
names `crate::B...` (a `use` line or a path in code, an item `lib.rs` re-exports counting
as its module), declares B as its child (`mod b;`), or is B's child and names `super::`
(`super::b::` names the sibling B). Test modules, the fuzzing module and comments (doc
links) are left out. Prints the strongly connected components of more than one file
(files that reach each other through imports), largest first, and exits 1 if one has more
than `--max` files (default 2).

    scripts/imports.py [--max N] [--edges]
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def modules():
    """Module path -> file, for every .rs file under src/ (tests and fuzzing included)."""
    found = {}
    for root, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.relpath(os.path.join(root, name), SRC)[:-3]
            parts = path.split(os.sep)
            if parts[-1] in ("lib", "main", "mod"):
                parts = parts[:-1]
            found["::".join(parts)] = os.path.join(root, name)
    return found


def strip_tests(text):
    """Drops `#[cfg(test)]` modules written inline (`mod tests { ... }`): tests may look
    anywhere."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        test_module = (
            lines[i].strip() == "#[cfg(test)]"
            and i + 1 < len(lines)
            and re.match(r"\s*mod [a-z_0-9]+\s*\{", lines[i + 1])
        )
        if not test_module:
            out.append(lines[i])
            i += 1
            continue
        depth, i = 0, i + 1
        while i < len(lines):
            depth += lines[i].count("{") - lines[i].count("}")
            i += 1
            if depth <= 0:
                break
    return "\n".join(out)


def reexports(known):
    """Names `lib.rs` re-exports at the root (`pub use request::{Body, Request}`) -> module."""
    with open(known[""]) as f:
        text = f.read()
    found = {}
    for module, items in re.findall(r"pub(?:\(crate\))? use ([a-z_][a-z0-9_:]*)::\{?([^;}]*)\}?;", text):
        for item in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", items):
            found[item] = module
    return found


def uses(text, known, roots):
    """The modules `text` names through `crate::` paths, including `use crate::{a, b::c}` and
    items re-exported at the root (`crate::Request`)."""
    names = set(re.findall(r"crate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)", text))
    items = re.findall(r"crate::([A-Z][A-Za-z0-9_]*)", text)
    for group in re.findall(r"crate::\{([^}]*)\}", text, re.S):
        for item in group.split(","):
            item = item.strip()
            if item[:1].isupper():
                items.append(item)
            elif item:
                names.add(item)
    names.update(roots[item] for item in items if item in roots)
    found = set()
    for name in names:
        parts = [p for p in name.replace(" ", "").split("::") if p]
        # The longest prefix that is a module.
        for n in range(len(parts), 0, -1):
            candidate = "::".join(parts[:n])
            if candidate in known:
                found.add(candidate)
                break
    return found


def graph():
    known = modules()
    roots = reexports(known)
    edges = {}
    for module, path in known.items():
        if module in ("", "fuzzing") or "tests" in module.split("::"):
            continue
        with open(path) as f:
            text = strip_tests(f.read())
        # Comments (doc links included) are not imports.
        text = re.sub(r"//[^\n]*", "", text)
        # `mod child;` in a parent names the child; `super::` in a child, its parent or a
        # sibling.
        targets = uses(text, known, roots)
        for child in re.findall(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod ([a-z_][a-z0-9_]*);", text, re.M):
            name = f"{module}::{child}" if module else child
            if name in known:
                targets.add(name)
        if "::" in module:
            parent = module.rsplit("::", 1)[0]
            for path in re.findall(r"super::([A-Za-z_][A-Za-z0-9_]*)", text):
                # `super::sibling::Item` names the sibling; anything else, the parent.
                sibling = f"{parent}::{path}"
                targets.add(sibling if sibling in known else parent)
            for group in re.findall(r"super::\{([^}]*)\}", text):
                for item in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", group):
                    sibling = f"{parent}::{item}"
                    targets.add(sibling if sibling in known else parent)
        edges[module] = {
            t for t in targets
            if t not in (module, "", "fuzzing") and "tests" not in t.split("::")
        }
    return edges


def components(edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    limit = 2
    if "--max" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--max") + 1])
    edges = graph()
    if "--edges" in sys.argv:
        for v in sorted(edges):
            print(f"{v or 'lib'} -> {', '.join(sorted(edges[v]))}")
    circles = sorted((c for c in components(edges) if len(c) > 1), key=len, reverse=True)
    for c in circles:
        print(f"circle of {len(c)}: {' '.join(c)}")
    if not circles:
        print("no circles")
    worst = max((len(c) for c in circles), default=0)
    sys.exit(1 if worst > limit else 0)


if __name__ == "__main__":
    main()
