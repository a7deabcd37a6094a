"""benchmarks/bench_graph.py's generator: a directory Alembic loads, with the heads our graph finds."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from migration_archaeologist.chain.catalog import build_catalog
from migration_archaeologist.chain.graph import analyse_catalog
from migration_archaeologist.sources.worktree import WorkTree

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_graph.py"
N = 400


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_graph", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_graph"] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["bench_graph"]
    return module


@pytest.fixture(scope="module")
def generated(bench, tmp_path_factory):  # type: ignore[no-untyped-def]
    repo = tmp_path_factory.mktemp("graph") / "repo"
    return repo, bench.generate(repo, N, 3)


def test_alembic_loads_it_and_agrees_with_our_graph(bench, generated) -> None:  # type: ignore[no-untyped-def]
    repo, summary = generated
    versions = repo / bench.VERSIONS
    assert len(list(versions.glob("*.py"))) == N == summary.n
    script = ScriptDirectory(str(repo / "alembic"))
    heads = tuple(sorted(script.revision_map.heads))
    assert len(list(script.walk_revisions())) == N
    chain = analyse_catalog(build_catalog([WorkTree(repo, [versions])]))
    assert heads == summary.heads == chain.heads
    assert len(chain.merge_points) == summary.merges > 0
    assert len(chain.branch_points) == summary.branch_points > 0
    assert sorted(chain.branch_labels) == sorted(summary.labels)
    assert {p.kind for p in chain.problems} == {"multiple-heads"}  # the labelled second bases stay heads


def test_both_templates_and_every_shape_are_there(bench, generated) -> None:  # type: ignore[no-untyped-def]
    repo, summary = generated
    texts = [p.read_text() for p in (repo / bench.VERSIONS).glob("*.py")]
    assert summary.classic and summary.typed and summary.classic + summary.typed == N
    assert sum("\nrevision: str = '" in t for t in texts) == summary.typed
    assert sum("\nrevision = '" in t for t in texts) == summary.classic
    assert sum(bool(re.search(r"^down_revision[^=]*= \('", t, re.M)) for t in texts) == summary.merges
    assert sum(bool(re.search(r"^depends_on[^=]*= [('](?!None)", t, re.M)) for t in texts) == summary.depends > 0
    assert all("Revision ID: " in t and "Revises: " in t and "Create Date: " in t for t in texts)
    assert any("op.create_table(" in t for t in texts) and any("op.create_index(" in t for t in texts)
    assert (repo / "alembic.ini").read_text().count("script_location = alembic") == 1


def test_one_commit_and_the_same_bytes_for_the_same_seed(bench, generated, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _summary = generated
    again = tmp_path / "again"
    bench.generate(again, N, 3)

    def tree(path: Path) -> str:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD^{tree}"], check=True,
                              capture_output=True, text=True).stdout

    count = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], check=True,
                           capture_output=True, text=True).stdout
    assert count.strip() == "1"
    assert tree(repo) == tree(again)
