"""Revision IDs named in documents: found in the working tree and history, checked against recovered bytes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixture import GitRepo, revision_source
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.docs.evidence import Evidence, collect_evidence, evidence_table
from migration_archaeologist.sources.docs.mentions import find_mentions
from migration_archaeologist.sources.docs.scanner import Claim

SAMPLE_BUILD = Path(__file__).resolve().parents[2] / "sample_repos" / "taskman-v2" / "build.py"
VERSIONS = "app/alembic/versions"
GONE = "1a2b3c4d5e6f"  # deleted from the working tree, still in history
HERE = "20240102_accounts"  # present
LOST = "deadbeef0123"  # named in a document only
GONE_SRC = revision_source(GONE, None, "create users")
HERE_SRC = revision_source(HERE, GONE, "add accounts")
UUID = "550e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def documented(repo: GitRepo) -> tuple[GitRepo, str, str]:
    """A repo whose docs name three revisions; returns (repo, first commit, commit of the deleted report)."""
    first = repo.commit(
        "revisions",
        {
            f"{VERSIONS}/{GONE}_create_users.py": GONE_SRC,
            f"{VERSIONS}/20240102_add_accounts.py": HERE_SRC,
            "app/models.py": f"# columns added by migration {GONE}\nNOTE = 'migration 5f5f5f5f5f5f'\n",
        },
    )
    report = repo.commit(
        "validation report",
        {"docs/report.md": f"# Report\n\n| Check | Result | Evidence |\n|---|---|---|\n"
         f"| Schema | PASSED | migration {GONE} applied |\n"},
    )
    sha = hashlib.sha256(GONE_SRC.encode()).hexdigest()
    repo.commit(
        "docs",
        {
            "docs/design.md": (
                "# Design\n\nRevision files, oldest first:\n\n"
                "| # | File | Revision | Purpose |\n|---|------|----------|---------|\n"
                f"| 1 | `{GONE}_create_users.py` | `{GONE}` | Users table |\n"
                f"| 2 | `20240102_add_accounts.py` | `{HERE}` | Accounts table |\n"
                "\nThe migration deadbeef0123 was written on a laptop and never committed.\n"
            ),
            "docs/index.md": (
                "# Loose File Index\n\n"
                f"- `{GONE}_create_users.py` — {len(GONE_SRC.encode())} bytes, 2025-10-15 — sha256 `{sha[:16]}`\n"
                "- `20240102_add_accounts.py` — 999 bytes, 2025-10-15\n"
            ),
            "docs/plan.md": (
                "```bash\n# Verify migration status\npsql -c 'SELECT version_num FROM alembic_version;'\n\n"
                f"# Expected: {HERE}\n```\n"
            ),
        },
    )
    repo.commit("drop old revision and report", remove=[f"{VERSIONS}/{GONE}_create_users.py", "docs/report.md"])
    noise_commit = repo.git("rev-parse", "HEAD")
    repo.commit(
        "noise",
        {
            "docs/noise.md": (
                f"The migration fix is commit {first} (also {noise_commit[:12]}).\n"
                f"Alembic run id {UUID} for the migration.\n"
                "Migration colours: #a1b2c3d4e5f6 and hex run abcdef0123456789abcdef in the revision log.\n\n"
                "A word like 0123456789ab without context is no ID.\n"
            )
        },
    )
    return repo, first, report


def _rows(repo: GitRepo) -> dict[str, Evidence]:
    catalog = scan_repository(repo.path).catalog
    rows = collect_evidence(repo.path, catalog)
    revisions = [row.revision for row in rows]
    assert len(revisions) == len(set(revisions)), "one row per revision"
    return {row.revision: row for row in rows}


def _check(row: Evidence, kind: str, value: str) -> str:
    return next(c.verdict for c in row.checks if c.claim == Claim(kind, value))


def test_every_documented_revision_once_with_purpose_place_and_status(documented) -> None:  # type: ignore[no-untyped-def]
    repo, _first, _report = documented
    rows = _rows(repo)
    assert set(rows) == {GONE, HERE, LOST}

    gone, here, lost = rows[GONE], rows[HERE], rows[LOST]
    assert gone.purpose == "Users table" and here.purpose == "Accounts table"
    assert gone.file_name == f"{GONE}_create_users.py" and here.file_name == "20240102_add_accounts.py"
    assert "docs/design.md:7" in [m.where for m in gone.mentions]
    assert "docs/design.md:8" in [m.where for m in here.mentions]
    assert gone.status == "recoverable from history"
    assert here.status == "present"
    assert lost.status == "lost" and lost.mentions[0].where == "docs/design.md:10"
    assert all(c.verdict == "unchecked" for c in lost.checks)


def test_size_and_hash_claims_are_checked_against_recovered_bytes(documented) -> None:  # type: ignore[no-untyped-def]
    repo, _first, _report = documented
    rows = _rows(repo)
    size = str(len(GONE_SRC.encode()))
    sha = hashlib.sha256(GONE_SRC.encode()).hexdigest()[:16]
    assert _check(rows[GONE], "size", size) == "match"
    assert _check(rows[GONE], "sha256", sha) == "match"
    assert _check(rows[GONE], "file-name", f"{GONE}_create_users.py") == "match"
    assert _check(rows[GONE], "date", "2025-10-15") == "match"
    mismatch = next(c for c in rows[HERE].checks if c.claim == Claim("size", "999"))
    assert mismatch.verdict == "mismatch" and str(len(HERE_SRC.encode())) in mismatch.detail
    assert _check(rows[HERE], "expected-stamp", HERE) == "unchecked"


def test_deleted_document_and_python_comments(documented) -> None:  # type: ignore[no-untyped-def]
    repo, _first, report = documented
    rows = _rows(repo)
    deleted = [m for m in rows[GONE].mentions if m.path == "docs/report.md"]
    assert [(m.line, m.commit) for m in deleted] == [(5, report)]
    assert Claim("applied", "applied") in deleted[0].claims
    assert any(m.path == "app/models.py" and m.line == 1 for m in rows[GONE].mentions)


def test_git_shas_uuids_colours_and_hex_runs_are_not_mentions(documented) -> None:  # type: ignore[no-untyped-def]
    repo, first, _report = documented
    mentions = find_mentions(repo.path, scan_repository(repo.path).catalog.entries)
    assert not [m for m in mentions if m.path == "docs/noise.md"]
    named = {m.revision for m in mentions}
    assert "5f5f5f5f5f5f" not in named  # inside a string, not a comment
    assert first[:12] not in named and "446655440000" not in named


def test_evidence_table_groups_mentions_and_reports_unknown_ids_lost(documented) -> None:  # type: ignore[no-untyped-def]
    repo, _first, _report = documented
    catalog = scan_repository(repo.path).catalog
    mentions = find_mentions(repo.path, catalog.entries)
    rows = evidence_table(mentions, catalog)
    assert sum(len(r.mentions) for r in rows) == len(mentions)
    assert [r.status for r in rows if r.revision == LOST] == ["lost"]


def test_taskman_sample_reproduces_the_seed_table(tmp_path: Path) -> None:
    dest = tmp_path / "taskman"
    subprocess.run([sys.executable, str(SAMPLE_BUILD), str(dest)], check=True, capture_output=True)
    catalog = scan_repository(dest).catalog
    rows = {row.file_name: row for row in collect_evidence(dest, catalog)}
    seed = {
        "20251015_64_field_baseline.py": "Initial 64-field task schema",
        "48b01bf7ee65_add_new_and_pending_to_task_status.py": "Task status expansion",
        "4de471a82333_align_task_model_with_64_field_.py": "Task model alignment",
        "84456d47e6aa_add_contextforge_extended_project_schema.py": "Project schema extension",
        "b22b3b5a376f_expand_action_list_status_enum.py": "Action list status enum",
        "add_users_table_for_authentication.py": "User authentication table",
    }
    assert set(seed) <= set(rows)
    for name, purpose in seed.items():
        assert rows[name].purpose is not None and rows[name].purpose.startswith(purpose), name
        assert rows[name].status.startswith("recoverable from "), (name, rows[name].status)
    assert "stash@{1}" in rows["b22b3b5a376f_expand_action_list_status_enum.py"].status  # and its __pycache__ bytecode
    assert rows["add_users_table_for_authentication.py"].status == "recoverable from unreachable objects"
    # never committed: only its __pycache__ bytecode survives
    assert rows["20251015_64_field_baseline.py"].status == "recoverable from bytecode"

    big = rows["84456d47e6aa_add_contextforge_extended_project_schema.py"]
    small = rows["b22b3b5a376f_expand_action_list_status_enum.py"]
    assert _check(big, "size", "4167") == "match" and _check(small, "size", "1139") == "match"
    assert any(c.claim.kind == "sha256" and c.verdict == "match" for c in big.checks)
    assert "docs/indexes/Loose-File-Index.md:20" in [m.where for m in big.mentions]
    assert any(Claim("applied", "applied") in m.claims for m in big.mentions)
    assert any(Claim("expected-stamp", "b22b3b5a376f") in m.claims for m in small.mentions)


TRICKY_SOURCE = '''"""Revision ID: a1 # not a comment
# still the docstring: 5f5f5f5f5f5f
"""
x = "# no" + '# no' + f"{'#'}"  # yes: a1
y = b"\\\\"  # yes, after an escaped backslash
z = r'\\'  # yes, after a raw string ending in a backslash
w = """a ' " \\""" # no
""" # yes
s = \'\'\'
# no \'\'\'; t = 1  # yes
# yes: a line of its own
'''


@pytest.mark.parametrize("source", [TRICKY_SOURCE, *sorted(Path(__file__).parents[2].glob("src/**/*.py"))],
                         ids=lambda s: s.name if isinstance(s, Path) else "tricky")
def test_python_comments_are_the_lines_tokenize_calls_comments(source) -> None:  # type: ignore[no-untyped-def]
    """Mentions in .py files count only in comments; the fast comment finder must agree with Python's tokenizer."""
    import io
    import tokenize

    from migration_archaeologist.sources.docs.index import _comment_lines

    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    expected = {t.start[0] for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT}
    assert _comment_lines(text) == expected
    if source is TRICKY_SOURCE:
        assert expected == {4, 5, 6, 8, 10, 11}


def test_a_document_with_windows_line_ends_is_read_at_the_right_lines(repo: GitRepo) -> None:
    # each "\r\n" is two characters: counting one per line moved every later match up a line per
    # 30-odd lines, and a mention past them was looked for on the wrong line and missed
    filler = [f"filler line of prose number {i} here" for i in range(300)]
    text = "\r\n".join(filler + [f"The migration {LOST} was applied.", "end"]) + "\r\n"
    repo.commit("notes", {"docs/notes.md": text})
    [mention] = find_mentions(repo.path, [])
    assert (mention.revision, mention.line) == (LOST, 301)


def test_lock_files_and_map_data_are_not_read_for_evidence(repo: GitRepo) -> None:
    line = f"migration {LOST} applied\n"
    repo.commit(
        "generated",
        {name: line for name in ("package-lock.json", "web/pnpm-lock.yaml", "npm-shrinkwrap.json",
                                 "maps/usa.geo.json", "maps/world.topo.json")},
    )
    assert find_mentions(repo.path, []) == []
    repo.commit("prose", {"docs/data.json": line})
    assert [m.path for m in find_mentions(repo.path, [])] == ["docs/data.json"]
