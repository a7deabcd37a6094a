"""Revision IDs named in documents: evidence about revisions, never revision files themselves.

Teams often lose migration files but keep the prose around them: a design doc listing the files, a
validation report saying "migration 84456d47e6aa applied", a file index with sizes and hashes. Those
lines say which revisions *should* exist, and their sizes and hashes let a recovered file be checked
against what somebody once saw. This package finds such lines (in the working tree and in committed
versions of documents); this module folds them into one row per revision with the catalog's
verdict, each claim checked against the recovered versions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from migration_archaeologist.sources.docs.mentions import find_mentions
from migration_archaeologist.sources.docs.scanner import Claim, Mention

if TYPE_CHECKING:
    from migration_archaeologist.chain.catalog import Candidate, Catalog
    from migration_archaeologist.sources.docs.cache import EvidenceCache
    from migration_archaeologist.sources.docs.prefetch import DocumentPrefetch


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    verdict: str  # "match", "mismatch", "unchecked"
    detail: str


@dataclass(frozen=True)
class Evidence:
    """Everything the documents say about one revision, and whether the recovered bytes agree."""

    revision: str
    file_name: str | None
    purpose: str | None
    mentions: tuple[Mention, ...]
    status: str  # "present", "recoverable from <sources>", "lost"
    checks: tuple[ClaimCheck, ...]


def catalog_file_names(catalog) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """File name -> revision ID for every path a catalog saw a revision under."""
    names: dict[str, str] = {}
    for rev, entry in catalog.entries.items():
        for candidate in entry.candidates:
            for sighting in candidate.sightings:
                if sighting.path:
                    names.setdefault(sighting.path.rsplit("/", 1)[-1], rev)
    return names


def collect_evidence(
    repo_root: Path,
    catalog: Catalog,
    *,
    git_dir: Path | None = None,
    history: tuple[Mapping[tuple[str, str], str], Collection[str]] | None = None,
    cache: EvidenceCache | None = None,
    tracked: Sequence[str] | None = None,
    prefetch: DocumentPrefetch | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stats: Mapping[str, os.stat_result] | None = None,
) -> list[Evidence]:
    """find_mentions + evidence_table with the catalog's IDs and file names; ``cache`` (an
    ``EvidenceCache``) is saved afterwards."""
    mentions = find_mentions(
        repo_root,
        catalog.entries,
        git_dir=git_dir,
        file_names=catalog_file_names(catalog),
        history=history,
        cache=cache,
        tracked=tracked,
        prefetch=prefetch,
        progress=progress,
        stats=stats,
    )
    if cache is not None:
        cache.save()
    return evidence_table(mentions, catalog)


def evidence_table(mentions: Sequence[Mention], catalog) -> list[Evidence]:  # type: ignore[no-untyped-def]
    """One row per revision named anywhere, in order of first mention (working tree before history)."""
    by_name = catalog_file_names(catalog)
    grouped: dict[str, list[Mention]] = {}
    ordered = sorted(mentions, key=lambda m: (m.commit is not None, m.path, m.line))
    for mention in ordered:
        rev = mention.revision
        if rev not in catalog.entries and mention.file_name in by_name:
            rev = by_name[mention.file_name]
            mention = dataclasses.replace(mention, revision=rev)
        grouped.setdefault(rev, []).append(mention)

    rows = []
    for rev, group in grouped.items():
        entry = catalog.entries.get(rev)
        file_name = _most_common(m.file_name for m in group)
        if file_name is None and entry is not None:
            paths = [s.path for s in entry.chosen.sightings if s.path]
            file_name = paths[-1].rsplit("/", 1)[-1] if paths else None
        purpose = next((m.purpose for m in group if m.purpose), None)
        claims = list(dict.fromkeys(c for m in group for c in m.claims))
        checks = tuple(_check(claim, entry, catalog) for claim in claims)
        rows.append(Evidence(rev, file_name, purpose, tuple(group), _status(rev, entry, catalog), checks))
    return rows


def _most_common(values: Iterable[str | None]) -> str | None:
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


def _status(rev: str, entry, catalog) -> str:  # type: ignore[no-untyped-def]
    if entry is None:
        broken = [u for u in catalog.unparseable if u.revision_hint == rev]
        if broken:
            where = sorted({s.source for u in broken for s in u.sightings})
            return f"lost (an unparseable copy exists in {', '.join(where)})"
        return "lost"
    if entry.present:
        return "present"
    places: dict[str, None] = {}
    for candidate in entry.candidates:
        for s in candidate.sightings:
            if s.source == "stash" and s.ref:
                places.setdefault(s.ref, None)
            elif s.source == "reflog":
                places.setdefault(f"reflog {s.ref}" if s.ref else "reflog", None)
            elif s.source == "unreachable":
                places.setdefault("unreachable objects", None)
            else:
                places.setdefault(s.source, None)
    return "recoverable from " + ", ".join(places)


_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}


def _check(claim: Claim, entry, catalog) -> ClaimCheck:  # type: ignore[no-untyped-def]
    candidates = list(entry.candidates) if entry is not None else []
    if claim.kind in ("applied", "expected-stamp"):
        return ClaimCheck(claim, "unchecked", "a claim about a database; `check --db` or `verify` can test it")
    if not candidates:
        return ClaimCheck(claim, "unchecked", "no recovered version to compare with")
    if claim.kind == "size":
        return _check_size(claim, candidates)
    if claim.kind in ("sha256", "sha1", "md5", "hash"):
        return _check_digest(claim, candidates, catalog)
    if claim.kind == "date":
        return _check_date(claim, candidates)
    if claim.kind == "file-name":
        return _check_file_name(claim, candidates)
    return ClaimCheck(claim, "unchecked", f"no check for {claim.kind} claims")


def _check_size(claim: Claim, candidates: Sequence[Candidate]) -> ClaimCheck:
    """A size claim against the recovered versions' sizes (an approximate size is not checked)."""
    sizes = ", ".join(str(c.size) for c in candidates)
    if not claim.value.isdigit():
        return ClaimCheck(claim, "unchecked", f"approximate size {claim.value}; recovered versions are {sizes} bytes")
    for c in candidates:
        if c.size == int(claim.value):
            return ClaimCheck(claim, "match", f"{claim.value} bytes = recovered blob {c.blob[:8]} ({c.size} bytes)")
    return ClaimCheck(claim, "mismatch", f"claims {claim.value} bytes; recovered versions are {sizes}")


