"""Resolve what a revision file names but does not hold: ``branch_labels = (cli.EXPAND_BRANCH,)``.

:func:`~migration_archaeologist.parse.revision.parse_revision` records such values as references in
``RevisionFile.unresolved`` (``neutron.db.migration.cli.EXPAND_BRANCH``). Here a reference becomes
candidate paths (``neutron/db/migration/cli.py``, ``.../cli/__init__.py``, also under ``src/``),
the caller's reader supplies the module's bytes (from the work tree, or from git at the commit the
revision file was seen in), and the module is parsed with :mod:`ast`, never imported or run. Only
a module-level literal is taken, following at most one more import (a re-export). A module that
lives in another repository (neutron's, for a neutron plugin) is simply not found: the reference
stays unresolved.
"""

from __future__ import annotations

import ast
import json
import posixpath
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from collections.abc import Callable

from migration_archaeologist import __version__
from migration_archaeologist.parse.bindings import Reference, bound_names, dotted_name
from migration_archaeologist.parse.revision import RevisionFile
from migration_archaeologist.parse.source import Unparseable, ast_parse, decode

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "GitModules",
    "ModuleReader",
    "git_reader",
    "module_paths",
    "resolve_reference",
    "resolve_revision",
    "worktree_reader",
]

#: Reads a module by its repository-relative POSIX path; None when there is no such file.
ModuleReader = Callable[[str], "bytes | None"]
#: Imports followed past the module a reference names: ``from .constants import EXPAND_BRANCH``.
_HOPS = 1
#: References longer than this are not parsed (one that joins strings and names is short).
_MAX_EXPRESSION = 1000
#: Modules bigger than this are not read by the readers here (a constants module is small).
MAX_MODULE_BYTES = 4 * 1024 * 1024


def module_paths(module: str, importer: str | None = None) -> tuple[str, ...]:
    """Repository-relative paths that may hold ``module`` (``a.b`` or, relative to the file at
    ``importer``, ``.b`` / ``..``); a package's ``__init__.py`` first, as Python looks."""
    level = len(module) - len(module.lstrip("."))
    parts = module[level:].split(".") if module[level:] else []
    if not all(part.isidentifier() for part in parts):
        return ()
    if level:
        if importer is None:
            return ()
        base = posixpath.dirname(posixpath.normpath(importer))
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        if base in ("", ".", "/"):  # beyond the top-level package, as Python says
            return ()
        roots = [base]
    elif parts:
        roots = ["", "src"]
    else:
        return ()
    found: list[str] = []
    for root in roots:
        stem = posixpath.join(root, *parts) if parts else root
        found.append(posixpath.join(stem, "__init__.py"))
        if parts:
            found.append(stem + ".py")
    return tuple(path.lstrip("/") for path in found)


def resolve_reference(
    dotted: str, read_module: ModuleReader, *, importer: str | None = None
) -> str | tuple[str, ...] | None:
    """The literal a dotted reference names (``pkg.mod.NAME``), read statically; None if unknown.

    ``pkg.mod`` is read through ``read_module`` and parsed; ``NAME`` must be bound at module level
    to a literal string (returned as is), to None or a sequence of strings (returned as a tuple),
    or to a name imported from a module that binds it so (one such hop). ``importer``: the path of
    the file holding the reference, for a relative one (``.cli.EXPAND_BRANCH``). Nothing is
    imported or executed; ``read_module``'s own exceptions propagate.
    """
    return _Modules(read_module).resolve(dotted, importer, _HOPS)


def resolve_revision(rev: RevisionFile, read_module: ModuleReader, *, path: str | None = None) -> RevisionFile:
    """``rev`` with each reference in ``unresolved`` that can be resolved appended to its variable
    (``branch_labels`` / ``depends_on``) and dropped from ``unresolved``; ``rev`` itself if none can.

    ``path``: where the revision file lies (repository-relative), for relative imports.
    """
    if not rev.unresolved:
        return rev
    modules = _Modules(read_module)
    values: dict[str, list[str]] = {"branch_labels": list(rev.branch_labels), "depends_on": list(rev.depends_on)}
    left: list[tuple[str, str]] = []
    for var, ref in rev.unresolved:
        value = modules.resolve(ref, path, _HOPS) if var in values else None
        if value is None:
            left.append((var, ref))
        else:
            values[var] += [value] if isinstance(value, str) else list(value)
    if len(left) == len(rev.unresolved):
        return rev
    return replace(
        rev,
        branch_labels=tuple(v for v in values["branch_labels"] if v),
        depends_on=tuple(v for v in values["depends_on"] if v),
        unresolved=tuple(left),
    )


