"""Child-process probe: ask Alembic itself which revisions and heads it sees.

Run as ``python _alembic_probe.py DIR [DIR...]``.  It is executed by file path,
possibly under a different interpreter than the one running
migration_archaeologist, so it imports only the standard library and alembic.

Revision files are real Python: loading them executes their top level, which
usually imports the application (``from myapp.models import db``) and that is
rarely importable where this tool runs.  A last-resort import finder therefore
hands out permissive stand-in modules for modules nobody else can find, so
Alembic's loader gets as far as reading ``revision``/``down_revision``.  Only
module top levels run here; ``upgrade()``/``downgrade()`` are never called and
no database is touched by this probe.

Exactly one JSON object is written to the original stdout::

    {"heads": [...], "revisions": [...], "stand_ins": [...],
     "warnings": [...], "failed_files": [...], "error": null | "..."}

Anything the revision files print goes to stderr instead.
"""

from __future__ import annotations

import sys

# Running a script by path puts its directory first on sys.path; that would
# make our package's sibling modules importable as top-level names from
# revision files (and could shadow stdlib or application modules).  Drop it
# before importing anything else.
if sys.path and sys.path[0]:
    try:
        import os as _os

        if _os.path.realpath(sys.path[0]) == _os.path.dirname(_os.path.realpath(__file__)):
            del sys.path[0]
    except Exception:  # pragma: no cover - defensive
        pass

sys.dont_write_bytecode = True  # never write __pycache__ into versions dirs

import ast  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.machinery  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import site  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # annotations only: this file may run on an older Python than the package's
    from collections.abc import Iterator
    from typing import Any, Literal

# --------------------------------------------------------------------------
# Stand-in objects
# --------------------------------------------------------------------------


def _sqlalchemy_types() -> tuple[Any, ...]:
    """Return ``((NullType,), TypeEngine)``, or ``((), None)`` without SQLAlchemy.

    Revision files often build ``sa.Column("id", GUID(), ...)`` or
    ``sa.table(...)`` at module level; SQLAlchemy only accepts a positional
    column type that is a real ``TypeEngine``.  Making every stand-in a
    NullType lets such constructs succeed.  SQLAlchemy is a hard dependency
    of alembic, and it is imported before the stand-in finder is installed.
    """
    try:
        from sqlalchemy.types import NullType, TypeEngine

        return (NullType,), TypeEngine
    except Exception:  # pragma: no cover - alembic without sqlalchemy?
        return (), None


_TYPE_BASES, _TYPE_ENGINE = _sqlalchemy_types()


def _child_name(parent: str, attr: str) -> str:
    return f"{parent}.{attr}" if parent else attr


