"""``check`` as a merge gate: which findings fail it, which only warn, and where each one points.

A CI annotation is most useful on the line a reviewer would edit (the ``down_revision =`` that names
a lost parent, each head's ``revision =``), so lines are found by parsing the files in the work tree
with ``ast``; nothing is imported or executed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable, Sequence

from migration_archaeologist.chain.catalog import RevisionEntry
from migration_archaeologist.chain.problems import Problem
from migration_archaeologist.parse.lines import assignment_lines, syntax_error_line
from migration_archaeologist.chain.scan_result import ScanResult
from migration_archaeologist.project.defaults import MISSING
from migration_archaeologist.sources.git.submodules import NOT_INITIALISED

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Verdict:
    """The findings split by the ``ignore`` setting: ``failing`` set the exit code, ``ignored`` only warn."""

    ignore: tuple[str, ...]
    failing: tuple[Problem, ...]
    ignored: tuple[Problem, ...]  # ignored kinds, and warnings (unless strict)
    missing: tuple[str, ...]  # needed revisions missing from the versions directory
    missing_ignored: bool

    @property
    def passed(self) -> bool:
        return not self.failing and not (self.missing and not self.missing_ignored)


@dataclass(frozen=True)
class Annotation:
    """One finding for a CI log: GitHub shows it on ``file``:``line`` when both are set."""

    level: str  # "error" or "warning"
    file: str | None  # relative to the work tree root, posix; None when no file in the work tree holds it
    line: int | None
    title: str  # the problem kind, "missing", or the kind of warning
    message: str


def evaluate(result: ScanResult, ignore: Iterable[str] = (), strict: bool = False) -> Verdict:
    """Split the scan's findings; ``ignore`` names problem kinds (already validated) and ``missing``.

    Only what breaks Alembic or the database fails: warnings (docstring mismatches, old versions in
    history, retired revisions) are shown, and fail too with ``strict``. ``ignore`` wins over both.
    """
    kinds = tuple(dict.fromkeys(ignore))
    problems = result.gate_chain.problems  # the versions directory's chain, not every branch's

    def fails(p: Problem) -> bool:
        return p.kind not in kinds and (strict or not p.warning)

    return Verdict(
        ignore=kinds,
        failing=tuple(p for p in problems if fails(p)),
        ignored=tuple(p for p in problems if not fails(p)),
        missing=result.missing,
        missing_ignored=MISSING in kinds,
    )


def held_only_by_archives(entry: RevisionEntry) -> bool:
    """Only archives hold the chosen content: its restore command must name them again (--archive
    replaces the default, the work tree's untracked files)."""
    return all(s.source == "archive" for s in entry.chosen.sightings if s.source != "worktree")


def restore_command(revision: str, repo_arg: str = ".", archives: Sequence[str] = ()) -> str:
    """The command that restores ``revision``; ``archives``: the --archive options it needs to find
    it again (a revision only an archive named on the command line holds)."""
    where = "" if repo_arg in (".", "") else f" {shlex.quote(repo_arg)}"
    sources = "".join(f" --archive {shlex.quote(a)}" for a in archives)
    return f"migration-archaeologist restore {revision}{where}{sources} --apply"


def annotations(  # type: ignore[no-redef]  # a public name (cli, tests) that shadows the __future__ import; the def wins at run time
    result: ScanResult, verdict: Verdict, repo_arg: str = ".", archives: Sequence[str] = ()
) -> tuple[Annotation, ...]:
    """Every finding as an annotation: errors for what fails the gate, warnings for the rest and scan warnings
    (but not the detached-HEAD note). ``archives``: the --archive options given, repeated in the
    restore command of a revision only an archive holds."""
    lines = _Lines(result)
    out: list[Annotation] = []
    for level, problems in ((ERROR, verdict.failing), (WARNING, verdict.ignored)):
        for problem in problems:
            out.extend(_problem_annotations(problem, level, result, lines))
    level = WARNING if verdict.missing_ignored else ERROR
    for rev in verdict.missing:
        entry = result.catalog.entries[rev]
        only_archived = held_only_by_archives(entry)
        out.append(
            Annotation(
                level,
                None,
                None,
                MISSING,
                f"Revision {rev} is not in the versions directory but the chain needs it; {entry.reason}."
                f" Restore it with: {restore_command(rev, repo_arg, archives if only_archived else ())}",
            )
        )
    for warning in result.warnings:
        if warning.startswith(_DETACHED) or warning.endswith(NOT_INITIALISED):
            # CI checks pull requests out detached, and without submodules unless asked: a note on every
            # run would teach people to skip warnings (scan and the text format still say it)
            continue
        out.append(Annotation(WARNING, None, None, "scan", warning))
    for issue in result.archive_issues:
        member = f"!{issue.member}" if issue.member else ""
        out.append(Annotation(WARNING, None, None, "archive", f"{issue.archive}{member}: {issue.reason}"))
    if result.unreadable:
        out.append(
            Annotation(WARNING, None, None, "unreadable", f"{len(result.unreadable)} git object(s) could not be read")
        )
    return tuple(out)


#: How scan words the detached-HEAD note (kept for people in the text format).
_DETACHED = "HEAD is detached at "


class _Lines:
    """Present files of a revision and line numbers in them, each file read and parsed once."""

    def __init__(self, result: ScanResult) -> None:
        self._result = result
        self._cache: dict[str, tuple[bytes, dict[str, int]] | None] = {}

    def present(self, rev: str) -> list[str]:
        """Work-tree-relative paths of the files declaring ``rev``; files outside the work tree have none."""
        entry = self._result.catalog.entries.get(rev)
        if entry is None:
            return []
        return [p for c in entry.candidates for p in c.present_paths if self._read(p) is not None]

    def present_file(self, path: str) -> bool:
        return self._read(path) is not None

    def line(self, path: str, name: str) -> int:
        read = self._read(path)
        return (read[1].get(name) if read else None) or 1

    def syntax_error(self, path: str) -> int | None:
        read = self._read(path)
        return syntax_error_line(read[0]) if read else None

    def _read(self, path: str) -> tuple[bytes, dict[str, int]] | None:
        if path not in self._cache:
            root = self._result.repository.work_tree
            found = None
            if root is not None and not Path(path).is_absolute():
                try:
                    data = (root / path).read_bytes()
                    found = (data, assignment_lines(data))
                except OSError:
                    pass
            self._cache[path] = found
        return self._cache[path]


#: The variable (or docstring header line) each kind points at, in every present file of its revisions.
_POINT_AT = {
    "multiple-heads": "revision",
    "duplicate-id": "revision",
    "cycle": "down_revision",
    "conflicting-versions": "down_revision",
    "duplicate-branch-label": "branch_labels",
}


def _problem_annotations(problem: Problem, level: str, result: ScanResult, lines: _Lines) -> list[Annotation]:
    def at(path: str, line: int) -> Annotation:
        return Annotation(level, path, line, problem.kind, problem.message)

    places: list[Annotation] = []
    kind = problem.kind
    if kind in ("missing-parent", "external-revision") and problem.revisions:
        child, target = problem.revisions[0], problem.revisions[-1]
        entry = result.catalog.entries.get(child)
        name = "depends_on" if entry is not None and target not in entry.parsed.down_revisions else "down_revision"
        places = [at(p, lines.line(p, name)) for p in lines.present(child)]
    elif kind == "header-mismatch" and problem.revisions:
        name = "Revision ID" if "docstring says 'Revision ID:" in problem.message else "Revises"
        places = [at(p, lines.line(p, name)) for p in lines.present(problem.revisions[0])]
    elif kind == "unparseable" and problem.path and lines.present_file(problem.path):
        places = [at(problem.path, lines.syntax_error(problem.path) or lines.line(problem.path, "revision"))]
    elif kind in _POINT_AT:
        places = [
            at(p, lines.line(p, _POINT_AT[kind])) for rev in _unique(problem.revisions) for p in lines.present(rev)
        ]
    elif problem.path and lines.present_file(problem.path):
        places = [at(problem.path, 1)]
    return places or [Annotation(level, None, None, kind, problem.message)]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
