"""Part of the Alembic probe (``_alembic_probe.py``, run by path in a child process): stand-in modules.

Revision files import the application (``from myapp.models import db``), which is rarely importable
where the probe runs. :class:`StandInFinder`, last on ``sys.meta_path``, hands out permissive
stand-in modules for modules nobody else can find, so Alembic's loader gets as far as reading
``revision``/``down_revision``. Like the probe, this file imports only the standard library (and
SQLAlchemy when it is there); it is loaded by path, never from our package.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import inspect
import os
import site
import sys
import sysconfig
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: this file may run on an older Python than the package's
    from collections.abc import Iterator
    from typing import Any, Literal

#: The probe's own files: frames in them are the probe's, not the code that asked for an import.
_PROBE_FILES = tuple(
    os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), name))
    for name in ("_alembic_probe.py", "_probe_stand_ins.py", "_probe_loader.py")
)

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
            *_PROBE_FILES,
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
