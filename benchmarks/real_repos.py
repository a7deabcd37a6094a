"""Judge migration-archaeologist against real repositories, with ground truth computed without it.

    python benchmarks/real_repos.py [MIRRORS] [--clones DIR] [--keep-clones DIR] [--only NAME]...
                                    [--results DIR] [--reuse] [--tool PATH] [--json] [-o FILE]

MIRRORS is a folder of git mirrors, one per subfolder (a bare repository, or a folder holding
``repo`` or ``repo/.git`` as /work/.mirror does; ``owner+name`` folders are called ``name``).
Each is cloned into a temporary folder (``--keep-clones DIR`` keeps the clones there and reuses
them next time). ``--clones DIR`` takes already-cloned work trees instead, one per subfolder.

Ground truth never imports migration_archaeologist:

* environments from every tracked ``alembic.ini`` (each section with ``script_location``, and
  ``[alembic]`` of a Flask-Migrate ``migrations/`` folder), ``[tool.alembic]`` in
  ``pyproject.toml``, and folders of revision files no configuration names (OpenStack's
  release/branch subfolders, which the projects add to ``version_locations`` in their own code);
* heads by Alembic itself: ``ScriptDirectory(...).get_heads()`` in a child process with a
  timeout; imports from repository code that fail are stubbed there;
* heads by ``ast`` alone over the same version locations;
* every revision file deleted in history: ``git log --all --diff-merges=off --diff-filter=D``
  (non-merge commits only), contents read from ``<commit>^:<path>`` by one ``git cat-file``.

Then ``migration-archaeologist check`` (per environment: ``-c INI``, else ``--versions DIR``...)
and a cold ``scan --json --no-cache`` run, and the two are compared. Exit status 0 unless the
script itself fails; disagreements are the output, not an error.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

DEFAULT_TOOL = Path(sys.executable).with_name("migration-archaeologist")
ALEMBIC_TIMEOUT = 180
TOOL_TIMEOUT = 560
SKIP_PARTS = {".git", "node_modules", ".tox", ".venv", "venv", "site-packages", "__pycache__"}


# --------------------------------------------------------------------------- git helpers


def git(repo: Path, *args: str, check: bool = True, stdin: bytes | None = None) -> bytes:
    """Run git in ``repo`` and return stdout (raises on failure when ``check``)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "core.quotepath=off", *args],
        input=stdin,
        capture_output=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def cat_file_batch(repo: Path, specs: list[str]) -> list[bytes | None]:
    """Contents of every ``spec`` (``<rev>:<path>`` or an object id) through one ``git cat-file --batch``.

    ``None`` for an object git cannot read (missing in a partial mirror, or not a blob).
    """
    if not specs:
        return []
    if any("\n" in s for s in specs):
        raise ValueError("object names with a newline cannot go through --batch")
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="".join(s + "\n" for s in specs).encode(),
        capture_output=True,
        check=False,
    )
    out, pos, result = proc.stdout, 0, []
    for _ in specs:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            body = out[pos : pos + size]
            pos += size + 1
            result.append(body if header[1] == b"blob" else None)
        else:  # "<spec> missing" / "ambiguous"
            result.append(None)
    return result


def find_git_dir(folder: Path) -> Path | None:
    """The git directory of a mirror folder: itself if bare, else ``repo`` or ``repo/.git``."""
    for cand in (folder, folder / "repo", folder / "repo" / ".git", folder / ".git"):
        if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
            return cand
    return None


def clone(mirror: Path, dest: Path) -> list[str]:
    """Clone ``mirror`` into ``dest``; when blobs are missing, check out every readable path.

    Returns notes on what could not be checked out.
    """
    notes: list[str] = []
    proc = subprocess.run(["git", "clone", "-q", str(mirror), str(dest)], capture_output=True, check=False)
    if not (dest / ".git").is_dir():
        raise RuntimeError(f"git clone {mirror}: {proc.stderr.decode(errors='replace').strip()}")
    if proc.returncode == 0:
        return notes
    # A partial mirror: the checkout stopped at the first unreadable blob. List HEAD's tree with
    # blob ids, ask git which blobs it has, and check out all the others.
    entries = []
    for raw in git(dest, "ls-tree", "-r", "-z", "HEAD").split(b"\0"):
        if not raw:
            continue
        meta, path = raw.split(b"\t", 1)
        mode, kind, oid = meta.split(b" ")
        if kind == b"blob":
            entries.append((oid.decode(), path))
    checks = git(dest, "cat-file", "--batch-check", stdin=b"".join(o.encode() + b"\n" for o, _ in entries))
    present = []
    for (oid, path), line in zip(entries, checks.decode().splitlines()):
        if line.endswith(" missing"):
            notes.append(f"blob {oid[:10]} missing, not checked out: {path.decode(errors='replace')}")
        else:
            present.append(path)
    git(dest, "checkout", "-f", "HEAD", "--pathspec-from-file=-", "--pathspec-file-nul",
        stdin=b"".join(p + b"\0" for p in present))
    return notes


# --------------------------------------------------------------------------- revision files

_REV_RE = re.compile(rb"""^revision\s*(?::[^=\n]+)?=\s*[rRuUbB]?(['"])([^'"\n]+)\1""", re.M)
_DOWN_RE = re.compile(rb"^down_revision\s*(?::[^=\n]+)?=", re.M)
_NONLITERAL = "<non-literal>"


@dataclass
class RevFile:
    """What ast (or, for Python 2 files, a regex) reads from one revision file."""

    path: str
    revision: str
    down_revisions: list[str]
    branch_labels: list[str] = field(default_factory=list)
    parsed_by: str = "ast"
    notes: list[str] = field(default_factory=list)


def _literal(node: ast.expr) -> Any:
    """The literal value of ``node``, or ``_NONLITERAL``."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NONLITERAL


def _as_list(value: Any) -> list[str]:
    """A ``down_revision`` / ``branch_labels`` value as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v if isinstance(v, str) else _NONLITERAL for v in value]
    return [_NONLITERAL]


def parse_revision_file(path: str, source: bytes) -> RevFile | None:
    """Module-level ``revision`` (a string) and ``down_revision``; ``None`` if not a revision file."""
    if b"revision" not in source:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tree = None
    if tree is None:  # Python 2 era files: a regex over the text, as a second best
        m = _REV_RE.search(source)
        if not m or not _DOWN_RE.search(source):
            return None
        down = re.search(rb"""^down_revision\s*=\s*(.+)$""", source, re.M)
        value: Any = _NONLITERAL
        if down:
            try:
                value = ast.literal_eval(down.group(1).decode(errors="replace").strip())
            except (ValueError, SyntaxError):
                value = _NONLITERAL
        return RevFile(path, m.group(2).decode(errors="replace"), _as_list(value), parsed_by="regex",
                       notes=["not Python 3 syntax"])
    names: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value_node = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value_node = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision", "branch_labels"):
                names[target.id] = _literal(value_node)
    rev = names.get("revision")
    if not isinstance(rev, str):
        return None
    notes = [] if "down_revision" in names else ["no down_revision"]
    return RevFile(path, rev, _as_list(names.get("down_revision")), _as_list(names.get("branch_labels")),
                   notes=notes)


