"""The work tree's sightings are the same however its folder was read: by a scan's thread before,
or now, each file parsed as it is read."""

from __future__ import annotations

import os
from pathlib import Path

from test_revision_pool import corpus

from migration_archaeologist.parse.revision import Unparseable, parse_revision
from migration_archaeologist.sources.interface import git_blob_id
from migration_archaeologist.sources.worktree import WorkTree


def _folder(tmp_path: Path) -> Path:
    versions = tmp_path / "alembic" / "versions"
    (versions / "old").mkdir(parents=True)
    for key, data in corpus(420):  # revisions, broken ones, plain modules: enough to start a helper
        where = versions / "old" if key % 7 == 0 else versions
        (where / f"{key:04d}_step.py").write_bytes(data)
    (versions / "again_0001.py").write_bytes((versions / "0001_step.py").read_bytes())  # same content twice
    (versions / "__init__.py").write_bytes(b"")
    stamp = 1_700_000_000
    for number, path in enumerate(sorted(versions.rglob("*.py"))):
        os.utime(path, (stamp + number, stamp + number))
    return versions


def _seen(tree: WorkTree) -> list[tuple[object, ...]]:
    return [(s.blob, s.path, s.date, tree.parsed(s.blob)) for s in tree.iter_sightings()]


def test_reading_while_parsing_gives_what_reading_first_gives(tmp_path: Path) -> None:
    versions = _folder(tmp_path)
    streamed = WorkTree(tmp_path, [versions])
    first = WorkTree(tmp_path, [versions])
    first.read()  # as a scan does in a thread while git is walked
    assert _seen(streamed) == _seen(first)
    seen = _seen(streamed)
    assert len(seen) == 421  # every file and the copy; not __init__.py, which Alembic skips too
    for blob, path, _date, parsed in seen:
        data = (tmp_path / str(path)).read_bytes()
        assert git_blob_id(data) == blob
        expected = parse_revision(data)
        if expected is None:  # a plain module: Alembic would import it and stop
            assert isinstance(parsed, Unparseable) and parsed.reason.startswith("not a revision file")
        else:
            assert parsed == expected


def test_what_history_parsed_is_not_parsed_again(tmp_path: Path) -> None:
    versions = _folder(tmp_path)
    data = (versions / "0001_step.py").read_bytes()
    marker = parse_revision(data)
    assert marker is not None
    known = {git_blob_id(data): marker}
    tree = WorkTree(tmp_path, [versions], known=known)
    seen = {path: parsed for _blob, path, _date, parsed in _seen(tree)}
    assert seen["alembic/versions/0001_step.py"] is marker
    assert seen["alembic/versions/again_0001.py"] is marker