def _check_digest(claim: Claim, candidates: Sequence[Candidate], catalog) -> ClaimCheck:  # type: ignore[no-untyped-def]
    """A hash claim (a prefix) against the recovered versions' digests; a bare "hash" tries every kind."""
    kinds = [claim.kind] if claim.kind in _DIGESTS else [*_DIGESTS, "git blob"]
    for c in candidates:
        data = catalog.content(c.blob)
        for kind in kinds:
            digest = c.blob if kind == "git blob" else _DIGESTS[kind](data).hexdigest()
            if digest.startswith(claim.value.lower()):
                return ClaimCheck(claim, "match", f"{kind} {claim.value} = recovered blob {c.blob[:8]}")
    return ClaimCheck(
        claim, "mismatch", f"{claim.kind} {claim.value} matches none of {len(candidates)} recovered version(s)"
    )


def _check_date(claim: Claim, candidates: Sequence[Candidate]) -> ClaimCheck:
    """A date claim against the days the recovered versions were sighted on."""
    days = sorted({s.date[:10] for c in candidates for s in c.sightings if s.date})
    for c in candidates:
        for s in c.sightings:
            if s.date and s.date[:10] == claim.value:
                where = f"commit {s.commit[:10]}" if s.commit else s.source
                return ClaimCheck(claim, "match", f"{s.event} in {s.source} on {claim.value} ({where})")
    span = f"{days[0]} to {days[-1]}" if days else "undated"
    return ClaimCheck(claim, "unchecked", f"no sighting on {claim.value}; sightings {span}")


def _check_file_name(claim: Claim, candidates: Sequence[Candidate]) -> ClaimCheck:
    """A file-name claim against the names the recovered versions were stored under."""
    names = sorted({s.path.rsplit("/", 1)[-1] for c in candidates for s in c.sightings if s.path})
    if claim.value in names:
        return ClaimCheck(claim, "match", f"a recovered version was stored as {claim.value}")
    if not names:
        return ClaimCheck(claim, "unchecked", "recovered versions carry no file name")
    return ClaimCheck(claim, "mismatch", f"recovered versions were named {', '.join(names)}")
