"""Mentions of revisions in the work tree's documents, then in committed document versions.

A document whose index the evidence cache (or the prefetch helper) holds is not read again; a
rescan whose documents and catalog are unchanged gives the mentions the last scan remembered.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Collection, Mapping, Sequence

from migration_archaeologist.files.untrusted import read_regular
from migration_archaeologist.sources.docs.documents import (
    MAX_BYTES,
    blob_sha,
    decode_text,
    document_history,
    is_doc,
    read_blobs,
    walk_tree,
    worktree_files,
)
from migration_archaeologist.sources.docs.index import Keys, covers, index_text, replay
from migration_archaeologist.sources.docs.scanner import Claim, Mention, Scanner

if TYPE_CHECKING:
    from migration_archaeologist.sources.docs.cache import EvidenceCache
    from migration_archaeologist.sources.docs.prefetch import DocumentPrefetch


def find_mentions(
    repo_root: Path,
    known_ids: Collection[str],
    *,
    git_dir: Path | None = None,
    file_names: Mapping[str, str] | None = None,
    history: tuple[Mapping[tuple[str, str], str], Collection[str]] | None = None,
    cache: EvidenceCache | None = None,
    tracked: Sequence[str] | None = None,
    prefetch: DocumentPrefetch | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stats: Mapping[str, os.stat_result] | None = None,
) -> list[Mention]:
    """Mentions in the working tree's documents, then in committed document versions not (any more) on disk.

    ``file_names`` maps revision file names (e.g. from the catalog) to their IDs, so a line naming
    only ``20251015_64_field_baseline.py`` is tied to ``20251015_baseline``. A historical line that
    the working tree's version of the same document still carries is reported once, for the working tree.
    With ``cache`` (``sources.docs.cache``), a document whose index is stored is not read; the
    mentions are the same. ``tracked``: the work tree's files, if listed already; ``prefetch``: the
    documents a helper indexed meanwhile (``sources.docs.prefetch``), and ``stats`` the documents
    among the files with the ``stat`` taken then (``prefetch.worktree_documents``). ``progress(phase, done, total)`` is told every 200 documents.
    """
    root = Path(repo_root)
    if tracked is None:
        tracked = worktree_files(root, git_dir)
    if cache is None:  # the same indexes, kept for this scan only
        from migration_archaeologist.sources.docs.cache import EvidenceCache

        cache = EvidenceCache(None)
    prefetched = prefetch.take() if prefetch is not None else {}
    if prefetch is not None and prefetch.salt != cache.salt:
        prefetched = {}  # its word hashes are keyed with another salt: they would find no known ID
    versions, commits = _versions(root, git_dir, tracked, history)
    scanner = Scanner(known_ids, file_names or {}, commits)
    keys = Keys(scanner, cache.salt)
    # the documents among the files, unless the caller stat-ed them already (it picked them then)
    listed = (
        list(stats)
        if stats is not None
        else [rel for rel in (tracked if tracked is not None else walk_tree(root)) if is_doc(rel)]
    )
    looked = _looked(root, listed, stats, cache, prefetched)
    remembered = _remembered(cache, scanner, commits, versions, looked)
    if remembered is not None:
        return remembered

    mentions, current_blob, seen = _read_worktree(root, looked, scanner, keys, cache, progress, len(listed))
    if progress is not None and listed:
        progress("reading documents", len(listed), len(listed))
    pending = _pending(versions, current_blob)
    indexes = _history_indexes(root, git_dir, pending, scanner, keys, cache, progress)
    for path, blob, commit in pending:  # newest first: git log's order
        found = replay(indexes.get(blob), scanner, keys, path, commit) or []
        for mention in found:
            key = (mention.path, mention.revision, mention.text)
            if key not in seen:
                seen.add(key)
                mentions.append(mention)
    if cache.path is not None:  # a cache kept for this scan only has no next scan to tell
        cache.remember(_mentions_key(scanner, commits, current_blob, pending), [_mention_row(m) for m in mentions])
    return mentions


def _versions(
    root: Path,
    git_dir: Path | None,
    tracked: Sequence[str] | None,
    history: tuple[Mapping[tuple[str, str], str], Collection[str]] | None,
) -> tuple[Mapping[tuple[str, str], str], Collection[str]]:
    """The committed document versions, (path, blob) -> commit newest first, and every commit."""
    if history is not None:
        # the history scan already walked every commit: (path, blob) -> commit, newest first
        known_versions, commits = history
        versions = {key: commit for key, commit in known_versions.items() if is_doc(key[0], python=False)}
    else:
        versions, commits = document_history(root, git_dir) if tracked is not None else ({}, set())
    return versions, commits


def _looked(
    root: Path,
    listed: Sequence[str],
    stats: Mapping[str, os.stat_result] | None,
    cache: EvidenceCache,
    prefetched: Mapping[str, Any],
) -> list[tuple[str, os.stat_result, tuple[str, Any] | None]]:
    """What the cache (or the helper) holds for each document, before anything is read: (path,
    stat, (blob, index) or None) of every regular document not too big to read."""
    looked: list[tuple[str, os.stat_result, tuple[str, Any] | None]] = []
    for rel in listed:
        try:
            info = stats[rel] if stats is not None else (root / rel).stat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            continue
        stored = cache.file(rel, info.st_size, info.st_mtime_ns)
        ready = prefetched.get(rel) if stored is None else None
        if ready is not None and ready[:2] == (info.st_size, info.st_mtime_ns):
            # indexed by the helper under no known ID: good unless the document names one
            cache.store_file(rel, info.st_size, info.st_mtime_ns, ready[2], ready[3])
            stored = ready[2], ready[3]
        looked.append((rel, info, stored))
    return looked


def _remembered(
    cache: EvidenceCache,
    scanner: Scanner,
    commits: Collection[str],
    versions: Mapping[tuple[str, str], str],
    looked: Sequence[tuple[str, os.stat_result, tuple[str, Any] | None]],
) -> list[Mention] | None:
    """The mentions the last scan remembered, if every document and the catalog are as it saw them."""
    if cache.path is not None and all(stored is not None for _rel, _info, stored in looked):
        # every document as the last scan saw it: with the same catalog, the same mentions
        current = {rel: stored[0] for rel, _info, stored in looked}  # type: ignore[index]
        pending = _pending(versions, current)
        if all(cache.version(blob)[0] for _path, blob, _commit in pending):
            return _mentions(cache.remembered(_mentions_key(scanner, commits, current, pending)))
    return None


def _read_worktree(
    root: Path,
    looked: Sequence[tuple[str, os.stat_result, tuple[str, Any] | None]],
    scanner: Scanner,
    keys: Keys,
    cache: EvidenceCache,
    progress: Callable[[str, int, int | None], None] | None,
    total: int,
) -> tuple[list[Mention], dict[str, str], set[tuple[str, str, str]]]:
    """The work tree's documents' mentions, replayed from their stored index or read (and indexed):
    the mentions, each document's blob, and the (path, revision, text) seen."""
    mentions: list[Mention] = []
    current_blob: dict[str, str] = {}
    seen: set[tuple[str, str, str]] = set()
    for done, (rel, info, stored) in enumerate(looked):
        if progress is not None and done % 200 == 0:
            progress("reading documents", done, total)
        found: list[Mention] | None = None
        if stored is not None:
            found = replay(stored[1], scanner, keys, rel, None)
            if found is not None:
                current_blob[rel] = stored[0]
        if found is None:
            try:
                data = read_regular(root / rel, MAX_BYTES)  # swapped for a FIFO since the stat: no hang
            except OSError:
                continue
            current_blob[rel] = blob_sha(data)
            text = decode_text(data)
            index = None if text is None else index_text(scanner, text, rel, keys)
            cache.store_file(rel, info.st_size, info.st_mtime_ns, current_blob[rel], index)
            found = replay(index, scanner, keys, rel, None) or []
        for mention in found:
            seen.add((mention.path, mention.revision, mention.text))
            mentions.append(mention)
    return mentions, current_blob, seen


