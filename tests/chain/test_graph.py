"""The chain and its problems, built from real repositories: every problem in one run."""

from __future__ import annotations

from gitfixture import GitRepo, revision_source
from migration_archaeologist.chain.graph import build_graph
from migration_archaeologist.parse.revision import parse_revision
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"


def test_merge_branch_labels_and_depends_on(repo: GitRepo) -> None:
    repo.commit(
        "chain",
        {
            f"{V}/a.py": revision_source("a", None, "base"),
            f"{V}/b.py": revision_source("b", "a", "left"),
            f"{V}/c.py": revision_source("c", "a", "right"),
            f"{V}/m.py": revision_source("m", ("b", "c"), "merge"),
            f"{V}/s1.py": revision_source("s1", None, "side base", branch_labels=("seeds",)),
            f"{V}/s2.py": revision_source("s2", "s1", "side next", depends_on="m"),
        },
    )
    result = scan_repository(repo.path, versions=[V])
    chain = result.chain
    assert chain.bases == ("a", "s1")
    assert chain.merge_points == ("m",)
    assert chain.branch_points == ("a",)
    assert chain.branch_labels == {"seeds": "s1"}
    assert chain.graph.edges["s2", "m"]["kind"] == "depends"
    assert chain.ancestors("s2") == {"s1", "m", "b", "c", "a"}
    order = list(chain.order)
    assert order.index("a") < order.index("b") < order.index("m") and order.index("s1") < order.index("s2")
    # m is still a head through down_revision: depends_on does not make a child (as in Alembic)
    assert chain.heads == ("m", "s2")
    assert [p.kind for p in chain.problems] == ["multiple-heads"]
    assert "labelled branches" in chain.problems[0].message


def test_all_problems_in_one_run(repo: GitRepo) -> None:
    repo.commit(
        "healthy start",
        {
            f"{V}/a.py": revision_source("a", None, "base"),
            f"{V}/b.py": revision_source("b", "a", "second"),
        },
    )
    # b with another parent on a branch: two versions with different parents (an edit of b on
    # HEAD's own history would be one superseding the other, not a conflict: test_real_world)
    repo.git("checkout", "-q", "-b", "other")
    repo.commit("rebase b", {f"{V}/b.py": revision_source("b", "x0", "second, re-parented")})
    repo.git("checkout", "-q", "main")
    repo.commit(
        "trouble",
        {
            # a copy of a with the ID unchanged: duplicate ID with different content
            f"{V}/a_copy.py": revision_source("a", None, "copied base, forgot to change the id"),
            # missing parent
            f"{V}/orphan.py": revision_source("orphan", "nowhere", "orphan"),
            # down_revision cycle
            f"{V}/c1.py": revision_source("c1", "c2", "cycle one"),
            f"{V}/c2.py": revision_source("c2", "c1", "cycle two"),
            # depends_on cycle (down_revision alone is fine)
            f"{V}/d1.py": revision_source("d1", "a", "dep one", depends_on="d2"),
            f"{V}/d2.py": revision_source("d2", "a", "dep two", depends_on="d1"),
            # header says something else than the code
            f"{V}/h.py": revision_source("h", "a", "header", revises_header="zzz"),
        },
    )
    result = scan_repository(repo.path, versions=[V])
    problems = {(p.kind, p.revisions) for p in result.chain.problems}
    kinds = {kind for kind, _ in problems}
    assert kinds >= {
        "missing-parent",
        "cycle",
        "duplicate-id",
        "conflicting-versions",
        "multiple-heads",
        "header-mismatch",
    }
    assert ("missing-parent", ("orphan", "nowhere")) in problems
    assert ("cycle", ("c1", "c2")) in problems
    assert ("cycle", ("d1", "d2")) in problems
    assert ("duplicate-id", ("a",)) in problems
    assert ("conflicting-versions", ("b",)) in problems
    assert ("header-mismatch", ("h",)) in problems
    messages = {p.kind + ":" + p.message for p in result.chain.problems}
    assert any(m.startswith("cycle:down_revision cycle: c1 -> c2 -> c1") or "c2 -> c1 -> c2" in m for m in messages)
    assert any("depends_on cycle" in m for m in messages)
    assert any("Revises: zzz" in m for m in messages)


def test_conflicting_versions_prefers_the_one_that_fits(repo: GitRepo) -> None:
    repo.commit("a", {f"{V}/a.py": revision_source("a", None, "base")})
    repo.commit("b v1", {f"{V}/b.py": revision_source("b", "a", "good parent")})
    repo.commit("b v2", {f"{V}/b.py": revision_source("b", "ghost", "bad parent")})
    repo.commit("gone", remove=[f"{V}/b.py"])
    result = scan_repository(repo.path, versions=[V])
    entry = result.catalog.entries["b"]
    assert entry.parsed.down_revisions == ("a",)
    assert "fits the chain" in entry.reason
    assert [p.kind for p in result.chain.problems] == ["conflicting-versions"]


def test_self_reference_is_a_cycle() -> None:
    parsed = parse_revision(revision_source("x", "x", "me").encode())
    chain = build_graph({"x": parsed})  # type: ignore[dict-item]
    assert [(p.kind, p.revisions) for p in chain.problems] == [("cycle", ("x",))]
