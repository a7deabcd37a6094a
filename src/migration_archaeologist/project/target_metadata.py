"""Which models ``verify`` compares with the database: ``--models MODULE:ATTR``, else what ``env.py``'s
``target_metadata`` names, read with ``ast`` (env.py is application code: it is never run to find out):
its module-level variable, else the ``target_metadata=`` its ``context.configure(...)`` call passes.

``target_metadata = Base.metadata`` after ``from app.models import Base`` names ``app.models:Base.metadata``,
an object the child process of :mod:`models_schema` can import. What env.py builds at run time
(Flask-Migrate's ``current_app.extensions['migrate'].db.metadata``, a ``MetaData()`` made in env.py
itself, a relative import) names nothing importable: then there is no default, and the reason says
to give ``--models``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from migration_archaeologist.errors import UsageError
from migration_archaeologist.files.untrusted import CONFIG_LIMIT, read_regular_text

__all__ = ["ModelsSpec", "NoModels", "from_env_py", "import_roots", "models_option"]

_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_TARGET = re.compile(rf"({_DOTTED}):({_DOTTED})")


@dataclass(frozen=True)
class ModelsSpec:
    """The application objects whose MetaData are the models, and where to import them from."""

    targets: tuple[str, ...]  # "module:attribute", as --models takes them
    paths: tuple[Path, ...]  # folders put first on the child's sys.path, in order
    origin: str  # "--models", or "env.py" (the file's path as shown)

    @property
    def text(self) -> str:
        return ", ".join(self.targets)


@dataclass(frozen=True)
class NoModels:
    """Why no models are compared: none given and env.py names none importable."""

    reason: str
    paths: tuple[Path, ...] = ()  # where the application would be imported from, for the replay all the same


def models_option(values: Sequence[str], paths: Sequence[Path]) -> ModelsSpec:
    """``--models`` values, checked: each is ``MODULE:ATTR`` (UsageError otherwise)."""
    for value in values:
        if not _TARGET.fullmatch(value):
            raise UsageError(
                f"--models {value!r}: give MODULE:ATTR, the object holding the models' MetaData "
                "(app.models:Base, app.db:metadata, app:db)"
            )
    return ModelsSpec(tuple(dict.fromkeys(values)), _ordered(paths, values), "--models")


def from_env_py(env_py: Path, paths: Sequence[Path], shown: str = "env.py") -> ModelsSpec | NoModels:
    """What env.py's module-level ``target_metadata`` names, as ``module:attribute`` targets."""
    try:
        tree = ast.parse(read_regular_text(env_py, CONFIG_LIMIT, errors="replace"))
    except (OSError, ValueError, SyntaxError) as exc:
        return NoModels(f"{shown} cannot be read ({type(exc).__name__}), so it names no models")
    imports, value = _bindings(tree)
    if value is None:  # warehouse: context.configure(..., target_metadata=db.metadata) with no variable
        value = next(
            (k.value for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "target_metadata"), None
        )
    if value is None:
        return NoModels(f"{shown} names no target_metadata: give --models MODULE:ATTR")
    if isinstance(value, ast.Constant) and value.value is None:
        return NoModels(f"{shown} sets target_metadata = None: give --models MODULE:ATTR to compare the models")
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    targets = [_target(item, imports) for item in items]
    if not targets or any(t is None for t in targets):
        text = ast.unparse(value)
        shown_value = text if len(text) <= 80 else text[:79] + "…"
        return NoModels(
            f"{shown}'s target_metadata = {shown_value} is not a module-level object of an importable module:"
            " give --models MODULE:ATTR"
        )
    found = [t for t in targets if t is not None]
    return ModelsSpec(tuple(dict.fromkeys(found)), _ordered(paths, found), shown)


def _bindings(tree: ast.Module) -> tuple[dict[str, str], ast.expr | None]:
    """The names env.py's imports bind at module level (name -> "module:attribute", or "module:" for a
    module) as they stand at its last ``target_metadata = ...``, and that assignment's value."""
    imports: dict[str, str] = {}
    value: ast.expr | None = None
    for node in _module_level(tree.body):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                imports[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                imports[local] = f"{alias.name if alias.asname else local}:"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            names = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == "target_metadata" for n in names):
                value = node.value
            for n in names:  # a name env.py binds itself is not the imported one any more
                if isinstance(n, ast.Name) and n.id != "target_metadata":
                    imports.pop(n.id, None)
    return imports, value


def _module_level(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import, in order: into if/try/with blocks, never into functions or classes."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.With)):
            yield from _module_level(node.body)
            yield from _module_level(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from _module_level(block)


def _target(node: ast.expr, imports: dict[str, str]) -> str | None:
    """``Base.metadata`` -> ``app.models:Base.metadata`` through env.py's imports; None if not that."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imports:
        return None
    module, _, name = imports[node.id].partition(":")
    if not name:  # ``import app.models`` then ``app.models.Base.metadata``: the module is as long as it can be
        return None if not parts else f"{module}:{'.'.join(parts)}"
    return f"{module}:{'.'.join([name, *parts])}"


def import_roots(
    root: Path, config_file: Path | None, script_location: Path | None, sys_paths: Sequence[str] = ()
) -> list[Path]:
    """Where the application is imported from, as ``alembic`` run from the configuration's folder would
    find it: ``sys_paths`` (the configuration's prepend_sys_path), that folder, the script folder's
    parent, the root and ``src/``."""
    places: list[Path] = []
    base = config_file.parent if config_file is not None and config_file.is_file() else None
    if base is not None:
        places += [base / p for p in sys_paths]
        places.append(base)
    if script_location is not None:
        places.append(script_location.parent)
    places += [root, root / "src"]
    return [p for p in dict.fromkeys(_resolved(p) for p in places) if p.is_dir()]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _ordered(paths: Sequence[Path], targets: Sequence[str]) -> tuple[Path, ...]:
    """The folders, those holding a target's module first (the first place Python would find it)."""
    modules = [t.split(":", 1)[0].split(".") for t in targets]

    def holds(place: Path) -> bool:
        return any(
            place.joinpath(*m).with_suffix(".py").is_file() or place.joinpath(*m, "__init__.py").is_file()
            for m in modules
        )

    return tuple(sorted(dict.fromkeys(paths), key=lambda p: not holds(p)))