class _Modules:
    """Modules read and parsed once per resolution: path -> module-level bindings (None if unreadable)."""

    def __init__(self, read_module: ModuleReader) -> None:
        self._read = read_module
        self._bindings: dict[str, dict[str, object] | None] = {}

    def resolve(self, reference: str, importer: str | None, hops: int) -> str | tuple[str, ...] | None:
        if not all(part.isidentifier() for part in reference.lstrip(".").split(".")):
            return self._joined(reference, importer, hops)
        module, _, name = reference.rpartition(".")
        if not module:
            return None
        for path in module_paths(module, importer):
            bindings = self._module(path)
            if bindings is not None:  # the module Python would import: found or not, no other
                return self._ids(bindings[name], path, hops) if name in bindings else None
        return None

    def _joined(self, reference: str, importer: str | None, hops: int) -> str | None:
        """``'neutron-' + neutron.db.migration.cli.EXPAND_BRANCH``: strings and names joined by ``+``."""
        if len(reference) > _MAX_EXPRESSION:
            return None
        tree = ast_parse(reference)
        if isinstance(tree, Unparseable) or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
            return None
        return self._string(tree.body[0].value, importer, hops)

    def _string(self, node: ast.expr, importer: str | None, hops: int) -> str | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._string(node.left, importer, hops)
            right = self._string(node.right, importer, hops) if left is not None else None
            return None if right is None else left + right  # type: ignore[operator]
        dotted = dotted_name(node)
        value = self.resolve(dotted, importer, hops) if dotted is not None else None
        return value if isinstance(value, str) else None

    def _module(self, path: str) -> dict[str, object] | None:
        if path not in self._bindings:
            self._bindings[path] = self._parse(path)
        return self._bindings[path]

    def _parse(self, path: str) -> dict[str, object] | None:
        data = self._read(path)
        return None if data is None else _module_bindings(bytes(data))

    def _ids(self, value: object, path: str, hops: int) -> str | tuple[str, ...] | None:
        """A module-level value as IDs, following ``hops`` more imports; None when not a literal."""
        if isinstance(value, Reference):
            return self.resolve(value.text, path, hops - 1) if hops > 0 else None
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return value
        if not isinstance(value, (tuple, list, set, frozenset)):
            return None
        items: list[str] = []
        for item in value:
            if isinstance(item, str):
                items.append(item)
            elif isinstance(item, Reference) and hops > 0:
                found = self.resolve(item.text, path, hops - 1)
                if found is None:
                    return None
                items += [found] if isinstance(found, str) else list(found)
            else:  # Unknown, a non-string literal, a nested tuple
                return None
        if isinstance(value, (set, frozenset)):
            items.sort()
        return tuple(item for item in items if item)


# --------------------------------------------------------------------------- readers


@lru_cache(maxsize=64)
def _module_bindings(data: bytes) -> dict[str, object]:
    """A module's module-level bindings, parsed once per content: every revision of a chain names the
    same constants module (neutron's cli.py), and a scan resolves them all. Read only, never changed."""
    decoded = decode(data) if b"\x00" not in data else None
    if decoded is None or isinstance(decoded, Unparseable):
        return {}  # there, but not Python text: it binds nothing readable
    tree = ast_parse(decoded[0])
    if isinstance(tree, Unparseable):
        return {}
    try:
        return bound_names(tree.body, declares_global="global" in decoded[0])
    except RecursionError:  # a value nested too deeply to follow
        return {}


def worktree_reader(root: Path | str) -> ModuleReader:
    """Reads modules from a directory (the work tree), never outside it; None for what is not a file."""
    top = Path(root).resolve()

    def read(path: str) -> bytes | None:
        if not _plain_path(path):
            return None
        target = top / path
        try:
            if not target.resolve().is_relative_to(top) or not target.is_file():
                return None
            if target.stat().st_size > MAX_MODULE_BYTES:
                return None
            return target.read_bytes()
        except (OSError, ValueError):
            return None

    return read


class GitRepository(Protocol):
    """What reading modules from git asks of a repository (``sources.git.repository.Repository``),
    named by its shape: parse is below sources and imports nothing from it."""

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes: ...

    def popen(self, *args: str, stdin: int | None = None) -> subprocess.Popen[bytes]: ...


