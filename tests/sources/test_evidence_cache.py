"""The evidence cache: a rescan reads only the documents that changed, and shows what a scan without
the cache shows. Real repositories, real files; what was read is told by the cache's own counters,
or by a document changed behind the cache's back (same size, same time stamp) still showing its old
line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.sources.git.repository import open_repository
from migration_archaeologist.report.json_report import scan_document
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.docs.mentions import find_mentions
from migration_archaeologist.sources.docs.cache import CACHE_FILE, EvidenceCache
from migration_archaeologist.sources.git.cache import cache_path

V = "alembic/versions"
FIRST = "1a2b3c4d5e6f"
SECOND = "2b3c4d5e6f70"
LOST = "deadbeef0123"
LATER = "20240301_extra"
PAST = 1_700_000_000 * 10**9  # documents older than the two seconds in which a time stamp may not move


def evidence_path(repo: GitRepo) -> Path:
    return cache_path(open_repository(repo.path)).with_name(CACHE_FILE)


def stored(repo: GitRepo) -> EvidenceCache:
    """The cache as a scan of this work tree opens it."""
    return EvidenceCache(evidence_path(repo), open_repository(repo.path).work_tree)


def age(repo: GitRepo) -> None:
    for folder, _dirs, files in os.walk(repo.path):
        if ".git" in Path(folder).relative_to(repo.path).parts:
            continue
        for name in files:
            os.utime(Path(folder) / name, ns=(PAST, PAST))


def documented(repo: GitRepo) -> GitRepo:
    repo.commit(
        "revisions",
        {
            f"{V}/{FIRST}_create_users.py": revision_source(FIRST, None, "create users"),
            f"{V}/{SECOND}_add_accounts.py": revision_source(SECOND, FIRST, "add accounts"),
            "app/models.py": f"# columns added by migration {FIRST}\nNOTE = 1\n",
        },
    )
    repo.commit("old report", {"docs/old.md": f"The migration {LOST} was applied on 2024-01-02.\n"})
    repo.commit(
        "docs",
        {
            "docs/a.md": f"# A\n\n- `{FIRST}_create_users.py` (1,234 bytes): users table\n",
            "docs/b.md": f"# B\n\nRevision {SECOND} adds accounts, sha256 {'ab' * 8}.\n",
            "docs/crlf.txt": "\r\n".join(["prose"] * 100 + [f"migration {SECOND} applied", ""]),
            "docs/later.md": f"| step | id |\n|---|---|\n| 3 | {LATER} |\n",
        },
        remove=["docs/old.md"],
    )
    age(repo)
    return repo


def evidence(repo: GitRepo, **options: object) -> list:
    return scan_document(scan_repository(repo.path, versions=[V], **options))["evidence"]  # type: ignore[arg-type]


def test_a_second_scan_reads_no_document(repo: GitRepo) -> None:
    documented(repo)
    first = evidence(repo)
    assert evidence_path(repo).is_file()
    assert {row["revision"] for row in first} == {FIRST, SECOND, LOST}
    assert evidence(repo) == first == evidence(repo, cache=False)

    # counted by the cache itself: every document and committed version the first time, none after
    store = evidence_path(repo)
    store.unlink()
    cold = stored(repo)
    mentions = find_mentions(repo.path, [FIRST, SECOND], cache=cold)
    cold.save()
    assert cold.documents_read >= 5 and cold.versions_read == 1  # docs/old.md lives in history only
    warm = stored(repo)
    assert find_mentions(repo.path, [FIRST, SECOND], cache=warm) == mentions
    assert (warm.documents_read, warm.versions_read) == (0, 0)
    assert not warm.save()  # nothing changed: not rewritten

    # a document changed behind the cache's back (same size, same time stamp) is not read again:
    # the scan still shows its old line, and a scan without the cache shows the new one
    b = repo.path / "docs/b.md"
    b.write_text(b.read_text().replace(SECOND, "9f8e7d6c5b4a"))
    os.utime(b, ns=(PAST, PAST))
    assert [m["text"] for row in evidence(repo) if row["revision"] == SECOND for m in row["mentions"]] == [
        m["text"] for row in first if row["revision"] == SECOND for m in row["mentions"]
    ]
    assert "9f8e7d6c5b4a" in {row["revision"] for row in evidence(repo, cache=False)}


def test_editing_one_document_reads_it_alone_and_changes_only_its_row(repo: GitRepo) -> None:
    documented(repo)
    first = {row["revision"]: row for row in evidence(repo)}
    a = repo.path / "docs/a.md"
    a.write_text(a.read_text().replace("1,234 bytes", "1,235 bytes"))
    os.utime(a, ns=(PAST + 10**9, PAST + 10**9))
    store = stored(repo)
    find_mentions(repo.path, [FIRST, SECOND], cache=store)
    assert (store.documents_read, store.versions_read) == (1, 0)

    again = {row["revision"]: row for row in evidence(repo)}
    assert again == {row["revision"]: row for row in evidence(repo, cache=False)}
    assert again.keys() == first.keys()
    changed = [rev for rev in first if again[rev] != first[rev]]
    assert changed == [FIRST]
    assert ("size", "1235") in [(c["kind"], c["value"]) for c in again[FIRST]["checks"]]


def test_a_corrupt_or_foreign_cache_is_ignored_and_rebuilt(repo: GitRepo) -> None:
    documented(repo)
    expected = evidence(repo, cache=False)
    store = evidence_path(repo)
    for broken in (
        b"{not json",
        b"",
        json.dumps({"format": 999, "tool": "0.0.0", "worktree": {}, "blobs": {}}).encode(),
        b"[1, 2, 3]",
    ):
        evidence(repo)
        store.write_bytes(broken)
        assert evidence(repo) == expected
        assert json.loads(store.read_bytes())["worktree"]  # rebuilt
    # the right format, but entries of the wrong shape: each such document is read again
    doc = json.loads(store.read_bytes())
    for key, entry in doc["worktree"].items():
        if entry[3] is not None:
            entry[3]["l"] = [["x", 1, None, 5]]
            entry[3]["t"] = [[1]]
    doc["blobs"] = {blob: {"b": "all"} for blob in doc["blobs"]}
    store.write_text(json.dumps(doc))
    assert evidence(repo) == expected
    assert evidence(repo) == expected


def test_the_same_evidence_with_and_without_the_cache_as_the_catalog_and_documents_change(repo: GitRepo) -> None:
    documented(repo)

    def both() -> list:
        cached = json.loads(ma("scan", str(repo.path), "--versions", V, "--json").stdout)["evidence"]
        full = json.loads(ma("scan", str(repo.path), "--versions", V, "--json", "--no-cache").stdout)["evidence"]
        assert cached == full
        return cached

    first = both()
    assert LATER not in {row["revision"] for row in first}
    # a revision whose ID an unchanged document already named: that document is read again
    repo.commit("later", {f"{V}/{LATER}.py": revision_source(LATER, SECOND, "extra")})
    assert LATER in {row["revision"] for row in both()}
    # a document deleted (its committed versions still count), one added, one rewritten
    repo.commit(
        "docs again",
        {
            "docs/new.rst": f"Stamp the database with ``alembic stamp {FIRST}`` first.\n",
            "docs/b.md": f"# B\n\nRevision {SECOND} adds accounts and invoices, 77 bytes.\n",
        },
        remove=["docs/a.md"],
    )
    rows = {row["revision"]: row for row in both()}
    assert any(m["path"] == "docs/new.rst" for m in rows[FIRST]["mentions"])
    assert any(m["path"] == "docs/a.md" and m["commit"] for m in rows[FIRST]["mentions"])
    both()


def test_a_linked_worktree_reads_its_own_files(repo: GitRepo, tmp_path: Path) -> None:
    documented(repo)
    other = GitRepo(tmp_path / "other")
    repo.git("worktree", "add", "-q", str(other.path))
    # the same path, size and time stamp in both work trees, naming different revisions
    for where, named in ((repo.path, FIRST), (other.path, SECOND)):
        (where / "docs/same.md").write_text(f"migration {named} applied\n")
        os.utime(where / "docs/same.md", ns=(PAST, PAST))
    for _ in range(2):
        for where, named in ((repo.path, FIRST), (other.path, SECOND)):
            rows = scan_document(scan_repository(where, versions=[V]))["evidence"]
            assert [row["revision"] for row in rows if any(m["path"] == "docs/same.md" for m in row["mentions"])] == [
                named
            ]


def test_no_cache_neither_reads_nor_writes_the_evidence_cache(repo: GitRepo) -> None:
    documented(repo)
    evidence(repo, cache=False)
    assert not evidence_path(repo).exists()
    assert not cache_path(open_repository(repo.path)).exists()


def test_a_document_written_a_moment_ago_is_read_again_and_one_a_second_old_is_not(repo: GitRepo) -> None:
    """A time stamp with nanoseconds moves within a tenth of a second; one of whole seconds may not
    move for two: a document changed that recently could change again unseen, so it is not kept."""
    documented(repo)
    now = time.time_ns()
    fresh, settled, coarse = (Path(repo.path) / "docs" / name for name in ("a.md", "b.md", "later.md"))
    os.utime(fresh, ns=(now, now))  # this very moment
    os.utime(settled, ns=(now - 10**9 + 123, now - 10**9 + 123))  # a second ago, nanoseconds
    os.utime(coarse, ns=(now // 10**9 * 10**9 - 10**9,) * 2)  # a second ago, whole seconds
    evidence(repo)
    kept = stored(repo).worktree
    assert "docs/b.md" in kept and "docs/crlf.txt" in kept
    assert "docs/a.md" not in kept and "docs/later.md" not in kept


def test_a_rescan_with_the_same_catalog_and_documents_reuses_the_last_mentions(repo: GitRepo) -> None:
    """The last scan's mentions are kept with what they came from; a hand-edited one shows that the
    next scan took them as they were, and a new revision (another catalog) works them out again."""
    documented(repo)
    first = evidence(repo)
    path = evidence_path(repo)
    doc = json.loads(path.read_text())
    key, rows = doc["mentions"]
    assert rows and all(isinstance(row, list) for row in rows)
    for row in rows:
        row[7] = "edited by hand"
    path.write_text(json.dumps(doc))
    again = evidence(repo)
    assert {m["text"] for row in again for m in row["mentions"]} == {"edited by hand"}
    assert [row["revision"] for row in again] == [row["revision"] for row in first]
    # a malformed memo is ignored: the mentions are worked out from the documents
    doc["mentions"] = [key, [["not", "a", "mention"]]]
    path.write_text(json.dumps(doc))
    assert evidence(repo) == first
    # another revision changes the catalog: the mentions are worked out again
    doc = json.loads(path.read_text())
    for row in doc["mentions"][1]:
        row[7] = "edited by hand"
    path.write_text(json.dumps(doc))
    repo.commit("later", {f"{V}/{LATER}.py": revision_source(LATER, SECOND, "extra")})
    texts = {m["text"] for row in evidence(repo) for m in row["mentions"]}
    assert "edited by hand" not in texts and any(FIRST in text for text in texts)