class _StandInMeta(type):
    """Metaclass of stand-in base classes: unknown public class attributes
    resolve to stand-ins, so ``GUID.impl`` or ``Model.query`` work."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return StandIn(_child_name(cls.__dict__.get("_standin_name", cls.__name__), name))


class _StandInBaseMixin:
    """Behaviour shared by every class derived from a stand-in."""

    _standin_name = "<stand-in>"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A real co-base (e.g. sa.types.TypeDecorator) may still want its
        # __init__; give it the arguments, and failing that nothing.
        try:
            super().__init__(*args, **kwargs)
        except Exception:
            try:
                super().__init__()
            except Exception:
                pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return StandIn(_child_name(type(self).__name__, name))


def _base_class_for(standin: StandIn, bases: tuple[Any, ...]) -> type:
    """Build the real class that replaces a stand-in in a class's bases.

    The metaclass must be compatible with every other real base, so it is
    derived from theirs when they have custom metaclasses; if that cannot be
    done, fall back to a plain ``type`` base (no class-level permissiveness).
    The class is also a NullType unless a real co-base is already a SQLAlchemy
    type (then that base must keep its own behaviour).
    """
    name = standin._standin_name
    short = name.rsplit(".", 1)[-1].rstrip("()") or "StandIn"
    real = [b for b in bases if isinstance(b, type)]
    extra: tuple[Any, ...] = ()
    if _TYPE_ENGINE is not None and not any(issubclass(b, _TYPE_ENGINE) for b in real):
        extra = _TYPE_BASES
    metas = []
    for b in real:
        m = type(b)
        if m is not type and m not in metas:
            metas.append(m)
    ns = {"_standin_name": name, "__module__": name.rsplit(".", 1)[0]}
    for meta_bases, cls_bases in (
        ((_StandInMeta, *metas), (_StandInBaseMixin, *extra)),
        ((_StandInMeta, *metas), (_StandInBaseMixin,)),
        ((type,), (_StandInBaseMixin,)),
    ):
        try:
            meta = meta_bases[0] if len(meta_bases) == 1 else type(f"{short}Meta", meta_bases, {})
            return meta(short, cls_bases, dict(ns))  # type: ignore[no-any-return]  # a class made by a metaclass
        except Exception:
            continue
    return _StandInBaseMixin  # pragma: no cover - last resort


class StandIn(*_TYPE_BASES):  # type: ignore[misc]  # NullType when SQLAlchemy is importable, else no base
    """A permissive placeholder for any attribute of a missing module.

    It can be called, subscripted, iterated (empty), compared, tested for
    truth (falsy), used in arithmetic, used as a context manager, used as a
    column type (it is a NullType), and used as a base class (via
    ``__mro_entries__``).  Calling it
    with a single plain function returns that function, so stand-in
    decorators keep what they decorate.
    """

    _standin_name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_standin_name", name)

    # attribute protocol ---------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Libraries duck-type with private/dunder probes
            # (``__clause_element__``, ``_set_parent``); answering those
            # would lie about what this object is.  Application APIs are
            # public names.
            raise AttributeError(name)
        child = StandIn(_child_name(self._standin_name, name))
        object.__setattr__(self, name, child)
        return child

    # calling / classes ----------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and inspect.isfunction(args[0]):
            return args[0]
        return StandIn(self._standin_name + "()")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        return (_base_class_for(self, bases),)

    def __instancecheck__(self, obj: object) -> bool:
        return False

    def __subclasscheck__(self, cls: object) -> bool:
        return False

    # containers -----------------------------------------------------------
    def __getitem__(self, key: object) -> Any:
        return StandIn(f"{self._standin_name}[...]")

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __delitem__(self, key: object) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, item: object) -> bool:
        return False

    def __bool__(self) -> bool:
        # Falsy, so ``settings.SCHEMA or "public"`` picks the real default
        # and ``if settings.FEATURE:`` blocks are skipped (less code runs).
        return False

    # comparison / hashing -------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __hash__(self) -> int:
        return id(self)

    # conversions ------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<stand-in {self._standin_name}>"

    def __str__(self) -> str:
        return self._standin_name

    def __int__(self) -> int:
        return 0

    __index__ = __int__

    def __float__(self) -> float:
        return 0.0

    def __fspath__(self) -> str:
        return self._standin_name

    # context manager --------------------------------------------------------
    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        return False

    # arithmetic / operators (``GUID | None`` in annotations, etc.) ----------
    def _op(self, *other: object) -> StandIn:
        return StandIn(self._standin_name + "(op)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _op
    __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _op
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _op
    __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _op
    __neg__ = __pos__ = __invert__ = __abs__ = _op


class StandInModule(types.ModuleType):
    """A package-shaped placeholder for a module that cannot be imported."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = StandIn(_child_name(self.__name__, name))
        setattr(self, name, value)
        return value


# --------------------------------------------------------------------------
# The last-resort finder
# --------------------------------------------------------------------------