def _history_indexes(
    root: Path,
    git_dir: Path | None,
    pending: Sequence[tuple[str, str, str]],
    scanner: Scanner,
    keys: Keys,
    cache: EvidenceCache,
    progress: Callable[[str, int, int | None], None] | None,
) -> dict[str, Any]:
    """The index of every pending committed version, by blob: from the cache if it covers this
    scanner, else read from git (and stored)."""
    blobs = list(dict.fromkeys(blob for _p, blob, _c in pending))
    indexes: dict[str, Any] = {}
    unread = []
    for blob in blobs:
        known, index = cache.version(blob)
        if known and (index is None or covers(index, scanner, keys)):
            indexes[blob] = index
        else:
            unread.append(blob)
    if progress is not None and unread:
        progress("reading documents from history", 0, len(unread))
    contents = read_blobs(root, git_dir, unread)
    for blob in unread:
        if blob in contents:
            text = decode_text(contents[blob])
            indexes[blob] = None if text is None else index_text(scanner, text, "", keys)
            cache.store_version(blob, indexes[blob])
    return indexes


def _pending(versions: Mapping[tuple[str, str], str], current: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Committed document versions to read: (path, blob, commit), newest first, unless on disk now."""
    return [(path, blob, commit) for (path, blob), commit in versions.items() if current.get(path) != blob]


def _mentions_key(
    scanner: Scanner, commits: Collection[str], current: Mapping[str, str], pending: Sequence[tuple[str, str, str]]
) -> str:
    """What a scan's mentions depend on: the catalog's IDs and file names, the commits (a 12-hex
    token that names one is no revision), and every document version read, by blob."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        sorted(scanner.known),
        sorted(scanner.file_names.items()),
        sorted(current.items()),
        list(pending),
    ):
        digest.update(json.dumps(part, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    # the history scan's CommitIds hold them as one string already
    digest.update(commits.joined().encode() if hasattr(commits, "joined") else "\n".join(sorted(commits)).encode())
    return digest.hexdigest()


def _mention_row(m: Mention) -> list:  # type: ignore[type-arg]
    return [m.revision, m.file_name, m.purpose, m.path, m.line, m.commit, [[c.kind, c.value] for c in m.claims], m.text]


def _mentions(rows: Any) -> list[Mention] | None:
    """Mentions from the rows ``_mention_row`` wrote; None if they are not that shape (read again)."""
    if not isinstance(rows, list):
        return None
    try:
        out = []
        for rev, file_name, purpose, path, line, commit, claims, text in rows:
            if not (
                isinstance(rev, str)
                and isinstance(path, str)
                and type(line) is int
                and isinstance(text, str)
                and all(v is None or isinstance(v, str) for v in (file_name, purpose, commit))
            ):
                return None
            out.append(
                Mention(
                    rev,
                    file_name,
                    purpose,
                    path,
                    line,
                    commit,
                    tuple(Claim(str(kind), str(value)) for kind, value in claims),
                    text,
                )
            )
        return out
    except (TypeError, ValueError):
        return None
