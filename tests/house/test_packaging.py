"""Packaging: what the package imports is what pyproject.toml declares, and the wheel carries py.typed.

mypy (run as Python 3.10, requires-python's floor) found ``import tomli`` in settings.py and
environments.py with no dependency declaring it: only Alembic 1.15+ happens to pull tomli in on 3.10,
and pyproject allows Alembic 1.13.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "migration_archaeologist"

#: import name -> distribution name, where they differ
DISTRIBUTIONS = {"git": "gitpython", "yaml": "pyyaml", "psycopg": "psycopg", "pymysql": "pymysql"}
#: imported, but installed by a declared dependency in every version pyproject allows
TRANSITIVE = {"mako": "alembic (every release requires Mako, its template engine)"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, str]:
    """Distribution name -> its environment marker ('' when none), runtime dependencies only."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra, items in project.get("optional-dependencies", {}).items():
        if extra != "dev":
            requirements += items
    out = {}
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        name = re.match(r"[A-Za-z0-9._-]+", spec.strip()).group(0)
        out[_normalise(name)] = marker.strip()
    return out


def _imports() -> dict[str, list[str]]:
    """Top-level third-party import names -> the files importing them."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("__future__", "migration_archaeologist"):
                    continue
                found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared() -> None:
    declared = _declared()
    missing = {
        top: files
        for top, files in _imports().items()
        if top not in TRANSITIVE and _normalise(DISTRIBUTIONS.get(top, top)) not in declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_tomli_is_declared_for_python_before_3_11() -> None:
    marker = _declared().get("tomli")
    assert marker is not None, "settings.py and environments.py import tomli on Python 3.10"
    assert "python_version" in marker and "3.11" in marker, marker


def test_py_typed_is_package_data() -> None:
    assert (SRC / "py.typed").is_file()
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["migration_archaeologist"]


@pytest.mark.parametrize("name", ["LICENSE", "CHANGELOG.md"])
def test_release_files_exist(name: str) -> None:
    assert (ROOT / name).is_file()


def test_pre_commit_runs_the_pinned_tools() -> None:
    """.pre-commit-config.yaml and the dev extra (what .ci/run installs) name the same versions."""
    import yaml

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["dev"]
    pins = dict(requirement.split("==") for requirement in dev if "==" in requirement)
    assert {"ruff", "mypy", "build", "twine"} <= pins.keys(), pins
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    revs = {repo["repo"]: repo.get("rev") for repo in config["repos"]}
    assert revs["https://github.com/astral-sh/ruff-pre-commit"] == f"v{pins['ruff']}"
    local = [hook for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]]
    assert any(hook["id"] == "mypy" and hook["entry"] == "mypy" for hook in local)  # the dev venv's pinned mypy