# --------------------------------------------------------------------------- environments


@dataclass
class Env:
    """One Alembic environment: where its script directory and revision files are."""

    name: str
    origin: str
    script_location: str
    version_locations: list[str]
    recursive: bool = False
    ini: str | None = None
    section: str | None = None
    added_subfolders: bool = False
    notes: list[str] = field(default_factory=list)


_SOURCE_FILE = re.compile(r"(?!\.#|__init__)(.*\.py)$")


def _split_locations(raw: str, separator: str | None) -> list[str]:
    """Split ``version_locations`` the way Alembic does for each separator setting."""
    seps = {"os": os.pathsep, ":": ":", ";": ";", "space": " ", "newline": "\n", ",": ","}
    if separator is None:  # legacy: spaces and/or commas
        return [p for p in re.split(r", *|(?: +)", raw.strip()) if p]
    sep = seps.get(separator.strip(), separator)
    if sep == " ":
        return [p for p in raw.split() if p]
    return [p.strip() for p in raw.split(sep) if p.strip()]


def _resolve(repo: Path, base: Path, loc: str, packages: dict[str, Path]) -> Path:
    """A location as Alembic reads it: ``pkg.mod:path`` resolved in the repository, else a path."""
    m = re.fullmatch(r"([A-Za-z_][\w.]*):(.*)", loc)
    if m and not re.fullmatch(r"[A-Za-z]", m.group(1)):
        pkg = packages.get(m.group(1))
        root = pkg if pkg is not None else repo / m.group(1).replace(".", "/")
        return (root / m.group(2)).resolve()
    p = Path(loc)
    return (p if p.is_absolute() else base / p).resolve()


def _packages(repo: Path, tracked: list[str]) -> dict[str, Path]:
    """Dotted package name -> folder, for folders with ``__init__.py`` (shallowest wins)."""
    found: dict[str, Path] = {}
    for rel in sorted(tracked, key=lambda s: s.count("/")):
        if not rel.endswith("/__init__.py"):
            continue
        parts = rel.split("/")[:-1]
        for start in range(len(parts)):
            name = ".".join(parts[start:])
            found.setdefault(name, repo.joinpath(*parts))
    return found


def _rel(repo: Path, p: Path) -> str:
    """``p`` relative to the repository, posix style (absolute when outside it)."""
    try:
        return p.relative_to(repo).as_posix() or "."
    except ValueError:
        return str(p)


def discover_envs(repo: Path, tracked: list[str], revfiles: dict[str, RevFile]) -> list[Env]:
    """Every Alembic environment of the work tree (see the module docstring)."""
    envs: list[Env] = []
    packages = _packages(repo, tracked)
    for rel in tracked:
        if any(part in SKIP_PARTS for part in rel.split("/")):
            continue
        path = repo / rel
        if rel.endswith("alembic.ini") and path.name == "alembic.ini":
            envs.extend(_ini_envs(repo, path, packages))
        elif path.name == "pyproject.toml":
            env = _pyproject_env(repo, path, packages)
            if env:
                envs.append(env)
    # Subfolders of a versions folder that hold revision files, which the project's own code adds
    # to version_locations (OpenStack: versions/<release>/{expand,contract}).
    for env in envs:
        if env.recursive:
            continue
        locs = set(env.version_locations)
        for loc in [v for v in env.version_locations if v != "."]:
            extra = sorted({str(Path(f).parent) for f in revfiles if f.startswith(loc + "/")} - locs)
            if extra:
                env.version_locations.extend(extra)
                env.added_subfolders = True
                locs.update(extra)
                env.notes.append(f"{len(extra)} subfolder(s) of {loc} hold revision files and were added as "
                                 "version locations (the project's code sets version_locations)")
    covered = {loc for env in envs for loc in env.version_locations}
    covered_rec = [loc for env in envs if env.recursive for loc in env.version_locations]
    orphans: dict[str, list[str]] = defaultdict(list)
    for f in revfiles:
        d = str(Path(f).parent)
        if d in covered or any(d == c or d.startswith(c + "/") for c in covered_rec):
            continue
        # group under the nearest ancestor called "versions", else the folder itself
        parts = d.split("/")
        root = "/".join(parts[: len(parts) - parts[::-1].index("versions")]) if "versions" in parts else d
        orphans[root].append(d)
    hints = _code_hints(repo, tracked, packages)
    for root, dirs in sorted(orphans.items()):
        locs = sorted(set(dirs))
        script = str(Path(root).parent) if Path(root).name == "versions" else root
        notes = ["no alembic.ini or [tool.alembic] names this folder; every folder in it holding revision "
                 "files is a version location (the project's code sets them)"]
        notes += hints.get(script, [])
        envs.append(Env(name=script, origin="code", script_location=script, version_locations=locs, notes=notes))
    return envs


_SET_OPTION = re.compile(r"""set_main_option\(\s*["'](script_location|version_locations)["']\s*,\s*["']([^"']+)["']""")


