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

The stand-in modules live in ``_probe_stand_ins.py`` and the per-file loader in ``_probe_loader.py``,
beside this script; both are loaded by path (this folder is taken off ``sys.path`` below), so nothing
in the scanned repository can take their place.
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

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # annotations only: this file may run on an older Python than the package's
    from collections.abc import Callable
    from typing import Any


def _sibling(name: str) -> types.ModuleType:
    """``name``.py beside this script, loaded by its path: never looked up on ``sys.path``, where a
    module of the scanned repository could take its place."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


StandInFinder = _sibling("_probe_stand_ins").StandInFinder
_loading = _sibling("_probe_loader")
RevisionLoader = _loading.RevisionLoader
_one_line: Callable[[object], str] = _loading.one_line


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
    loader = RevisionLoader(dirs)
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
    loader = RevisionLoader([])
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