def _library_roots() -> tuple[str, ...]:
    """Directories of installed libraries and the stdlib, normalised."""
    roots = set()
    try:
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            p = sysconfig.get_paths().get(key)
            if p:
                roots.add(p)
        roots.update(getattr(site, "getsitepackages", lambda: [])())
        user = getattr(site, "getusersitepackages", lambda: None)()
        if user:
            roots.add(user)
    except Exception:
        pass
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Appended to ``sys.meta_path``: only consulted after every real finder
    has failed, i.e. exactly when import would raise ModuleNotFoundError.

    A stand-in is *not* offered when:

    * the import comes from the stdlib or an installed library (they use
      ``try: import x except ImportError`` for optional features, and a
      stand-in would silently switch those features on), or
    * ``from real_pkg import name`` merely probes whether ``name`` is a
      submodule of a real package: the package exists, so the honest answer
      is the usual "cannot import name" ImportError.
    """

    def __init__(self) -> None:
        self.created: set[str] = set()
        self._libroots = _library_roots()
        self._skip_files = {
            os.path.realpath(__file__),
            os.path.realpath(importlib.__file__),  # importlib.import_module: ask its caller
        }

    def _importer_verdict(self) -> str:
        """Classify the code that asked for the import:
        ``"fromlist"`` (a ``from pkg import name`` submodule probe),
        ``"library"`` (stdlib / installed library) or ``"other"``
        (revision files, the user's own project code)."""
        frame: types.FrameType | None = sys._getframe(2)
        via_fromlist = False
        while frame is not None:
            code = frame.f_code
            fname = code.co_filename
            if fname.startswith("<frozen importlib"):
                if code.co_name == "_handle_fromlist":
                    via_fromlist = True
                frame = frame.f_back
                continue
            real = os.path.realpath(fname)
            if real in self._skip_files:
                frame = frame.f_back
                continue
            if via_fromlist:
                return "fromlist"
            if any(real.startswith(r) for r in self._libroots):
                return "library"
            return "other"
        return "library"

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        parent = fullname.rpartition(".")[0]
        # Submodules of stand-ins are always stand-ins; otherwise only imports
        # asked for by non-library code, and never a ``from real_pkg import x``
        # submodule probe.
        if not (parent in self.created or self._importer_verdict() == "other"):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> StandInModule:
        return StandInModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []
        module.__file__ = None
        self.created.add(module.__name__)


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


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _describe_exception(exc: BaseException, path: str) -> str:
    line = None
    for fs in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(fs.filename) == os.path.realpath(path):
            line = fs.lineno
    text = _one_line(exc)
    msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, ImportError) and not isinstance(exc, ModuleNotFoundError):
        if "cannot import name" in str(exc):
            msg += " (stand-ins cannot help: the module exists)"
    elif isinstance(exc, ModuleNotFoundError):
        msg += " (not stubbed: the import came from stdlib or installed-library code)"
    return msg + (f" [line {line}]" if line else "")


class _Loader:
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


def _alembic_warning(w: warnings.WarningMessage, alembic_dir: str) -> bool:
    return os.path.realpath(w.filename).startswith(alembic_dir)


def probe(dirs: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "heads": [],
        "revisions": [],
        "stand_ins": [],
        "warnings": [],
        "failed_files": [],
        "error": None,
    }
    try:
        import alembic
        from alembic.script import ScriptDirectory
    except Exception as exc:
        result["error"] = _one_line(f"alembic is not importable by {sys.executable}: {type(exc).__name__}: {exc}")
        return result
    alembic_dir = os.path.join(os.path.dirname(os.path.realpath(alembic.__file__)), "")

    missing = [d for d in dirs if not os.path.isdir(d)]
    if missing:
        result["error"] = "versions directory does not exist: " + ", ".join(missing)
        return result

    finder = StandInFinder()
    sys.meta_path.append(finder)
    loader = _Loader(dirs)
    loader.install()
    script_location = tempfile.mkdtemp(prefix="ma-alembic-probe-")
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                script = ScriptDirectory(
                    script_location,
                    version_locations=[os.path.abspath(d) for d in dirs],
                    sourceless=False,  # .py only; __pycache__ is skipped
                )
                heads = script.get_heads()
                revisions = [s.revision for s in script.walk_revisions()]
                result["heads"] = sorted(heads)
                result["revisions"] = sorted(set(revisions))
            except Exception as exc:
                result["error"] = _map_error(exc, caught, alembic_dir)
    finally:
        shutil.rmtree(script_location, ignore_errors=True)
        try:
            sys.meta_path.remove(finder)
        except ValueError:
            pass

    seen = set()
    for w in caught:
        if not _alembic_warning(w, alembic_dir):
            continue
        text = _one_line(w.message)
        if text == result["error"] or text in seen:
            continue
        seen.add(text)
        result["warnings"].append(text)
    result["warnings"] = loader.warnings + result["warnings"]
    result["failed_files"] = sorted(loader.failed)
    result["stand_ins"] = sorted(finder.created)
    return result


