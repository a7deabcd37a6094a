"""Line numbers in a revision file, read with ast: where a CI annotation points."""

from __future__ import annotations

from gitfixture import revision_source
from migration_archaeologist.parse.lines import assignment_lines, syntax_error_line


def lines_of(text: str, keys: dict[str, int]) -> dict[str, str]:
    source = text.splitlines()
    return {key: source[number - 1] for key, number in keys.items()}


def test_template_file() -> None:
    text = revision_source("b2", "a1", "next", depends_on="x")
    found = lines_of(text, assignment_lines(text.encode()))
    assert found == {
        "Revision ID": "Revision ID: b2",
        "Revises": "Revises: a1",
        "Create Date": "Create Date: 2025-10-15 10:00:00.000000",
        "revision": "revision: str = 'b2'",
        "down_revision": "down_revision: Union[str, None] = 'a1'",
        "branch_labels": "branch_labels: Union[str, Sequence[str], None] = None",
        "depends_on": "depends_on: Union[str, Sequence[str], None] = 'x'",
    }
    assert syntax_error_line(text.encode()) is None


def test_hand_written_file() -> None:
    text = (
        '# -*- coding: latin-1 -*-\r\n"""Revision ID: b2\r\nRevises:\r\n"""\r\n'
        "x = 1\r\n"
        "down_revision = (\r\n    'a1',\r\n    'a2',\r\n)\r\n"
        "revision = 'b2'\r\n"
        "revision = 'b2'\r\n"
        "def upgrade():\r\n    depends_on = 'not module level'\r\n"
    )
    assert assignment_lines(text.encode("latin-1")) == {"Revision ID": 2, "Revises": 3, "down_revision": 6, "revision": 10}


def test_broken_files() -> None:
    text = revision_source("b2", "a1", "broken", body="    op.add_column('t',\n    return")
    assert assignment_lines(text.encode()) == {}
    line = syntax_error_line(text.encode())
    assert line is not None and text.splitlines()[line - 1].strip() in ("return", "op.add_column('t',")
    assert assignment_lines(b"\xff\xfe not text down_revision revision") == {}
    assert syntax_error_line(b"# coding: nonsense\nrevision = 'x'\ndown_revision = None\n") is None
