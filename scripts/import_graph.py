"""Print the import graph between app's domain packages as a Mermaid diagram, and exit 1 if it has
a cycle or if a module of app imports workers.

    python scripts/import_graph.py            # Mermaid text (paste into README or any Mermaid viewer)

Imports under `if TYPE_CHECKING:` are not counted; imports inside functions are.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
PURE_CORE = "learning"  # imports nothing else of app; drawn apart


def imported_modules(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)


def domain_packages() -> list[str]:
    return sorted(p.name for p in APP.iterdir() if (p / "__init__.py").exists())


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges between app's packages, and the modules of app that import workers."""
    domains = set(domain_packages())
    edges: dict[str, set[str]] = {d: set() for d in domains}
    to_workers = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        names = set(imported_modules(path))
        if any(n == "workers" or n.startswith("workers.") for n in names):
            to_workers.append(str(path.relative_to(ROOT)))
        if len(parts) > 2 and parts[1] in domains:
            for name in names:
                q = name.split(".")
                if len(q) > 1 and q[0] == "app" and q[1] in domains and q[1] != parts[1]:
                    edges[parts[1]].add(q[1])
    return edges, to_workers


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def mermaid(edges: dict[str, set[str]]) -> str:
    lines = ["graph TD"]
    for source in sorted(edges):
        for target in sorted(edges[source] - {PURE_CORE}):
            lines.append(f"  {source} --> {target}")
    users = sorted(d for d in edges if PURE_CORE in edges[d])
    lines.append(f"  %% {PURE_CORE} (pure torch/numpy) is imported by: {', '.join(users)}")
    return "\n".join(lines)


def main() -> int:
    edges, to_workers = graph()
    print(mermaid(edges))
    problems = [f"cycle: {' <-> '.join(c)}" for c in cycles(edges)] + [f"{m} imports workers" for m in to_workers]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