def git_reader(repo: GitRepository, commit: str) -> ModuleReader:
    """Reads modules as they stood at ``commit`` (``git cat-file blob <commit>:<path>``), a process
    a module: for one revision. A scan resolving many uses :class:`GitModules`."""
    from migration_archaeologist.errors import GitFailed

    def read(path: str) -> bytes | None:
        if not _plain_path(path):
            return None
        try:
            data = repo.run("cat-file", "blob", f"{commit}:{path}")
        except GitFailed:
            return None
        return data if len(data) <= MAX_MODULE_BYTES else None

    return read


class GitModules:
    """Modules as they stood at any commit, all through one ``git cat-file --batch``: a scan resolves
    the references of every version of every revision, never with a git process per module."""

    def __init__(self, repo: GitRepository) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._cache: dict[str, bytes | None] = {}

    def reader(self, commit: str) -> ModuleReader:
        return lambda path: self._read(f"{commit}:{path}") if _plain_path(path) and "\n" not in path else None

    def _read(self, spec: str) -> bytes | None:
        if spec in self._cache:
            return self._cache[spec]
        import subprocess

        if self._proc is None:
            self._proc = self._repo.popen("cat-file", "--batch", stdin=subprocess.PIPE)
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line.endswith(b"\n"):  # git died on this object: the next read starts another
                raise ValueError("cat-file died")
            header = line.split()
            data: bytes | None = None
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                body = proc.stdout.read(size + 1)  # and the newline after it
                if len(body) != size + 1:  # git printed the header and died (a corrupt packed object)
                    raise ValueError("cat-file died")
                data = body[:size] if size <= MAX_MODULE_BYTES else None
            elif len(header) == 3:  # a tree or commit by that name: read past it
                proc.stdout.read(int(header[2]) + 1)
        except (OSError, ValueError):
            self.close()
            data = None
        self._cache[spec] = data
        return data

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()  # type: ignore[union-attr]  # opened with stdin=PIPE
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001  (a git that will not stop is killed, never waited on forever)
                proc.kill()


def _plain_path(path: str) -> bool:
    """A relative POSIX path with no ``..``, as :func:`module_paths` makes them."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/") and "\x00" not in path


class ResolvedInHistory:
    """What resolving a committed revision gave, kept under the git dir (``constants.json`` beside the
    history cache): a commit's modules never change, so a rescan need not read and parse them again
    (neutron: nine versions of its migration ``cli.py``, 70 ms of every scan). Keyed by the revision's
    blob, the commit, its path and the references it left unresolved; JSON, checked entry by entry,
    rewritten only when it gained an entry. ``path`` None: kept for this scan only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._kept: dict[str, Any] = {}  # as read from JSON: checked in get()
        self._used: dict[str, list[Any]] = {}
        if path is not None:
            try:
                doc = json.loads(path.read_bytes())
                if isinstance(doc, dict) and doc.get("tool") == __version__ and isinstance(doc.get("kept"), dict):
                    self._kept = doc["kept"]
            except Exception:  # missing, torn, hand-edited: resolved again
                pass

    @staticmethod
    def key(rev: RevisionFile, blob: str, commit: str, path: str) -> str:
        return json.dumps([blob, commit, path, [list(pair) for pair in rev.unresolved]])

    def get(self, rev: RevisionFile, key: str) -> RevisionFile | None:
        entry = self._kept.get(key)
        if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(part, list) for part in entry)):
            return None
        labels, depends, left = entry
        if not all(isinstance(v, str) for v in (*labels, *depends)) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair) for pair in left
        ):
            return None
        self._used[key] = entry
        if not left and not labels and not depends and not rev.unresolved:
            return rev
        return replace(
            rev,
            branch_labels=tuple(labels),
            depends_on=tuple(depends),
            unresolved=tuple((var, ref) for var, ref in left),
        )

    def put(self, key: str, resolved: RevisionFile) -> None:
        self._used[key] = [
            list(resolved.branch_labels),
            list(resolved.depends_on),
            [list(pair) for pair in resolved.unresolved],
        ]

    def save(self) -> None:
        """Keep what this scan used; never raises."""
        if self.path is None or self._used == self._kept:
            return
        try:
            from migration_archaeologist.files.atomic import replace_cache_file

            self.path.parent.mkdir(exist_ok=True)
            replace_cache_file(
                self.path, json.dumps({"tool": __version__, "kept": self._used}).encode(), prefix=".constants-"
            )
        except (OSError, ValueError):
            pass
