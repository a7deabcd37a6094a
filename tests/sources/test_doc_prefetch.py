"""Documents indexed by a helper while history is walked: the evidence is the same as when the scan
reads every document itself, a document that names a known revision is read again with the catalog
at hand, and one edited after the helper read it shows its new text. Real repositories, real files,
a real helper process."""

from __future__ import annotations

from pathlib import Path

from gitfixture import GitRepo, revision_source
from migration_archaeologist.report.json_report import scan_document
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.docs import prefetch as doc_prefetch
from migration_archaeologist.sources.docs.cache import EvidenceCache
from migration_archaeologist.sources.docs.documents import worktree_files as _worktree_files
from migration_archaeologist.sources.docs.mentions import find_mentions

V = "alembic/versions"
FIRST = "1a2b3c4d5e6f"
SECOND = "2b3c4d5e6f70"
FILLER = "Prose about the application, its settings and its deployment, line after line.\n" * 120


def documents(repo: GitRepo) -> GitRepo:
    """Revision files and about 400 KB of documents and code: enough for the helper to start."""
    files = {
        f"{V}/{FIRST}_create_users.py": revision_source(FIRST, None, "create users"),
        f"{V}/{SECOND}_add_accounts.py": revision_source(SECOND, FIRST, "add accounts"),
        "docs/known.md": FILLER + f"\n- `{FIRST}_create_users.py` (1,234 bytes): users table\n",
        "docs/lost.md": FILLER + "\nThe migration 84456d47e6aa was applied on 2024-01-02.\n",
        # first in the helper's first batch: a known ID alone, which the helper's index cannot tell
        "app/a-table.md": f"| id | purpose |\n|---|---|\n| {SECOND} | adds accounts |\n" + FILLER,
        "app/models.py": f"# columns added by migration {FIRST}\n" + "VALUE = 1  # a comment\n" * 300,
    }
    for n in range(40):
        files[f"docs/page{n}.rst"] = FILLER
    repo.commit("app", files)
    return repo


def rows(repo: GitRepo, **options: object) -> list:
    return scan_document(scan_repository(repo.path, versions=[V], **options))["evidence"]  # type: ignore[arg-type]


def started(repo: GitRepo) -> tuple[Path, list[str], doc_prefetch.DocumentPrefetch, EvidenceCache]:
    """The documents of ``documents(repo)``, a helper started on them, and the cache whose salt it uses."""
    documents(repo)
    root = Path(repo.path)
    tracked = _worktree_files(root, None)
    assert tracked is not None
    store = EvidenceCache(None)
    prefetch = doc_prefetch.start(root, tracked, store, store.salt)
    assert prefetch is not None  # over MIN_BYTES of documents
    return root, tracked, prefetch, store


def test_the_helper_indexes_the_documents_and_the_evidence_is_unchanged(repo: GitRepo) -> None:
    root, tracked, prefetch, _store = started(repo)
    taken = prefetch.take()
    assert len(taken) >= doc_prefetch.BATCH  # what was handed over when the scan asked
    # the same mentions as a scan that reads every document itself
    alone = find_mentions(root, [FIRST, SECOND], cache=EvidenceCache(None))
    store = EvidenceCache(None)
    prefetch = doc_prefetch.start(root, tracked, None, store.salt)
    assert prefetch is not None
    helped = find_mentions(root, [FIRST, SECOND], cache=store, tracked=tracked, prefetch=prefetch)
    assert helped == alone
    assert {m.revision for m in helped} >= {FIRST, SECOND, "84456d47e6aa"}
    assert any(m.path == "app/a-table.md" and m.revision == SECOND for m in helped)
    # and so is the scan's evidence table, with and without the cache
    first = rows(repo)
    assert first == rows(repo, cache=False) == rows(repo)
    assert {row["revision"] for row in first} >= {FIRST, SECOND, "84456d47e6aa"}


def test_a_document_edited_after_the_helper_read_it_shows_its_new_text(repo: GitRepo) -> None:
    root, tracked, prefetch, store = started(repo)
    assert "docs/lost.md" in prefetch.take()  # the helper read the committed text (first batch)
    (root / "docs/lost.md").write_text(FILLER + "\nThe migration 77aa88bb99cc was applied in May.\n")
    found = find_mentions(root, [FIRST, SECOND], cache=store, tracked=tracked, prefetch=prefetch)
    on_disk = {m.revision for m in found if m.commit is None and m.path == "docs/lost.md"}
    assert on_disk == {"77aa88bb99cc"}


def test_few_documents_start_no_helper(repo: GitRepo) -> None:
    repo.commit("app", {f"{V}/{FIRST}_create_users.py": revision_source(FIRST, None, "create users"),
                        "README.md": f"Revision {FIRST} creates the users.\n"})
    root = Path(repo.path)
    tracked = _worktree_files(root, None)
    assert tracked is not None
    assert doc_prefetch.start(root, tracked, None, b"s" * 16) is None
    assert {row["revision"] for row in rows(repo)} == {FIRST}
