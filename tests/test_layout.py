"""The house's layout holds: domain packages import each other one way, and app never imports workers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_graph():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_domain_packages_import_each_other_one_way_and_app_never_imports_workers():
    graph = _import_graph()
    edges, to_workers = graph.graph()
    assert {"annotations", "dashboards", "flows", "modeling", "queue"} <= set(edges)
    assert graph.cycles(edges) == []
    assert to_workers == []
    # Pages that compose domains and the flows sit on top: no domain imports them.
    assert not any({"dashboards", "flows"} & targets for source, targets in edges.items()
                   if source not in ("dashboards", "flows"))


def test_the_cycle_finder_finds_a_cycle():
    graph = _import_graph()
    assert graph.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_learning_core_is_pure_torch_and_numpy():
    """app/learning imports nothing else of the app, and no web, SQL, CLI or plotting library; the
    simulator lives apart, in app/simulation."""
    graph = _import_graph()
    banned = {"argparse", "rich", "matplotlib", "fastapi", "sqlalchemy", "celery", "typer"}
    for path in (ROOT / "app" / "learning").rglob("*.py"):
        names = set(graph.imported_modules(path))
        leaks = sorted(n for n in names if (n.startswith("app.") and not n.startswith("app.learning"))
                       or n.split(".")[0] in banned)
        assert leaks == [], f"{path.name} imports {leaks}"
    assert not list((ROOT / "app" / "learning").glob("simulat*.py"))