def _code_hints(repo: Path, tracked: list[str], packages: dict[str, Path]) -> dict[str, list[str]]:
    """Folder -> notes, for string literals the project's code passes to ``set_main_option``."""
    hints: dict[str, list[str]] = defaultdict(list)
    for rel in tracked:
        if not rel.endswith(".py") or any(p in SKIP_PARTS or p.startswith("test") for p in rel.split("/")):
            continue
        try:
            text = (repo / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "set_main_option" not in text:
            continue
        for m in _SET_OPTION.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            folder = _rel(repo, _resolve(repo, (repo / rel).parent, m.group(2), packages))
            hints[folder].append(f"{rel}:{line} sets {m.group(1)} = {m.group(2)}")
    return hints


def _ini_envs(repo: Path, ini: Path, packages: dict[str, Path]) -> list[Env]:
    """One environment per section of ``ini`` with ``script_location`` (or a Flask-Migrate ``[alembic]``)."""
    here = ini.parent
    cp = configparser.ConfigParser(defaults={"here": str(here)})
    try:
        cp.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        return [Env(name=_rel(repo, ini), origin="alembic.ini (unreadable)", script_location="",
                    version_locations=[], ini=_rel(repo, ini), notes=[str(exc).splitlines()[0]])]
    envs = []
    for section in cp.sections():
        if not cp.has_option(section, "script_location") and section != "alembic":
            continue

        def opt(key: str, section: str = section) -> str | None:
            if not cp.has_option(section, key):
                return None
            try:
                return cp.get(section, key)
            except configparser.Error:
                return cp.get(section, key, raw=True)

        notes = []
        script = opt("script_location")
        if not script:
            if (here / "env.py").is_file() and (here / "versions").is_dir():
                script_dir, origin = here.resolve(), "Flask-Migrate (alembic.ini in its migrations folder)"
            else:
                continue
        else:
            script_dir, origin = _resolve(repo, here, script, packages), f"alembic.ini [{section}]"
            if script and ":" in script and not Path(script).is_absolute():
                notes.append(f"script_location = {script} (package resource)")
        sep = opt("path_separator") or opt("version_path_separator")
        raw_locs = opt("version_locations")
        if raw_locs:
            locs = [_rel(repo, _resolve(repo, here, p, packages)) for p in _split_locations(raw_locs, sep)]
        else:
            locs = [_rel(repo, script_dir / "versions")]
        recursive = (opt("recursive_version_locations") or "false").strip().lower() in ("true", "1", "yes", "on")
        name = _rel(repo, ini) + ("" if section == "alembic" else f" [{section}]")
        envs.append(Env(name=name, origin=origin, script_location=_rel(repo, script_dir), version_locations=locs,
                        recursive=recursive, ini=_rel(repo, ini), section=section, notes=notes))
    return envs


def _pyproject_env(repo: Path, path: Path, packages: dict[str, Path]) -> Env | None:
    """The ``[tool.alembic]`` environment of a ``pyproject.toml``, if it has one."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    table = doc.get("tool", {}).get("alembic")
    if not isinstance(table, dict) or "script_location" not in table:
        return None
    here = path.parent
    sub = lambda s: str(s).replace("%(here)s", str(here))  # noqa: E731
    script_dir = _resolve(repo, here, sub(table["script_location"]), packages)
    raw = table.get("version_locations")
    if isinstance(raw, list):
        locs = [_rel(repo, _resolve(repo, here, sub(p), packages)) for p in raw]
    elif isinstance(raw, str):
        locs = [_rel(repo, _resolve(repo, here, sub(p), packages))
                for p in _split_locations(raw, table.get("path_separator"))]
    else:
        locs = [_rel(repo, script_dir / "versions")]
    return Env(name=_rel(repo, path) + " [tool.alembic]", origin="pyproject.toml [tool.alembic]",
               script_location=_rel(repo, script_dir), version_locations=locs,
               recursive=bool(table.get("recursive_version_locations")), ini=_rel(repo, path))


def env_files(repo: Path, env: Env) -> list[str]:
    """The .py files Alembic would load from the env's version locations (relative paths)."""
    files = []
    for loc in env.version_locations:
        folder = repo / loc
        if not folder.is_dir():
            continue
        walker: Iterable[tuple[str, list[str], list[str]]] = (
            os.walk(folder) if env.recursive else [(str(folder), [], os.listdir(folder))]
        )
        for dirpath, _, names in walker:
            for name in sorted(names):
                if _SOURCE_FILE.fullmatch(name) and (Path(dirpath) / name).is_file():
                    files.append(_rel(repo, Path(dirpath) / name))
    return files


def ast_heads(revs: list[RevFile]) -> tuple[list[str], list[str]]:
    """Heads (revisions no one names as down_revision) and the down_revisions nobody declares."""
    ids = {r.revision for r in revs}
    named = {d for r in revs for d in r.down_revisions}
    return sorted(ids - named), sorted(named - ids)


# --------------------------------------------------------------------------- Alembic, in a child

CHILD = r'''
import builtins, importlib.abc, importlib.machinery, json, os, sys, types, warnings
args = json.loads(sys.argv[1])
REPO = os.path.realpath(args["repo"])
CONSTANTS = {"EXPAND_BRANCH": "expand", "CONTRACT_BRANCH": "contract"}
import alembic, sqlalchemy
from alembic.script import ScriptDirectory
stubbed, forced, injected = set(), set(), set()

class Stub:
    """Stands in for anything a stubbed module holds: callable, iterable, subscriptable, a base class."""
    def __init__(self, name): object.__setattr__(self, "_n", name)
    def __getattr__(self, n):
        if n.startswith("__") and n.endswith("__"): raise AttributeError(n)
        return CONSTANTS.get(n) or Stub(self._n + "." + n)
    def __setattr__(self, n, v): pass
    def __call__(self, *a, **k): return Stub(self._n + "()")
    def __iter__(self): return iter(())
    def __len__(self): return 0
    def __contains__(self, x): return False
    def __getitem__(self, k): return Stub(self._n + "[]")
    def __mro_entries__(self, bases): return (object,)
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def __str__(self): return self._n
    def __repr__(self): return "<stub " + self._n + ">"
    def __hash__(self): return id(self)
    def __eq__(self, o): return self is o
    def __add__(self, o): return Stub(self._n)
    __radd__ = __sub__ = __mul__ = __truediv__ = __or__ = __ror__ = __and__ = __mod__ = __add__
    def __lt__(self, o): return False
    __gt__ = __le__ = __ge__ = __lt__

class StubModule(types.ModuleType):
    def __getattr__(self, n):
        if n.startswith("__") and n.endswith("__"): raise AttributeError(n)
        return CONSTANTS.get(n) or Stub(self.__name__ + "." + n)

def from_repository():
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith("<frozen"):
            return os.path.realpath(fn).startswith(REPO + os.sep) or fn.startswith("<stub")
        f = f.f_back
    return False

class Stubber(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a module repository code imports and nothing provides becomes a stub."""
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in forced or (self is LAST and from_repository()):
            stubbed.add(name)
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None
    def create_module(self, spec):
        return StubModule(spec.name)
    def exec_module(self, module):
        module.__path__ = []
        module.__file__ = "<stub " + module.__name__ + ">"

FIRST, LAST = Stubber(), Stubber()
sys.meta_path.insert(0, FIRST)
sys.meta_path.append(LAST)

def load():
    sd = ScriptDirectory(args["script_location"], version_locations=args["version_locations"],
                         recursive_version_locations=args["recursive"])
    heads = sorted(sd.get_heads())
    revmap = sd.revision_map._revision_map
    revs = {r.revision: r for r in revmap.values() if r is not None}
    labels = {}
    for r in revs.values():
        for label in (getattr(r.module, "branch_labels", None) or ()):
            labels[str(label)] = r.revision
    bases = sorted(sd.get_bases())
    return {"heads": heads, "bases": bases, "revisions": len(revs), "branch_labels": labels}

result = {"alembic": alembic.__version__, "error": None}
for attempt in range(300):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result.update(load())
            result["error"] = None
        except BaseException as exc:
            chain, e = [], exc
            while e is not None and len(chain) < 5:
                chain.append(e); e = e.__cause__ or e.__context__
            missing = next((getattr(x, "name", None) for x in chain if isinstance(x, ImportError)
                            and getattr(x, "name", None)), None)
            result["error"] = "; ".join(type(x).__name__ + ": " + str(x).splitlines()[0][:300]
                                        if str(x) else type(x).__name__ for x in chain)
            # "from stubbed import *" binds nothing: a name it should have bound becomes a builtin stub
            unbound = next((getattr(x, "name", None) for x in chain if type(x) is NameError), None)
            if stubbed and unbound and unbound not in injected:
                injected.add(unbound)
                setattr(builtins, unbound, Stub(unbound))
                continue
            top = missing.split(".")[0] if missing else None
            if top and top not in forced and top not in ("alembic", "sqlalchemy"):
                forced.add(top)
                for mod in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                    del sys.modules[mod]
                continue
    break
result["warnings"] = sorted({str(w.message).splitlines()[0][:300] for w in caught})
result["stubbed"] = sorted({m.split(".")[0] for m in stubbed} | forced)
result["injected_names"] = sorted(injected)
print(json.dumps(result))
'''


def alembic_truth(repo: Path, env: Env, python: str) -> dict[str, Any]:
    """Heads, revision count and branch labels per Alembic, loaded in a child with a timeout."""
    arg = json.dumps({
        "repo": str(repo),
        "script_location": str(repo / env.script_location),
        "version_locations": [str(repo / loc) for loc in env.version_locations],
        "recursive": env.recursive,
    })
    with tempfile.TemporaryDirectory(prefix="ma-alembic-") as cwd:
        try:
            proc = subprocess.run([python, "-I", "-B", "-c", CHILD, arg], cwd=cwd, capture_output=True, text=True,
                                  timeout=ALEMBIC_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"Alembic load timed out after {ALEMBIC_TIMEOUT} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"child exited {proc.returncode}: {tail[:300]}"}


# --------------------------------------------------------------------------- git: deletions


@dataclass
class Deletion:
    """A revision file deleted by a commit: a non-merge commit, or a merge against its first parent."""

    revision: str
    path: str
    commit: str
    parsed_by: str
    merge: bool = False


def _deleted_paths(repo: Path, merges: bool) -> list[tuple[str, str]]:
    """(commit, path) of every .py file deleted: non-merge commits, or merges vs their first parent."""
    mode = ["--merges", "--diff-merges=first-parent"] if merges else ["--no-merges", "--diff-merges=off"]
    out = git(repo, "log", "--all", *mode, "--no-renames", "--diff-filter=D", "--name-only",
              "--format=commit %H").decode(errors="surrogateescape")
    pairs, commit = [], ""
    for line in out.splitlines():
        if line.startswith("commit ") and len(line) == 47:
            commit = line[7:]
        elif line.endswith(".py") and commit:
            pairs.append((commit, line))
    return pairs


def deleted_revision_files(repo: Path) -> tuple[list[Deletion], list[str]]:
    """Every .py revision file deleted in ``--all`` (renames count as deletions), and unreadable blobs.

    Non-merge commits against their parent, plus merge commits against their first parent (flagged
    ``merge``); contents of ``<commit>^:<path>`` come from one ``git cat-file --batch``.
    """
    pairs = [(c, p, False) for c, p in _deleted_paths(repo, merges=False)]
    pairs += [(c, p, True) for c, p in _deleted_paths(repo, merges=True)]
    blobs = cat_file_batch(repo, [f"{c}^:{p}" for c, p, _ in pairs])
    found, unreadable = [], []
    for (c, p, merge), blob in zip(pairs, blobs):
        if blob is None:
            unreadable.append(f"{c[:10]}^:{p}")
            continue
        rf = parse_revision_file(p, blob)
        if rf is not None and "no down_revision" not in rf.notes:
            found.append(Deletion(rf.revision, p, c, rf.parsed_by, merge))
    return found, unreadable


# --------------------------------------------------------------------------- our tool


def run_tool(tool: Path, args: list[str], timeout: int = TOOL_TIMEOUT) -> dict[str, Any]:
    """Run the tool; return exit code, seconds, parsed JSON (or ``None``) and stderr's tail."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, "COLUMNS": "200"})
    except subprocess.TimeoutExpired:
        return {"rc": None, "seconds": timeout, "json": None, "stderr": f"timed out after {timeout} s",
                "args": args}
    seconds = time.perf_counter() - t0
    try:
        doc = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        doc = None
    return {"rc": proc.returncode, "seconds": round(seconds, 2), "json": doc,
            "stderr": proc.stderr.strip()[-1500:], "args": args}


def env_options(tool: Path, repo: Path, env: Env) -> tuple[list[str], dict[str, Any] | None]:
    """Options selecting ``env``: ``-c INI [--name SECTION]`` if the tool knows them, else ``--versions``."""
    versions = [a for loc in env.version_locations for a in ("--versions", str(repo / loc))]
    if env.ini and env.ini.endswith(".ini"):
        opts = ["-c", str(repo / env.ini)] + (["--name", env.section] if env.section not in (None, "alembic") else [])
        if not env.added_subfolders:
            res = run_tool(tool, ["check", str(repo), *opts, "--format", "json"])
            if not (res["rc"] == 2 and "No such option" in res["stderr"]):
                return opts, res
    return versions, None


def summarize_check(res: dict[str, Any]) -> dict[str, Any]:
    """Exit code, heads, failing problem kinds (with examples) and warnings of a ``check`` run.

    A problem fails unless its ``level`` is ``warning`` or its kind is in ``ignore``; ``missing``
    counts as a failing kind of its own.
    """
    doc = res.get("json") or {}
    ignored = set(doc.get("ignore", []))
    failing: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for p in doc.get("problems", []):
        soft = p.get("kind") in ignored or p.get("level") == "warning"
        (warned if soft else failing)[p["kind"]] += 1
        if len(examples[p["kind"]]) < 3:
            examples[p["kind"]].append(p.get("message", ""))
    if doc.get("missing"):
        (warned if "missing" in ignored else failing)["missing"] += len(doc["missing"])
        examples["missing"] = [", ".join(doc["missing"][:12]) + (" …" if len(doc["missing"]) > 12 else "")]
    error = None
    if not doc:
        error = ((res.get("stderr") or "").strip().splitlines() or ["no output"])[-1].strip(" │")
    return {"rc": res.get("rc"), "args": res.get("args"), "heads": doc.get("heads"), "failing": dict(failing),
            "warned": dict(warned), "examples": dict(examples),
            "warnings": len(doc.get("warnings", [])) + sum(warned.values()),
            "warning_texts": doc.get("warnings", [])[:5], "error": error, "seconds": res.get("seconds")}


def tool_deletions(scan: dict[str, Any]) -> tuple[dict[tuple[str, str, str], str], set[str]]:
    """(revision, path, commit) -> source for every 'deleted' sighting, and every revision cataloged."""
    dels: dict[tuple[str, str, str], str] = {}
    for rev in scan.get("revisions", []):
        for cand in rev.get("candidates", []):
            for s in cand.get("sightings", []):
                if s.get("event") == "deleted" and s.get("commit"):
                    dels.setdefault((rev["revision"], s.get("path") or "", s["commit"]), s.get("source", "?"))
    return dels, {r["revision"] for r in scan.get("revisions", [])}


def compare_deletions(repo: Path, truth: list[Deletion], scan: dict[str, Any] | None) -> dict[str, Any]:
    """Which deletions the tool reports with the same commit, which it misses, and why when clear.

    The main count is over non-merge commits; deletions a merge shows against its first parent are
    counted apart (``merge_truth``, ``merge_same``), since the tool's events are first-parent ones.
    """
    plain = [d for d in truth if not d.merge]
    merged = [d for d in truth if d.merge]
    base = {"truth": len(plain), "merge_truth": len(merged)}
    if not scan:
        return {**base, "same": None, "merge_same": None, "missed": [], "merge_missed": [], "extra": {}}
    tdels, cataloged = tool_deletions(scan)
    in_head = set(git(repo, "rev-list", "HEAD").decode().split())
    by_rev_path: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (rev, path, commit) in tdels:
        by_rev_path[(rev, path)].append(commit)

    deleted_by = defaultdict(set)  # (revision, path) -> the non-merge commits git says deleted it
    for d in plain:
        deleted_by[(d.revision, d.path)].add(d.commit)

    def misses(items: list[Deletion]) -> tuple[int, list[dict[str, str]]]:
        same, missed = 0, []
        for d in items:
            if (d.revision, d.path, d.commit) in tdels:
                same += 1
                continue
            others = by_rev_path.get((d.revision, d.path), [])
            if d.merge and set(others) & deleted_by[(d.revision, d.path)]:
                same += 1  # the merge only carried it in: the tool names the branch commit git names
                continue
            if d.revision not in cataloged:
                why = "revision not cataloged at all"
            elif others:
                why = "tool gives only other deleting commit(s) for this path"
            else:
                why = "revision cataloged, but no deletion of this path recorded"
            if d.parsed_by == "regex":
                why += "; the deleted content is Python 2 syntax"
            why += "" if d.commit in in_head else "; commit not in HEAD's history"
            missed.append({"revision": d.revision, "path": d.path, "commit": d.commit[:10], "why": why,
                           "tool_commits": ", ".join(sorted(c[:10] for c in others))})
        return same, missed

    same, missed = misses(plain)
    merge_same, merge_missed = misses(merged)
    truth_keys = {(d.revision, d.path, d.commit) for d in truth}
    merges = set(git(repo, "rev-list", "--all", "--merges").decode().split())
    extra: Counter[str] = Counter()
    for (rev, path, commit), source in tdels.items():
        if (rev, path, commit) not in truth_keys:
            extra[("merge commit, " if commit in merges else "") + f"source {source}"] += 1
    return {**base, "same": same, "merge_same": merge_same, "missed": missed, "merge_missed": merge_missed,
            "extra": dict(extra)}


# --------------------------------------------------------------------------- one repository


def tracked_files(repo: Path) -> list[str]:
    """Tracked paths at HEAD that exist in the work tree."""
    return [p for p in git(repo, "ls-files", "-z").decode(errors="surrogateescape").split("\0")
            if p and (repo / p).is_file()]


def judge(name: str, repo: Path, tool: Path, python: str, notes: list[str], source: str) -> dict[str, Any]:
    """Everything the report says about one work tree."""
    repo = repo.resolve()
    t0 = time.perf_counter()
    tracked = tracked_files(repo)
    revfiles: dict[str, RevFile] = {}
    for rel in tracked:
        if rel.endswith(".py") and not any(part in SKIP_PARTS for part in rel.split("/")):
            data = (repo / rel).read_bytes()
            if b"down_revision" in data:
                rf = parse_revision_file(rel, data)
                if rf is not None:
                    revfiles[rel] = rf
    envs = discover_envs(repo, tracked, revfiles)
    result: dict[str, Any] = {
        "name": name, "source": source, "clone_notes": notes,
        "head": git(repo, "rev-parse", "HEAD").decode().strip(),
        "commits": int(git(repo, "rev-list", "--all", "--count").decode()),
        "environments": [],
    }
    default_check = summarize_check(run_tool(tool, ["check", str(repo), "--format", "json"]))
    result["default_check"] = default_check
    for env in envs:
        files = env_files(repo, env)
        parsed = [revfiles.get(f) or parse_revision_file(f, (repo / f).read_bytes()) for f in files]
        revs = [r for r in parsed if r is not None]
        heads, dangling = ast_heads(revs)
        truth = alembic_truth(repo, env, python)
        head_files = {}
        for loc in env.version_locations[:1]:
            for f in sorted((repo / loc).glob("*HEAD*")) if (repo / loc).is_dir() else []:
                if f.is_file() and f.suffix == "" and f.stat().st_size < 2000:
                    head_files[f.name] = f.read_text(errors="replace").split()
        opts, res = env_options(tool, repo, env)
        if res is None:
            res = run_tool(tool, ["check", str(repo), *opts, "--format", "json"])
        check = summarize_check(res)
        check["options"] = [o.replace(str(repo) + "/", "") for o in opts]
        result["environments"].append({
            "env": asdict(env),
            "ast": {"files": len(files), "revisions": len(revs), "heads": heads, "unknown_down_revisions": dangling,
                    "non_revision_files": [f for f, r in zip(files, parsed) if r is None][:5],
                    "python2": sum(r.parsed_by == "regex" for r in revs)},
            "alembic": truth,
            "head_files": head_files,
            "check": check,
        })
    # cold scan: what the tool picks by itself; when it asks for a choice (several environments),
    # one scan per environment, their revisions put together (the first one cold, the rest cached)
    scan_opts: list[str] = []
    scan = run_tool(tool, ["scan", str(repo), "--json", "--no-cache"])
    sdoc = scan["json"]
    if sdoc is None and "several Alembic" in scan["stderr"]:
        merged: dict[str, Any] | None = None
        seconds = 0.0
        for n, env in enumerate(envs):
            opts, _res = env_options(tool, repo, env)
            one = run_tool(tool, ["scan", str(repo), *opts, "--json", *(["--no-cache"] if n == 0 else [])])
            seconds += one["seconds"]
            scan_opts += opts
            if one["json"] is None:
                continue
            if merged is None:
                merged = one["json"]
            else:
                merged["revisions"] = merged["revisions"] + one["json"]["revisions"]
                merged["versions_dirs"] = merged["versions_dirs"] + one["json"]["versions_dirs"]
        if merged is not None:
            scan = {**scan, "rc": 0, "seconds": round(seconds, 2), "json": merged}
            sdoc = merged
    truth_dels, unreadable = deleted_revision_files(repo)
    result["scan"] = {
        "rc": scan["rc"], "seconds": scan["seconds"], "options": [o.replace(str(repo) + "/", "") for o in scan_opts],
        "versions_dirs": (sdoc or {}).get("versions_dirs"), "revisions": len((sdoc or {}).get("revisions", [])),
        "present": sum(1 for rv in (sdoc or {}).get("revisions", []) if rv.get("present")),
        "error": None if sdoc else scan["stderr"].splitlines()[-1:],
    }
    result["deletions"] = compare_deletions(repo, truth_dels, sdoc)
    plain = [d for d in truth_dels if not d.merge]
    result["deletions"]["distinct_revisions"] = len({d.revision for d in plain})
    result["deletions"]["unreadable"] = unreadable[:20]
    result["deletions"]["python2"] = sum(d.parsed_by == "regex" for d in plain)
    result["seconds_total"] = round(time.perf_counter() - t0, 1)
    return result


# --------------------------------------------------------------------------- report


def _short(ids: list[str] | None, limit: int = 6) -> str:
    """Backquoted IDs, at most ``limit`` of them."""
    if ids is None:
        return "—"
    if not ids:
        return "(none)"
    shown = ", ".join(f"`{i}`" for i in ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")


def _kinds(failing: dict[str, int]) -> str:
    """``kind count, ...`` or a dash."""
    return ", ".join(f"{k} {v}" for k, v in sorted(failing.items())) or "—"


def default_env(r: dict[str, Any]) -> dict[str, Any] | None:
    """The environment the tool's option-less run looked at (its versions dirs are all in it)."""
    dirs = set(r["scan"].get("versions_dirs") or [])
    if r["scan"]["options"] or not dirs:
        return None
    for e in r["environments"]:
        if dirs <= set(e["env"]["version_locations"]):
            return e
    return None


def discrepancies(r: dict[str, Any]) -> list[str]:
    """Where the tool and the ground truth disagree, one line each (examples included)."""
    found = []
    dc, de = r["default_check"], default_env(r)
    if dc["error"]:
        found.append(f"`check` with no options stops: {dc['error']}")
    elif de is not None and de["alembic"].get("heads") is not None and \
            sorted(dc["heads"] or []) != sorted(de["alembic"]["heads"]):
        found.append(f"`check` with no options: heads {_short(dc['heads'])}, Alembic (`{de['env']['name']}`): "
                     f"{_short(de['alembic']['heads'])}")
    for e in r["environments"]:
        a, c, name = e["alembic"], e["check"], e["env"]["name"]
        if a.get("error"):
            found.append(f"`{name}`: Alembic could not load the environment ({a['error']}); ast heads "
                         f"{_short(e['ast']['heads'])}, tool heads {_short(c['heads'])}")
        elif e.get("head_files") and sorted(a["heads"]) != sorted(h for v in e["head_files"].values() for h in v):
            found.append(f"`{name}`: Alembic heads {_short(a['heads'])} differ from the project's head files")
        if not a.get("error") and c["heads"] is not None and sorted(c["heads"]) != sorted(a["heads"]):
            found.append(f"`{name}`: heads differ: Alembic {_short(a['heads'])}, tool {_short(c['heads'])}")
        if c["failing"] and not a.get("error"):
            clean = "" if a.get("warnings") else " with no warning"
            found.append(f"`{name}`: `check` exits {c['rc']} ({_kinds(c['failing'])}) where Alembic loads all "
                         f"{a['revisions']} revisions{clean}:")
            for kind in sorted(c["failing"]):
                found += [f"  - {kind}: {m[:400]}" for m in c["examples"].get(kind, [])]
        if c["error"]:
            found.append(f"`{name}`: `check {' '.join(c['options'])}` stops: {c['error']}")
    d = r["deletions"]
    for label, items in (("deletion", d["missed"]), ("merge deletion (vs first parent)", d["merge_missed"])):
        for why, n in Counter(m["why"] for m in items).most_common():
            ex = [m for m in items if m["why"] == why][:3]
            found.append(f"{n} {label}(s) not reported with the same commit: {why}; e.g. "
                         + "; ".join(f"`{m['revision']}` {m['path']} @ {m['commit']}"
                                     + (f" (tool: {m['tool_commits']})" if m["tool_commits"] else "") for m in ex))
    return found


METHOD = """\
# migration-archaeologist on real repositories

Generated by `benchmarks/real_repos.py`. It shows the state of the tool as the
`migration-archaeologist` command of its checkout ran it, and nothing later:

    {commit}

Rerun the script after a fix (`python benchmarks/real_repos.py /work/.mirror --clones /tmp/real
--keep-clones /tmp/real -o docs/real-repositories.md`). "cold scan s" is one wall-clock run of
`scan --json --no-cache` on a shared machine: it varies by up to 2× between runs.

The repositories: CTFd, redash, indico, ckan, quay, neutron-vpnaas and keystone, plus two chosen
for what they exercise: openstack/neutron (expand/contract branches over 27 release folders, a
squash of the Liberty branch and its revert, 42k commits) and pypa/warehouse (`script_location =
warehouse:migrations` set in code, no `alembic.ini`; a partial mirror, one blob missing). Three more
for issue 23's classes: gnocchixyz/gnocchi (`script_location = gnocchi.indexer:alembic`, a
`package:path`), flaskbb/flaskbb (Flask-Alembic: `script_location = flaskbb/migrations` set in a
config dict, revision files in that folder itself, an older `migrations/versions` in history) and
inveniosoftware/invenio-accounts (a plugin: `setup.cfg` hands `invenio_accounts/alembic` to the host
through the `invenio_db.alembic` entry point, and its branch's base `depends_on` invenio-db's
`dbdbc1b19cf2`, which this repository never held; Alembic alone cannot load such a folder, `KeyError:
'dbdbc1b19cf2'`, so there the heads are compared with the `ast` reading). Mirrors
whose checkout fails on a missing blob are checked out path by path, without the unreadable ones.

## How the ground truth was computed

None of it imports `migration_archaeologist`.

* **Environments.** Every tracked `alembic.ini` (each section with `script_location`; an empty
  `[alembic]` next to `env.py` and `versions/` is a Flask-Migrate folder), `[tool.alembic]` in
  `pyproject.toml`, read with `configparser` and `%(here)s`, `version_locations` split by
  `path_separator` / `version_path_separator` as Alembic splits them, `package:path` resolved in the
  repository. Two cases are set by the projects' own code, and the report says so where it applies:
  OpenStack projects add `versions/<release>/{{expand,contract}}` to `version_locations` in their CLI
  (keystone and neutron name only `script_location` in `alembic.ini`, neutron-vpnaas has no
  `alembic.ini`), so every folder under a versions folder that holds revision files is a version
  location; a folder of revision files that no configuration names (warehouse sets
  `script_location = warehouse:migrations` in `warehouse/db.py`, CTFd plugins in
  `CTFd/plugins/migrations.py`) is an environment of its own.
* **Alembic's heads.** A child process (`python -I -B`, 180 s timeout, a temporary working folder)
  builds `alembic.script.ScriptDirectory(script_location, version_locations=[...])` and prints
  `get_heads()`, the number of revisions and the branch labels. Revision files import their
  application (`from neutron.db.migration import cli`, `from indico.core.db import ...`); a module
  that code under the repository imports and that does not exist becomes a stub (callable, iterable,
  usable as a base class; `EXPAND_BRANCH` / `CONTRACT_BRANCH` are `'expand'` / `'contract'`), and a
  name a `from stub import *` should have bound becomes a stub too (quay). The repository is not put
  on `sys.path`. OpenStack's `EXPAND_HEAD` / `CONTRACT_HEAD` files, where present, are a third read.
* **ast heads.** Module-level `revision` / `down_revision` literals of the `.py` files Alembic would
  load from the same locations; heads are revisions no file names as a `down_revision`.
* **Deleted revision files.** `git log --all --no-merges --diff-merges=off --no-renames
  --diff-filter=D --name-only` (one process; a rename counts as a deletion of the old path), `.py`
  paths only, contents of `<commit>^:<path>` read by one `git cat-file --batch`; a revision file is
  one with a module-level string `revision` and a `down_revision` (by `ast`, or by a regex for files
  that are Python 2 only). A deletion matches when the tool's `scan --json` has a `deleted`
  sighting with the same revision, path and commit. What merges show against their first parent
  (`--merges --diff-merges=first-parent`) is counted apart: the tool names the commit on the merged
  branch that deleted the file, not the merge that carried the deletion in, so "tool: same" there
  counts a merge deletion as matched when the tool names the merge itself (a conflict resolved by
  deleting) or the non-merge commit that `git log --no-merges` says deleted that path. The tool's
  extra `deleted` sightings come from commits no ref reaches (`source unreachable`), which
  `git log --all` cannot see.
* **The tool.** `migration-archaeologist check REPO --format json` with no options, then per
  environment `check -c INI` (falling back to `--versions DIR`... when the tool answers
  `No such option`, exit 2; environments whose locations the project's code sets always get
  `--versions`), and one cold `scan REPO --json --no-cache` (one per environment, their revisions
  put together, when the tool asks which environment to scan). A problem fails the check unless its `level` is
  `warning`; `missing` counts as a failing kind.

"""


def render_markdown(results: list[dict[str, Any]], tool_commit: str) -> str:
    """The human report: the method, two summary tables, then a section per repository."""
    out = [
        METHOD.format(commit=tool_commit) + "## Results", "",
        "| repository | commits | environment | revisions at HEAD (Alembic) | Alembic heads | ast heads "
        "| tool heads | heads agree | check exit | failing problems by kind "
        "| warnings (problem kinds at warning level) |",
        "|---|---:|---|---:|---|---|---|---|---:|---|---|",
    ]
    for r in results:
        dc, de = r["default_check"], default_env(r)
        rows = [("*(check, no options)*", de["alembic"] if de else {}, dc)]
        rows += [(f"`{e['env']['name']}`", e["alembic"], e["check"]) for e in r["environments"]]
        for label, a, c in rows:
            ok = a.get("heads") is not None and c["heads"] is not None
            agree = "—" if not ok else "yes" if sorted(a["heads"]) == sorted(c["heads"]) else "**no**"
            alembic_heads = "error" if a.get("error") else _short(a.get("heads"), 3) if a else "—"
            ast_h = "—" if label.startswith("*") else _short(next(e["ast"]["heads"] for e in r["environments"]
                                                                 if f"`{e['env']['name']}`" == label), 3)
            failing = _kinds(c["failing"]) if not c["error"] else "stops: " + c["error"][:80]
            count = a.get("revisions", "—") if a else "—"
            if label.startswith("*") and not r["scan"]["options"]:
                count = f"{count} (tool: {r['scan'].get('present')} present)"
            out.append(f"| {r['name']} | {r['commits']} | {label} | {count} "
                       f"| {alembic_heads} | {ast_h} | {_short(c['heads'], 3)} | {agree} | {c['rc']} | {failing} "
                       f"| {c['warnings']}" + (f" ({_kinds(c['warned'])})" if c["warned"] else "") + " |")
    out += ["", "| repository | deleted revision files (non-merge commits) | distinct revisions | tool: same "
            "deleting commit | missed | merge deletions vs first parent | tool: same or the branch's deleting commit | tool extras | cold scan s |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in results:
        d = r["deletions"]
        extras = ", ".join(f"{k} {v}" for k, v in sorted(d.get("extra", {}).items())) or "—"
        out.append(f"| {r['name']} | {d['truth']} | {d['distinct_revisions']} | {d['same']} | {len(d['missed'])} "
                   f"| {d['merge_truth']} | {d['merge_same']} | {extras} | {r['scan']['seconds']} |")
    for r in results:
        out += ["", f"## {r['name']}", "",
                f"HEAD `{r['head'][:10]}`, {r['commits']} commits (`git rev-list --all`), from {r['source']}."]
        out += [f"- clone: {n}" for n in r["clone_notes"]]
        dc = r["default_check"]
        out.append(f"- `check` with no options: exit {dc['rc']}, heads {_short(dc['heads'])}"
                   + (f"; stops: {dc['error']}" if dc["error"] else "")
                   + (f"; failing: {_kinds(dc['failing'])}" if dc["failing"] else ""))
        found = discrepancies(r)
        out += ["", "Disagreements:" if found else "No disagreement with the ground truth.", ""]
        out += [f if f.startswith("  -") else f"- {f}" for f in found]
        for e in r["environments"]:
            env, a, c, s = e["env"], e["alembic"], e["check"], e["ast"]
            out += ["", f"### `{env['name']}`", "",
                    f"- origin: {env['origin']}; script_location `{env['script_location']}`"
                    + ("; recursive_version_locations" if env["recursive"] else ""),
                    f"- version_locations used: {', '.join('`' + v + '`' for v in env['version_locations'])}"]
            out += [f"- note: {n}" for n in env["notes"]]
            if a.get("error"):
                out.append(f"- Alembic: **error**: {a['error']}")
            else:
                out.append(f"- Alembic {a.get('alembic')}: {a['revisions']} revisions, heads {_short(a['heads'], 12)}, "
                           f"branch labels {', '.join(sorted(a.get('branch_labels', {}))) or '—'}")
            if e.get("head_files"):
                out.append("- the project's own head files: " + ", ".join(
                    f"{k} = {' '.join(v)}" for k, v in e["head_files"].items()))
            if a.get("stubbed"):
                out.append(f"- stubbed imports: {', '.join(a['stubbed'])}"
                           + (f"; names a star import of a stub should bind, stubbed as builtins: "
                              f"{', '.join(a['injected_names'])}" if a.get("injected_names") else ""))
            if a.get("warnings"):
                out.append(f"- Alembic warnings: {'; '.join(a['warnings'][:3])}")
            out.append(f"- ast: {s['revisions']} revision files of {s['files']} .py, heads {_short(s['heads'], 12)}"
                       + (f", down_revisions nobody declares: {_short(s['unknown_down_revisions'])}"
                          if s["unknown_down_revisions"] else "")
                       + (f", not revision files: {', '.join(s['non_revision_files'])}"
                          if s["non_revision_files"] else ""))
            out.append(f"- tool `check {' '.join(c['options'])}`: exit {c['rc']}, heads {_short(c['heads'], 12)}"
                       + (f"; stops: {c['error']}" if c["error"] else ""))
            for kind, msgs in sorted(c["examples"].items()):
                level = "fails" if kind in c["failing"] else "warning"
                n = c["failing"].get(kind) or c["warned"].get(kind)
                out.append(f"  - {kind} ×{n} ({level}), e.g.: " + " | ".join(m[:240] for m in msgs[:2]))
            if c["warning_texts"]:
                out.append(f"  - warnings: {' | '.join(w[:200] for w in c['warning_texts'][:3])}")
        d, sc = r["deletions"], r["scan"]
        out += ["", f"Deleted revision files in non-merge commits: {d['truth']} ({d['distinct_revisions']} revisions"
                + (f", {d['python2']} in Python 2 syntax" if d["python2"] else "") + f"), {d['same']} reported by the "
                f"tool with the same commit; merges vs their first parent: {d['merge_truth']}, {d['merge_same']} "
                f"reported. Cold `scan --json --no-cache{' ' + ' '.join(sc['options']) if sc['options'] else ''}`: "
                f"{sc['seconds']} s, exit {sc['rc']}, {sc['revisions']} revisions cataloged, versions dirs "
                f"{_short(sc['versions_dirs'])}."]
        if d["unreadable"]:
            out.append(f"- unreadable in git (partial mirror): {', '.join(d['unreadable'][:5])}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def emit(text: str, output: str | None) -> None:
    """The report on stdout, and in ``output`` too when given (``-o``)."""
    if output:
        Path(output).write_text(text)
    sys.stdout.write(text)


def describe_tool(checkout: Path) -> str:
    """The tool's commit, and a fingerprint of uncommitted changes to its code when there are any."""
    commit = git(checkout, "rev-parse", "--short", "HEAD", check=False).decode().strip() or "?"
    diff = git(checkout, "diff", "HEAD", "--", "src", check=False)
    if not diff:
        return commit
    files = len(git(checkout, "diff", "HEAD", "--name-only", "--", "src", check=False).split())
    digest = hashlib.sha256(diff).hexdigest()[:12]
    return f"{commit} plus uncommitted changes to {files} file(s) under src/ (git diff sha256 {digest})"


def targets(args: argparse.Namespace) -> Iterator[tuple[str, Path | None, Path | None]]:
    """(name, mirror git dir or None, existing clone or None) for every repository to judge."""
    seen = set()
    if args.clones:
        for sub in sorted(Path(args.clones).iterdir()):
            if (sub / ".git").exists():
                seen.add(sub.name)
                yield sub.name, None, sub
    if args.mirrors:
        for sub in sorted(Path(args.mirrors).iterdir()):
            gd = find_git_dir(sub) if sub.is_dir() else None
            name = sub.name.split("+", 1)[-1]
            if gd is not None and name not in seen:
                yield name, gd, None


def main(argv: list[str] | None = None) -> int:
    """Parse options, judge each repository, print Markdown (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mirrors", nargs="?", help="folder of git mirrors, one per subfolder")
    ap.add_argument("--clones", help="folder of existing work-tree clones, one per subfolder")
    ap.add_argument("--keep-clones", help="clone mirrors into this folder and keep (reuse) them")
    ap.add_argument("--only", action="append", default=[], help="judge only this repository (repeatable)")
    ap.add_argument("--results", help="save each repository's JSON result here")
    ap.add_argument("--reuse", action="store_true", help="with --results: reuse saved results")
    ap.add_argument("--tool", default=str(DEFAULT_TOOL), help="the migration-archaeologist executable")
    ap.add_argument("--tool-source", default="/work/main" if Path("/work/main/.git").exists() else ".",
                    help="the tool's checkout, for the commit the report names")
    ap.add_argument("--python", default=sys.executable, help="interpreter with alembic for the child")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("-o", "--output", help="write the report here too")
    args = ap.parse_args(argv)
    if not args.mirrors and not args.clones:
        ap.error("give MIRRORS or --clones DIR")
    tool = Path(args.tool)
    results = []
    for name, mirror, work in targets(args):
        if args.only and name not in args.only:
            continue
        saved = Path(args.results) / f"{name}.json" if args.results else None
        if saved and args.reuse and saved.is_file():
            results.append(json.loads(saved.read_text()))
            continue
        print(f"judging {name} …", file=sys.stderr, flush=True)
        notes: list[str] = []
        tmp = None
        try:
            if work is None:
                assert mirror is not None
                if args.keep_clones:
                    work = Path(args.keep_clones) / name
                    if not (work / ".git").exists():
                        notes = clone(mirror, work)
                else:
                    tmp = tempfile.mkdtemp(prefix=f"ma-real-{name}-")
                    work = Path(tmp) / name
                    notes = clone(mirror, work)
                source = f"mirror {mirror}"
            else:
                origin = git(work, "remote", "get-url", "origin", check=False).decode().strip()
                source = f"clone {work}" + (f" of {origin}" if origin else "")
                status = git(work, "status", "--porcelain", "--untracked-files=no").decode().splitlines()
                if status:
                    notes = [f"work tree differs from HEAD: {len(status)} path(s), e.g. {status[0].strip()}"]
            res = judge(name, work, tool, args.python, notes, source)
            res["tool"] = describe_tool(Path(args.tool_source))
        except Exception as exc:  # one broken repository must not stop the run
            res = {"name": name, "error": f"{type(exc).__name__}: {exc}"}
            print(f"  {name}: {res['error']}", file=sys.stderr)
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
        if saved:
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps(res, indent=1))
        results.append(res)
    good = [r for r in results if "error" not in r]
    states = sorted({r.get("tool", "?") for r in good}) or [describe_tool(Path(args.tool_source))]
    tool_commit = states[0] if len(states) == 1 else " / ".join(states) + " (it changed during the run)"
    if args.json:
        text = json.dumps({"tool_commit": tool_commit, "repositories": results}, indent=1) + "\n"
    else:
        text = render_markdown(good, tool_commit)
        text += "".join(f"\n{r['name']}: not judged: {r['error']}\n" for r in results if "error" in r)
    emit(text, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
