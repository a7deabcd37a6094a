"""Parsing on every core gives exactly what parsing here gives, and a helper that dies costs only speed."""

from __future__ import annotations

import os
import sys

import pytest
from gitfixture import revision_source

from migration_archaeologist.parse.revision import parse_revision
from migration_archaeologist.parse.pool import parse_many


def corpus(n: int) -> list[tuple[int, bytes]]:
    """Revision files, broken ones and plain modules, as a scan of a big history meets them."""
    items: list[tuple[int, bytes]] = []
    for i in range(n):
        good = revision_source(f"{i:012x}", f"{i - 1:012x}" if i else None, f"step {i}").encode()
        kind = i % 5
        if kind == 3:
            good = good.replace(b"def upgrade()", b"def upgrade(")  # a syntax error
        elif kind == 4:
            good = b"x = 1\n"  # not a revision file at all
        items.append((i, good))
    return items


def test_helpers_parse_what_this_process_would() -> None:
    items = corpus(1200)
    before = os.times()
    results = list(parse_many(items, helpers=1, inline_first=0))
    after = os.times()
    assert sorted(key for key, _, _ in results) == [key for key, _ in items]
    by_key = {key: (data, parsed) for key, data, parsed in results}
    for key, data in items:
        assert by_key[key] == (data, parse_revision(data))
    # the helper did part of the work: its CPU time is counted once it has been waited for
    assert after.children_user + after.children_system > before.children_user + before.children_system


def test_a_small_batch_never_starts_a_helper() -> None:
    before = os.times()
    results = list(parse_many(corpus(50), helpers=1))
    assert len(results) == 50
    assert os.times().children_user == before.children_user


@pytest.mark.parametrize("executable", ["/bin/false", "/nonexistent/python"])
def test_a_helper_that_dies_or_never_starts_costs_only_speed(monkeypatch: pytest.MonkeyPatch, executable: str) -> None:
    monkeypatch.setattr(sys, "executable", executable)
    items = corpus(400)
    results = {key: parsed for key, _, parsed in parse_many(items, helpers=2, inline_first=0)}
    assert results == {key: parse_revision(data) for key, data in items}


def test_ma_parse_helpers_zero_keeps_everything_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MA_PARSE_HELPERS", "0")
    before = os.times()
    assert len(list(parse_many(corpus(700), inline_first=0))) == 700
    assert os.times().children_user == before.children_user


def test_helpers_read_op_summaries_as_this_process_would() -> None:
    """The timeline's job: every upgrade()/downgrade() summarised, on every core, exactly as in process."""
    from migration_archaeologist.parse.ops import read_ops

    items = corpus(400)
    before = os.times()
    results = {key: ops for key, _, ops in parse_many(items, helpers=1, inline_first=0, job="ops")}
    assert results == {key: read_ops(data) for key, data in items}
    assert any(ops.upgrade for ops in results.values())
    assert os.times().children_user + os.times().children_system > before.children_user + before.children_system


@pytest.mark.parametrize("expected", [1000, lambda: 1000])
def test_helpers_start_at_once_when_many_files_are_coming(expected: object) -> None:
    """A scan that asked git for thousands of blobs does not parse its first few hundred alone."""
    items = corpus(250)  # fewer than inline_first: alone, these never start a helper
    before = os.times()
    results = {key: parsed for key, _, parsed in parse_many(items, helpers=1, inline_first=300, expected=expected)}
    assert results == {key: parse_revision(data) for key, data in items}
    assert os.times().children_user + os.times().children_system > before.children_user + before.children_system
