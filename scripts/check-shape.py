#!/usr/bin/env python3
"""Check the shape of the house (issue 9): fails loudly on a regression.

1. No two top-level modules of wsbench-core import each other (no import cycle of
   any length), and nothing under `connection/` imports `session`.
2. No source file over 700 lines outside tests (Rust, JS, HTML, CSS).
3. No Rust function over 100 lines (signature to closing brace) outside tests.
4. `ui/js/main.js` is a short boot file (under 150 lines).

Prints one line per problem and a closing `N passed, N failed` line.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "crates", "wsbench-core", "src")
MAX_FILE_LINES = 700
MAX_FN_LINES = 100
MAX_MAIN_JS_LINES = 150
SOURCE_DIRS = ["crates", "src-tauri/src", "ui/js", "ui/css", "ui/index.html"]
# Tests, benchmarks and the soak example are harnesses, not the product: their long
# setup functions read best whole.
SKIP_PARTS = {"tests", "benches", "examples", "target", "gen", "fixtures", "node_modules"}


def rel(p):
    return os.path.relpath(p, ROOT)


def source_files(exts):
    for top in SOURCE_DIRS:
        path = os.path.join(ROOT, top)
        if os.path.isfile(path):
            yield path
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d not in SKIP_PARTS]
            for f in sorted(filenames):
                if f.endswith(exts):
                    yield os.path.join(dirpath, f)


def strip_cfg_test(text):
    """Drop `#[cfg(test)] mod ... { ... }` blocks: unit tests may be long."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod\s+\w+\s*\{", lines[i + 1]):
            depth = 0
            j = i + 1
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                j += 1
                if depth <= 0:
                    break
            out.extend([""] * (j - i))
            i = j
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def top_module(path):
    r = os.path.relpath(path, CORE)
    first = r.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


USE_RE = re.compile(r"\bcrate::(\w+)")
SUPER_RE = re.compile(r"\bsuper::")


def module_graph():
    graph = {}
    offenders = {}
    for dirpath, _, filenames in os.walk(CORE):
        for f in filenames:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            mod = top_module(path)
            if mod == "lib":
                continue
            text = strip_cfg_test(open(path, encoding="utf-8").read())
            code = "\n".join(line.split("//")[0] for line in text.split("\n"))
            for target in USE_RE.findall(code):
                if target != mod and target not in ("self",):
                    graph.setdefault(mod, set()).add(target)
                    offenders.setdefault((mod, target), set()).add(rel(path))
            graph.setdefault(mod, set())
    return graph, offenders


def find_cycles(graph):
    """Strongly connected components with more than one module."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
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
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


STRING_RE = re.compile(r'b?"(?:[^"\\]|\\.)*"|b?\'(?:[^\'\\]|\\.)\'')


def long_rust_functions(path):
    text = strip_cfg_test(open(path, encoding="utf-8").read())
    text = "\n".join(STRING_RE.sub('""', line) for line in text.split("\n"))
    lines = text.split("\n")
    fn_re = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
    found = []
    for i, line in enumerate(lines):
        m = fn_re.match(line)
        if not m:
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = lines[j].split("//")[0]
            if not started and ";" in code and "{" not in code:
                break  # a declaration without a body
            depth += code.count("{") - code.count("}")
            if "{" in code:
                started = True
            if started and depth <= 0:
                break
            j += 1
        length = j - i + 1
        if started and length > MAX_FN_LINES:
            found.append((m.group(6), i + 1, length))
    return found


def main():
    problems = []
    checks = 0

    graph, offenders = module_graph()
    checks += 1
    for comp in find_cycles(graph):
        edges = [f"{a} -> {b} ({', '.join(sorted(offenders[(a, b)]))})" for a in comp for b in comp if (a, b) in offenders]
        problems.append("engine import cycle among " + ", ".join(comp) + ":\n    " + "\n    ".join(edges))
    checks += 1
    conn_dir = os.path.join(CORE, "connection")
    for dirpath, _, filenames in os.walk(conn_dir):
        for f in filenames:
            p = os.path.join(dirpath, f)
            if f.endswith(".rs") and re.search(r"\bcrate::session\b", strip_cfg_test(open(p, encoding="utf-8").read())):
                problems.append(f"{rel(p)}: the connection layer imports the session module")

    for path in source_files((".rs", ".js", ".css", ".html")):
        checks += 1
        n = sum(1 for _ in open(path, encoding="utf-8"))
        limit = MAX_MAIN_JS_LINES if rel(path) == os.path.join("ui", "js", "main.js") else MAX_FILE_LINES
        if n > limit:
            problems.append(f"{rel(path)}: {n} lines (limit {limit})")
        if path.endswith(".rs"):
            for name, line, length in long_rust_functions(path):
                problems.append(f"{rel(path)}:{line}: fn {name} is {length} lines (limit {MAX_FN_LINES})")

    for p in problems:
        print("shape: " + p)
    print(f"shape: {checks - len(problems) if len(problems) < checks else 0} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
