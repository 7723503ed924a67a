#!/usr/bin/env python3
"""Report import circles between the modules of each workspace crate.

A module "imports" another when its source names a path into it (`crate::a::b`, `super::x`,
`self::y`, in `use` items and in expressions alike). Declaring a child (`mod x;`) is not an import.
Paths are resolved to the longest module prefix that exists as a file. Test modules
(`#[cfg(test)] mod tests { ... }` at the end of a file) are skipped: a test may reach back into the
module under test without making the code circular.

Exit status 1 and a list of the circles when any is found; 0 and a one-line summary otherwise.
Usage: .ci/module-cycles.py [crate-src-dir ...]   (default: every crates/*/src and src)
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_files(src: Path):
    """Map module path (tuple) -> file for one crate's src directory."""
    mods = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        mods[tuple(parts)] = f
    return mods


def strip(text: str) -> str:
    """Drop comments, string literals and a trailing `#[cfg(test)] mod tests { ... }`."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    m = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    if m:
        text = text[: m.start()]
    return text


def expand_use_tree(tree: str):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix = tree[:i]
                inner = tree[i + 1 : tree.rindex("}")]
                out = []
                for part in split_top(inner):
                    for sub in expand_use_tree(part):
                        out.append(prefix + sub)
                return out
            depth += 1
        elif ch == "}":
            depth -= 1
    return [tree]


def split_top(s: str):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


PATH = re.compile(r"\b((?:crate|super|self)(?:\s*::\s*(?:\w+|super))+)")


def paths_in(text: str):
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in expand_use_tree(m.group(1)):
            p = re.sub(r"\s+as\s+\w+$", "", p.strip())
            if re.match(r"(crate|super|self)\b", p):
                yield p
    body = re.sub(r"\buse\s+[^;]+;", "", text)
    for m in PATH.finditer(body):
        yield m.group(1)


def resolve(path: str, here: tuple, mods: dict):
    parts = [p.strip() for p in path.split("::") if p.strip()]
    base = list(here)
    if parts[0] == "crate":
        base = []
        parts = parts[1:]
    else:
        # `self` inside a.rs is module a; `super` is its parent.
        while parts and parts[0] in ("self", "super"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
    full = base + parts
    for n in range(len(full), -1, -1):
        if tuple(full[:n]) in mods:
            return tuple(full[:n])
    return None


def cycles_in(src: Path):
    mods = module_files(src)
    graph = {m: set() for m in mods}
    for mod, f in mods.items():
        text = strip(f.read_text())
        for p in paths_in(text):
            target = resolve(p, mod, mods)
            if target is None or target == mod:
                continue
            # A module reaching into its own descendants is composition, not an import back.
            if target[: len(mod)] == mod:
                continue
            graph[mod].add(target)
    # Tarjan's strongly connected components.
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    edges = sum(len(v) for v in graph.values())
    return mods, graph, out, edges


def name(m):
    return "crate::" + "::".join(m) if m else "crate"


def main():
    dirs = [Path(a) for a in sys.argv[1:]] or sorted(ROOT.glob("crates/*/src")) + [ROOT / "src"]
    bad = 0
    total_mods = total_edges = 0
    for src in dirs:
        if not src.is_dir():
            continue
        mods, graph, cycles, edges = cycles_in(src)
        total_mods += len(mods)
        total_edges += edges
        for comp in cycles:
            bad += 1
            crate = src.parent.name if src.name == "src" else src.name
            print(f"{crate}: circle between {', '.join(name(m) for m in comp)}")
            for m in comp:
                back = sorted(name(t) for t in graph[m] if t in comp)
                print(f"    {name(m)} -> {', '.join(back)}")
    if bad:
        sys.exit(1)
    print(f"no import circles: {total_mods} modules, {total_edges} imports between them")


if __name__ == "__main__":
    main()
