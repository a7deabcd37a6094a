"""Part of the Alembic probe (``_alembic_probe.py``, run by path in a child process): loading revision
files so that one bad file does not abort Alembic's whole revision map.

:class:`RevisionLoader` wraps Alembic's per-file loader: a file whose top level fails is reported,
and replaced by its statically parsed identifiers when those are plain literals. Like the probe,
this file imports only the standard library and alembic; it is loaded by path, never from our package.
"""

from __future__ import annotations

import ast
import os
import traceback
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: this file may run on an older Python than the package's
    from typing import Any

# --------------------------------------------------------------------------
# Static fallback for files that fail to execute
# --------------------------------------------------------------------------

_IDENT_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


def _static_identifiers(path: str) -> dict[str, Any] | None:
    """Read the revision identifiers as literals from the file's AST.

    Used when a file's top level fails, so that one unloadable file in the
    middle of a chain does not make Alembic report every descendant as
    "referenced ... is not present".  Returns None if ``revision`` is not a
    plain literal string.
    """
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except Exception:
        return None
    found: dict[str, Any] = {}
    value: ast.expr | None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
            value = node.value
        else:
            continue
        if value is None:
            continue
        for name in targets:
            if name in _IDENT_NAMES:
                try:
                    found[name] = ast.literal_eval(value)
                except Exception:
                    found.pop(name, None)
    if not isinstance(found.get("revision"), str):
        return None
    found.setdefault("down_revision", None)
    return found


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def _describe_exception(exc: BaseException, path: str) -> str:
    line = None
    for fs in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(fs.filename) == os.path.realpath(path):
            line = fs.lineno
    text = one_line(exc)
    msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, ImportError) and not isinstance(exc, ModuleNotFoundError):
        if "cannot import name" in str(exc):
            msg += " (stand-ins cannot help: the module exists)"
    elif isinstance(exc, ModuleNotFoundError):
        msg += " (not stubbed: the import came from stdlib or installed-library code)"
    return msg + (f" [line {line}]" if line else "")


class RevisionLoader:
    """Wraps Alembic's per-file loader so one bad file does not abort the
    whole revision map: it is reported, and replaced by its statically parsed
    identifiers when those are plain literals."""

    def __init__(self, dirs: list[str]) -> None:
        self.dirs = dirs
        self.warnings: list[str] = []
        self.failed: list[str] = []

    def display(self, path: str) -> str:
        real = os.path.realpath(path)
        for d in self.dirs:
            droot = os.path.realpath(d)
            if real.startswith(os.path.join(droot, "")):
                rel = os.path.relpath(real, droot)
                return os.path.join(os.path.basename(droot) or droot, rel)
        return path

    def install(self) -> None:
        from alembic.script import base as script_base

        Script = script_base.Script
        loader = self

        for attr in ("_from_path", "_from_filename"):
            original = Script.__dict__.get(attr)
            if original is None:
                continue
            func = original.__func__

            def wrapped(cls: Any, scriptdir: Any, *args: Any, _orig: Any = func) -> Any:
                if len(args) == 1:
                    path = os.fspath(args[0])
                else:
                    path = os.path.join(os.fspath(args[0]), os.fspath(args[1]))
                try:
                    return _orig(cls, scriptdir, *args)
                except (Exception, SystemExit) as exc:
                    return loader.failed_load(cls, path, exc)

            setattr(Script, attr, classmethod(wrapped))

    def failed_load(self, script_cls: Any, path: str, exc: BaseException) -> Any:
        shown = self.display(path)
        self.failed.append(shown)
        detail = _describe_exception(exc, path)
        ids = _static_identifiers(path)
        if ids is None:
            self.warnings.append(f"could not load {shown}: {detail}; file skipped")
            return None
        module = types.ModuleType("_static_" + ids["revision"])
        for name, value in ids.items():
            setattr(module, name, value)
        self.warnings.append(
            f"could not load {shown}: {detail}; used its literal revision identifiers ({ids['revision']}) instead"
        )
        try:
            return script_cls(module, ids["revision"], path)
        except Exception:
            return None
