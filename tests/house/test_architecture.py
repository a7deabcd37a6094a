"""The house rules of the source tree (docs/architecture.md), checked on every run.

A newcomer finds where a thing happens from the tree alone only while the tree stays small at the
top, its modules fit in a head, and its packages import one way: these tests fail the change that
breaks one of those rules, and name the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "migration_archaeologist"
NAME = "migration_archaeologist"
MAX_LINES = 500
MAX_TOP_LEVEL = 12


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``'s)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = (NAME, *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules ``name`` imports, anywhere in the file (inside functions too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""]) if node.level else node.module
            base = (base or "").rstrip(".")
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name and m != NAME}


def _graph() -> nx.DiGraph:  # type: ignore[type-arg]
    modules = _modules()
    graph: nx.DiGraph = nx.DiGraph()  # type: ignore[type-arg]
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in _imports(name, path, modules))
    return graph


def test_no_module_is_over_500_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert sizes, "no modules found"
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_import_cycle() -> None:
    graph = _graph()
    assert graph.number_of_edges() > 50, "the import graph was not read"
    assert list(nx.simple_cycles(graph)) == []


def test_top_level_reads_as_the_pipeline() -> None:
    """At most twelve modules and packages at the top; ``py.typed`` is PEP 561's marker, not code."""
    entries = sorted(
        p.name for p in PACKAGE.iterdir() if p.name != "__pycache__" and (p.suffix == ".py" or (p / "__init__.py").exists())
    )
    assert "errors.py" in entries
    assert len(entries) <= MAX_TOP_LEVEL, entries
    strays = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__" and p.name not in entries)
    assert strays == [], "a folder without __init__.py at the top"


def test_no_private_module_is_imported_from_another_package() -> None:
    graph = _graph()
    crossing = sorted(
        (importer, target)
        for importer, target in graph.edges
        if target.rsplit(".", 1)[-1].startswith("_") and importer.rsplit(".", 1)[0] != target.rsplit(".", 1)[0]
    )
    assert crossing == []


def test_the_library_knows_no_cli() -> None:
    """Only the CLI (and ``__main__``) imports the CLI: the library is called by tests and users directly."""
    graph = _graph()
    cli = {m for m in graph if m == f"{NAME}.cli" or m.startswith(f"{NAME}.cli.")}
    assert cli, "the cli was not found"
    outside = sorted((a, b) for a, b in graph.edges if b in cli and a not in cli and a != f"{NAME}.__main__")
    assert outside == []


def test_sources_never_judge_the_chain_and_formats_never_query() -> None:
    """Sources yield sightings (they may read the catalog's types, never the graph or a command);
    report formats render results (they may name the results' types, never open a repository, a
    database or Alembic); the parser reads bytes it is handed."""
    graph = _graph()

    def reaches(prefix: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
        return sorted(
            (a, b)
            for a, b in graph.edges
            if a.startswith(f"{NAME}.{prefix}") and any(b.startswith(f"{NAME}.{f}") for f in forbidden)
        )

    judging = [(a, b) for a, b in reaches("sources", ("chain",)) if b != f"{NAME}.chain.catalog"]
    assert judging == []
    assert reaches("sources", ("actions", "database", "report", "cli")) == []
    assert reaches("report", ("sources", "database", "project", "cli")) == []
    assert reaches("parse", ("sources", "chain", "actions", "database", "report", "cli")) == []
