"""The integrity problems a chain can have: their kinds, the ``Problem`` each finding is, and the ones a
single revision carries before any chain is walked (one ID in several files, versions that disagree on
their parents, a docstring that says otherwise than the variables)."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping, Sequence

from migration_archaeologist.chain.catalog import Candidate, RevisionEntry
from migration_archaeologist.sources.interface import source_file_name

PROBLEM_KINDS = (
    "missing-parent",
    "cycle",
    "duplicate-id",
    "conflicting-versions",
    "multiple-heads",
    "header-mismatch",
    "duplicate-branch-label",
    "unparseable",
    "stamped-but-missing",
    "environment-missing",
    "external-revision",
)


@dataclass(frozen=True)
class Problem:
    """One integrity finding, naming the revisions it is about."""

    kind: str
    revisions: tuple[str, ...]
    message: str
    path: str | None = None
    warning: bool = False  # True: worth knowing, but Alembic and the database work as they are

    @property
    def level(self) -> str:
        return "warning" if self.warning else "error"

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "kind": self.kind,
            "level": self.level,
            "revisions": list(self.revisions),
            "message": self.message,
        }
        if self.path:
            doc["path"] = self.path
        return doc


def entry_problems(entry: RevisionEntry, head_history: Mapping[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    rev = entry.revision
    present_paths = [p for c in entry.candidates for p in c.present_paths]
    if len(present_paths) > 1:
        problems.append(
            Problem(
                "duplicate-id",
                (rev,),
                f"Revision {rev} is present more than once in the versions directory: {', '.join(present_paths)}",
                present_paths[0],
            )
        )
    elif len(entry.candidates) > 1:  # a lone content is one group: 0.07 s of file names on 10,000
        groups = _basename_groups(entry)
        if len(groups) > 1:
            names = "; ".join(", ".join(sorted(g)) for g in groups)
            # Alembic loads the present file; other files of the ID in history never meet it
            where = f"; Alembic loads {present_paths[0]}" if present_paths else ""
            problems.append(
                Problem(
                    "duplicate-id",
                    (rev,),
                    f"Revision {rev} is declared by different files with different content: {names}{where}",
                    warning=bool(present_paths),
                )
            )
    # an earlier version of the present file on HEAD's own history is an edit it superseded (c
    # re-pointed from a to b after two branches each added a revision), not a version in conflict
    rivals = [c for c in entry.candidates if not _superseded(c, entry, present_paths, head_history)]
    if _shapes_differ(rivals):
        chosen = entry.chosen.revision
        variants = "; ".join(
            f"{c.blob[:10]} revises {', '.join(c.revision.down_revisions) or 'nothing'}" for c in rivals
        )
        problems.append(
            Problem(
                "conflicting-versions",
                (rev,),
                f"Revision {rev} has versions with different parents ({variants}); chosen {entry.chosen.blob[:10]}"
                f" revising {', '.join(chosen.down_revisions) or 'nothing'}: {entry.reason}",
                warning=True,  # the chosen version is named, and --pick chooses another
            )
        )
    parsed = entry.parsed
    path = present_paths[0] if present_paths else None
    revises = parsed.header_revises
    if revises is not None and revises != parsed.down_revisions and sorted(revises) != sorted(parsed.down_revisions):
        problems.append(
            Problem(
                "header-mismatch",
                (rev,),
                f"Revision {rev}: docstring says 'Revises: {', '.join(revises)}' but down_revision"
                f" is {', '.join(parsed.down_revisions) or 'None'}",
                path,
                warning=True,  # Alembic reads the variables, never the docstring
            )
        )
    if parsed.header_revision is not None and parsed.header_revision != rev:
        problems.append(
            Problem(
                "header-mismatch",
                (rev,),
                f"Revision {rev}: docstring says 'Revision ID: {parsed.header_revision}'",
                path,
                warning=True,
            )
        )
    return problems


def _shapes_differ(candidates: Sequence[Candidate]) -> bool:
    """Whether the candidates disagree on parents, labels or dependencies (a lone one cannot)."""
    if len(candidates) < 2:
        return False
    shapes = {(c.revision.down_revisions, c.revision.branch_labels, c.revision.depends_on) for c in candidates}
    return len(shapes) > 1


def _superseded(
    candidate: Candidate, entry: RevisionEntry, present_paths: Sequence[str], head_history: Mapping[str, int]
) -> bool:
    """An older version of the present file: committed at its path on HEAD's own history."""
    if not entry.present or candidate.blob == entry.chosen.blob or not present_paths:
        return False
    return any(
        s.source == "history" and s.commit in head_history and s.path in present_paths for s in candidate.sightings
    )


def _basename_groups(entry: RevisionEntry) -> list[set[str]]:
    """Contents of one ID that never shared a file name: copies, not versions of one file. A file
    renamed in a commit (deleted under one name, added under another, edited or not: what ``git log
    -M`` calls a rename) is one file's story, so the two names are one group."""
    groups: list[set[str]] = []
    renamed: dict[str, tuple[set[str], set[str]]] = {}  # commit -> (names deleted, names added)
    for candidate in entry.candidates:
        for s in candidate.sightings:
            if s.path and s.commit and s.event in ("deleted", "added"):
                renamed.setdefault(s.commit, (set(), set()))[s.event == "added"].add(source_file_name(s.path))
    links = [gone | came for gone, came in renamed.values() if gone and came]
    for names in [{source_file_name(s.path) for s in c.sightings if s.path} for c in entry.candidates] + links:
        if not names:
            continue
        merged = [g for g in groups if g & names]
        for g in merged:
            groups.remove(g)
            names = names | g
        groups.append(set(names))
    return groups