def probe_config(request: dict[str, Any]) -> dict[str, Any]:
    """Alembic's own commands with a configuration, as ``alembic -c INI --name SECTION`` runs them:
    ``heads`` and ``history`` through ``alembic.command``, and ``current`` for the stamp read by the
    caller (Alembic's ``get_all_current`` and ``cmd_format``, as ``command.current`` prints it) so
    that neither the database nor env.py (application code) is touched here. ``prepend_sys_path`` is
    emptied: the application is not put on the path, its modules are stand-ins."""
    result: dict[str, Any] = {
        "heads": [],
        "revisions": [],
        "stand_ins": [],
        "warnings": [],
        "failed_files": [],
        "error": None,
        "current": None,
        "history": [],
        "script_dir": None,
        "env_py": False,
        "template": False,
    }
    try:
        import io

        import alembic
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory
    except Exception as exc:
        result["error"] = _one_line(f"alembic is not importable by {sys.executable}: {type(exc).__name__}: {exc}")
        return result
    alembic_dir = os.path.join(os.path.dirname(os.path.realpath(alembic.__file__)), "")
    buffer = io.StringIO()
    finder = StandInFinder()
    sys.meta_path.append(finder)
    loader = _Loader([])
    loader.install()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if request["config"].endswith(".toml"):  # [tool.alembic] alone (alembic 1.16+)
                    config = Config(toml_file=request["config"], stdout=buffer)
                else:
                    config = Config(request["config"], ini_section=request.get("section") or "alembic", stdout=buffer)
                section = config.config_ini_section
                if request.get("script_location"):  # Flask-Migrate sets it from its folder
                    config.set_section_option(section, "script_location", request["script_location"])
                if config.file_config.has_option(section, "prepend_sys_path"):
                    config.set_section_option(section, "prepend_sys_path", "")
                script = ScriptDirectory.from_config(config)
                loader.dirs = list(getattr(script, "_version_locations", None) or [script.versions])
                result["script_dir"] = script.dir
                result["env_py"] = os.path.isfile(os.path.join(script.dir, "env.py"))
                result["template"] = os.path.isfile(os.path.join(script.dir, "script.py.mako"))
                result["heads"] = sorted(script.get_heads())
                result["revisions"] = sorted({s.revision for s in script.walk_revisions()})
                try:  # shown, not decisive: a stand-in branch label (neutron's cli.EXPAND_BRANCH) breaks its format
                    command.history(config)
                    result["history"] = buffer.getvalue().splitlines()
                except Exception as exc:
                    result["warnings"].append(_one_line(f"alembic history failed: {type(exc).__name__}: {exc}"))
                stamped = request.get("current")
                if stamped is not None:
                    result["current"] = [rev.cmd_format(False) for rev in script.get_all_current(tuple(stamped))]
            except Exception as exc:
                result["error"] = _map_error(exc, caught, alembic_dir)
    finally:
        try:
            sys.meta_path.remove(finder)
        except ValueError:
            pass
    result["warnings"] = (
        loader.warnings
        + result["warnings"]
        + [_one_line(w.message) for w in caught if _alembic_warning(w, alembic_dir)]
    )
    result["failed_files"] = sorted(loader.failed)
    result["stand_ins"] = sorted(finder.created)
    return result


def _map_error(exc: Exception, caught: list[warnings.WarningMessage], alembic_dir: str) -> str:
    """One line for a revision-map failure.  Alembic announces a missing
    parent as a warning and then fails with a bare KeyError; prefer the
    warning, which names both revisions."""
    if isinstance(exc, KeyError):
        for w in reversed(caught):
            text = _one_line(w.message)
            if _alembic_warning(w, alembic_dir) and "is not present" in text:
                return text
    msg = _one_line(exc)
    try:
        from alembic.util import CommandError
        from alembic.script.revision import RevisionError

        if isinstance(exc, (CommandError, RevisionError)) and msg:
            return msg
    except Exception:
        pass
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def main(argv: list[str]) -> int:
    # Keep a private handle on the real stdout, then point fd 1 and
    # sys.stdout at stderr so nothing the revision files print (even from C
    # code) can corrupt the JSON.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        if not argv:
            result = {
                "heads": [],
                "revisions": [],
                "stand_ins": [],
                "warnings": [],
                "failed_files": [],
                "error": "usage: _alembic_probe.py DIR [DIR...]",
            }
        elif argv[0] == "--config":
            result = probe_config(json.loads(argv[1]))
        else:
            result = probe(argv)
    except BaseException as exc:  # last resort: still answer in JSON
        result = {
            "heads": [],
            "revisions": [],
            "stand_ins": [],
            "warnings": [],
            "failed_files": [],
            "error": _one_line(f"probe failed: {type(exc).__name__}: {exc}"),
        }
    out.write(json.dumps(result))
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Revision files may have started non-daemon threads; do not wait for them.
    sys.stderr.flush()
    os._exit(code)
