"""Alembic environments found statically, read the way Alembic reads them: real files in temp folders.

Where Alembic itself can read the same files (no package to import from the repository), the
``*_as_alembic_reads_it`` tests ask Alembic's ``Config`` / ``ScriptDirectory.from_config`` and
compare; nothing from the temp repositories is executed (from_config reads, it does not run env.py).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from migration_archaeologist.project.selection import find_configs, select_config
from migration_archaeologist.project.alembic_options import AlembicConfig
from migration_archaeologist.project.environments import MAX_DEPTH, find_environments
from migration_archaeologist.errors import EnvironmentProblem, UsageError


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def script_dir(root: Path, folder: str, versions: bool = True) -> None:
    """An Alembic script folder: env.py, and versions/ unless it was lost."""
    write(root, {f"{folder}/env.py": "# env\n", f"{folder}/script.py.mako": "# mako\n"})
    if versions:
        (root / folder / "versions").mkdir(parents=True, exist_ok=True)


def rel(root: Path, paths: tuple[Path, ...] | Path | None) -> object:
    if paths is None:
        return None
    if isinstance(paths, Path):
        return paths.relative_to(root).as_posix()
    return [p.relative_to(root).as_posix() for p in paths]


def only(root: Path) -> AlembicConfig:
    envs = find_environments(root)
    assert len(envs) == 1, envs
    return envs[0]


# -- ini sections -------------------------------------------------------------------------------


def test_default_section_and_here(tmp_path: Path) -> None:
    script_dir(tmp_path, "svc/migrations")
    write(tmp_path, {"svc/alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\nsqlalchemy.url = sqlite:///%(here)s/x.db\n"})
    env = only(tmp_path)
    assert (env.kind, env.section, env.problem, env.recursive) == ("ini", "alembic", None, False)
    assert env.path == tmp_path / "svc/alembic.ini"
    assert rel(tmp_path, env.script_location) == "svc/migrations"
    assert rel(tmp_path, env.versions_dirs) == ["svc/migrations/versions"]
    assert env.sqlalchemy_url == f"sqlite:///{tmp_path.as_posix()}/svc/x.db"
    assert find_configs(tmp_path) == [env]


def test_several_sections_in_one_ini(tmp_path: Path) -> None:
    """Like SkyPilot's: no [alembic], shared keys in [DEFAULT], one section per database."""
    for name in ("state", "jobs"):
        script_dir(tmp_path, f"pkg/alembic_{name}")
    write(tmp_path, {"pkg/setup/alembic.ini": (
        "[DEFAULT]\nprepend_sys_path = .\npath_separator = os\n\n"
        "[state_db]\nscript_location = %(here)s/../alembic_state\n\n"
        "[jobs_db]\nscript_location = %(here)s/../alembic_jobs\nsqlalchemy.url = sqlite:///jobs.db\n\n"
        "[loggers]\nkeys = root\n\n[formatter_generic]\nformat = %(levelname)-5.5s %(message)s\n"
    )})
    envs = find_environments(tmp_path)
    assert [(e.section, rel(tmp_path, e.script_location), rel(tmp_path, e.versions_dirs)) for e in envs] == [
        ("jobs_db", "pkg/alembic_jobs", ["pkg/alembic_jobs/versions"]),
        ("state_db", "pkg/alembic_state", ["pkg/alembic_state/versions"]),
    ]
    assert [e.label(tmp_path) for e in envs] == ["pkg/setup/alembic.ini [jobs_db]", "pkg/setup/alembic.ini [state_db]"]
    assert envs[0].sqlalchemy_url == "sqlite:///jobs.db" and envs[1].sqlalchemy_url is None
    ini = tmp_path / "pkg/setup/alembic.ini"
    assert select_config(envs, ini, "state_db") is envs[1]
    with pytest.raises(UsageError, match=r"holds several environments \(jobs_db, state_db\): choose one with --name"):
        select_config(envs, ini, None)


def test_script_location_in_default_is_not_every_section(tmp_path: Path) -> None:
    script_dir(tmp_path, "migrations")
    write(tmp_path, {"alembic.ini": "[DEFAULT]\nscript_location = %(here)s/migrations\n\n[alembic]\n\n[loggers]\nkeys = root\n"})
    assert [e.section for e in find_environments(tmp_path)] == ["alembic"]


def test_pyramid_style_ini_with_alembic_sections(tmp_path: Path) -> None:
    """A non-alembic-named ini counts when a section holds script_location (``alembic -c development.ini -n ...``)."""
    write(tmp_path, {
        "development.ini": (
            "[app:main]\nuse = egg:myapp\nsession.lock_dir = %(here)s/tmp\n\n"
            "[alembic_base]\nscript_location=myapp.base:alembic\n\n"
            "[alembic_ziggurat]\nscript_location=ziggurat_foundations:migrations\n"
        ),
        "tox.ini": "[tox]\nenvlist = py311\n",
        "myapp/__init__.py": "",
        "myapp/base/__init__.py": "",
    })
    script_dir(tmp_path, "myapp/base/alembic")
    base, zig = find_environments(tmp_path)
    assert (base.section, rel(tmp_path, base.script_location), base.problem) == ("alembic_base", "myapp/base/alembic", None)
    assert zig.script_location is None and zig.versions_dirs == ()
    assert zig.problem == (
        "script_location 'ziggurat_foundations:migrations': package 'ziggurat_foundations' is not in the repository"
        " (no ziggurat_foundations/__init__.py; Alembic would import it)"
    )
    assert find_configs(tmp_path) == [base]
    with pytest.raises(EnvironmentProblem, match=r"development.ini \[alembic_ziggurat\]: script_location"):
        select_config(find_environments(tmp_path), None, "alembic_ziggurat", tmp_path)


def test_unreadable_ini_is_reported_not_raised(tmp_path: Path) -> None:
    write(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = a\n[alembic]\nscript_location = b\n",
        "setup.ini": "[x\nbroken",  # not Alembic's: not reported
    })
    env = only(tmp_path)
    assert env.script_location is None and env.problem is not None
    assert env.problem.startswith("cannot be read: While reading from") and "section 'alembic' already exists" in env.problem
    assert find_configs(tmp_path) == []


def test_interpolation_only_the_program_can_fill(tmp_path: Path) -> None:
    script_dir(tmp_path, "alembic")
    write(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = postgresql://%(DB_USER)s@db/app\n",
        "other/alembic.ini": "[alembic]\nscript_location = %(root)s/alembic\n",
    })
    good, bad = find_environments(tmp_path)
    assert good.problem is None and good.sqlalchemy_url == "postgresql://%(DB_USER)s@db/app"  # raw: not a URL to use
    assert bad.problem == "script_location in [alembic] refers to %(root)s, which the file does not define"


def test_ini_without_script_location(tmp_path: Path) -> None:
    write(tmp_path, {"alembic.ini": "[alembic]\nsqlalchemy.url = sqlite://\n", "alembic_logging.ini": "[loggers]\nkeys = root\n"})
    env = only(tmp_path)
    assert env.problem == "no script_location (Alembic: No 'script_location' key found in configuration)"
    assert env.sqlalchemy_url == "sqlite://"


# -- paths --------------------------------------------------------------------------------------


def test_relative_paths_read_against_the_ini_then_the_root(tmp_path: Path) -> None:
    script_dir(tmp_path, "backend/alembic")
    script_dir(tmp_path, "services/api/db")
    write(tmp_path, {
        "backend/alembic.ini": "[alembic]\nscript_location = alembic\n",  # run as: cd backend && alembic
        "services/api/alembic.ini": "[alembic]\nscript_location = services/api/db\nversion_locations = services/api/db/v\n",
    })
    backend, api = find_environments(tmp_path)
    assert rel(tmp_path, backend.script_location) == "backend/alembic"
    assert rel(tmp_path, api.script_location) == "services/api/db"  # run from the root: alembic -c services/api/alembic.ini
    assert rel(tmp_path, api.versions_dirs) == ["services/api/db/v"]


def test_lost_script_folder_is_read_against_the_ini(tmp_path: Path) -> None:
    write(tmp_path, {"svc/alembic.ini": "[alembic]\nscript_location = migrations\n"})
    assert rel(tmp_path, only(tmp_path).versions_dirs) == ["svc/migrations/versions"]


def test_outside_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        "alembic.ini": "[alembic]\nscript_location = /app/migrations\n",
        "b/alembic.ini": "[alembic]\nscript_location = %(here)s/../../elsewhere\n",
        "c/alembic.ini": "[alembic]\nscript_location = C:/app/migrations\n",
    })
    assert [e.problem for e in find_environments(repo)] == [
        "script_location '/app/migrations' is outside the repository",
        f"script_location '{repo.as_posix()}/b/../../elsewhere' is outside the repository",
        "script_location 'C:/app/migrations' is a Windows path; Alembic reads it as a package resource here",
    ]


# -- package:path ---------------------------------------------------------------------------------


def test_package_resource_resolved_in_the_repository(tmp_path: Path) -> None:
    write(tmp_path, {
        "src/myapp/__init__.py": "",
        "src/myapp/db/__init__.py": "",
        "alembic.ini": "[alembic]\nscript_location = myapp.db:migrations\nversion_locations = myapp.db:migrations/versions myapp:extra\n",
        "src/myapp/extra/.keep": "",
    })
    script_dir(tmp_path, "src/myapp/db/migrations")
    env = only(tmp_path)
    assert env.problem is None
    assert rel(tmp_path, env.script_location) == "src/myapp/db/migrations"
    assert rel(tmp_path, env.versions_dirs) == ["src/myapp/db/migrations/versions", "src/myapp/extra"]


def test_package_resource_with_several_colons(tmp_path: Path) -> None:
    """Alembic splits on every colon: 'myapp:server:database:_migrations' is myapp/server/database/_migrations."""
    write(tmp_path, {"myapp/__init__.py": "", "alembic.ini": "[alembic]\nscript_location = myapp:server:database:_migrations\n"})
    script_dir(tmp_path, "myapp/server/database/_migrations")
    assert rel(tmp_path, only(tmp_path).script_location) == "myapp/server/database/_migrations"


def test_package_found_from_the_ini_folder_and_its_parents(tmp_path: Path) -> None:
    write(tmp_path, {
        "services/api/app/__init__.py": "",
        "services/api/deploy/alembic.ini": "[alembic]\nscript_location = app:migrations\n",
    })
    script_dir(tmp_path, "services/api/app/migrations")
    assert rel(tmp_path, only(tmp_path).script_location) == "services/api/app/migrations"


def test_package_found_through_prepend_sys_path(tmp_path: Path) -> None:
    write(tmp_path, {"lib/pkg/__init__.py": "", "alembic.ini": "[alembic]\nscript_location = pkg:alembic\nprepend_sys_path = . lib\n"})
    script_dir(tmp_path, "lib/pkg/alembic")
    assert rel(tmp_path, only(tmp_path).script_location) == "lib/pkg/alembic"


def test_package_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "a/alembic.ini": "[alembic]\nscript_location = notthere:migrations\n",
        "b/alembic.ini": "[alembic]\nscript_location = my-app:migrations\n",
        "c/alembic.ini": "[alembic]\nscript_location = twice:migrations\n",
        "twice/__init__.py": "",
        "src/twice/__init__.py": "",
        "d/alembic.ini": "[alembic]\nscript_location = nsonly:migrations\n",
        "nsonly/migrations/env.py": "",  # a folder without __init__.py is not taken for the package
    })
    problems = [e.problem for e in find_environments(tmp_path)]
    assert problems == [
        "script_location 'notthere:migrations': package 'notthere' is not in the repository (no notthere/__init__.py; Alembic would import it)",
        "script_location 'my-app:migrations': 'my-app' is not a package name",
        "script_location 'twice:migrations': package 'twice' is in several places (twice, src/twice)",
        "script_location 'nsonly:migrations': package 'nsonly' is not in the repository (no nsonly/__init__.py; Alembic would import it)",
    ]
    script_dir(tmp_path, "src/twice/migrations")  # now only one of the two holds the folder
    assert rel(tmp_path, find_environments(tmp_path)[2].script_location) == "src/twice/migrations"


# -- version_locations and its separators -------------------------------------------------------------


@pytest.mark.parametrize(
    "keys, value",
    [
        ("path_separator = os", f"%(here)s/a{os.pathsep}%(here)s/b"),
        ("path_separator = :", "%(here)s/a:%(here)s/b"),
        ("path_separator = ;", "%(here)s/a; %(here)s/b"),
        ("path_separator = space", "%(here)s/a   %(here)s/b"),
        ("path_separator = newline", "\n    %(here)s/a\n    %(here)s/b"),
        ("version_path_separator = ;", "%(here)s/a;%(here)s/b"),  # the deprecated key still counts
        ("path_separator = ;\nversion_path_separator = space", "%(here)s/a;%(here)s/b"),  # the new key wins
        ("", "%(here)s/a, %(here)s/b"),  # no key: legacy splitting on commas and spaces
        ("", "%(here)s/a %(here)s/b"),
    ],
)
def test_version_locations_split(tmp_path: Path, keys: str, value: str) -> None:
    write(tmp_path, {"alembic.ini": f"[alembic]\nscript_location = %(here)s/s\n{keys}\nversion_locations = {value}\n"})
    env = only(tmp_path)
    assert env.problem is None
    assert rel(tmp_path, env.versions_dirs) == ["a", "b"]


def test_separator_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "a/alembic.ini": "[alembic]\nscript_location = %(here)s\nversion_path_separator = os  # Use os.pathsep.\nversion_locations = %(here)s/v\n",
        "b/alembic.ini": "[alembic]\nscript_location = %(here)s\nversion_path_separator = os  # Use os.pathsep.\n",  # unused: harmless
        "c/alembic.ini": "[alembic]\nscript_location = %(here)s\nversion_locations =\n    %(here)s/v1\n    %(here)s/v2\n",
    })
    a, b, c = find_environments(tmp_path)
    assert a.problem == (
        "'os  # Use os.pathsep.' is not a valid value for version_path_separator; expected 'space', 'newline', 'os', ':', ';'"
    )
    assert b.problem is None and rel(tmp_path, b.versions_dirs) == ["b/versions"]
    assert c.problem == "version_locations spans several lines but no path_separator = newline is set: Alembic would read it as one path"


@pytest.mark.parametrize(
    "keys, expected",
    [
        ("path_separator = os", ["a", "b"]),
        ("path_separator = space", ["a", "b"]),
        ("path_separator = newline", ["a", "b"]),
        ("version_path_separator = ;", ["a", "b"]),
        ("", ["a", "b"]),
    ],
)
def test_version_locations_as_alembic_reads_it(tmp_path: Path, keys: str, expected: list[str]) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    value = {
        "path_separator = os": f"%(here)s/a{os.pathsep}%(here)s/b",
        "path_separator = space": "%(here)s/a %(here)s/b",
        "path_separator = newline": "\n    %(here)s/a\n    %(here)s/b",
        "version_path_separator = ;": "%(here)s/a;%(here)s/b",
        "": "%(here)s/a, %(here)s/b",
    }[keys]
    script_dir(tmp_path, "s")
    ini = write(tmp_path, {"alembic.ini": f"[alembic]\nscript_location = %(here)s/s\n{keys}\nversion_locations = {value}\n"}) / "alembic.ini"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alembic_reads = ScriptDirectory.from_config(Config(str(ini)))._version_locations
    assert [Path(p) for p in alembic_reads] == list(only(tmp_path).versions_dirs) == [tmp_path / e for e in expected]


def test_package_resource_as_alembic_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same files, Alembic resolving through importlib.resources (the temp package is put on sys.path)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    write(tmp_path, {"src/ma_probe_pkg/__init__.py": "", "src/ma_probe_pkg/server/.keep": ""})
    script_dir(tmp_path, "src/ma_probe_pkg/server/database/_migrations")
    ini = write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = ma_probe_pkg:server:database:_migrations\n"}) / "alembic.ini"
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    script = ScriptDirectory.from_config(Config(str(ini)))
    env = only(tmp_path)
    assert Path(script.dir) == env.script_location
    assert [Path(p) for p in script._version_locations] == list(env.versions_dirs)


def test_recursive_version_locations(tmp_path: Path) -> None:
    write(tmp_path, {
        "a/alembic.ini": "[alembic]\nscript_location = %(here)s\nrecursive_version_locations = true\n",
        "b/alembic.ini": "[alembic]\nscript_location = %(here)s\nrecursive_version_locations = True\n",  # Alembic: == "true"
        "c/pyproject.toml": "[tool.alembic]\nscript_location = '%(here)s'\nrecursive_version_locations = true\n",
        "d/pyproject.toml": "[tool.alembic]\nscript_location = '%(here)s'\nrecursive_version_locations = 'yes'\n",
    })
    a, b, c, d = find_environments(tmp_path)
    assert (a.recursive, b.recursive, c.recursive) == (True, False, True)
    assert d.problem == "recursive_version_locations in [tool.alembic] must be true or false (Alembic: boolean value expected)"


def test_recursive_as_alembic_reads_it(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    for value in ("true", "True", "1"):
        ini = write(tmp_path, {"alembic.ini": f"[alembic]\nscript_location = %(here)s\nrecursive_version_locations = {value}\n"}) / "alembic.ini"
        assert ScriptDirectory.from_config(Config(str(ini))).recursive_version_locations is only(tmp_path).recursive


# -- pyproject.toml ---------------------------------------------------------------------------------


def test_pyproject_tool_alembic(tmp_path: Path) -> None:
    script_dir(tmp_path, "migrations")
    write(tmp_path, {"pyproject.toml": (
        "[project]\nname = 'x'\n\n[tool.alembic]\nscript_location = '%(here)s/migrations'\n"
        "version_locations = ['%(here)s/migrations/versions', '%(here)s/more']\n"
    )})
    env = only(tmp_path)
    assert (env.kind, env.section, env.problem, env.sqlalchemy_url) == ("pyproject", "tool.alembic", None, None)
    assert rel(tmp_path, env.versions_dirs) == ["migrations/versions", "more"]
    assert env.label(tmp_path) == "pyproject.toml"


def test_pyproject_beside_alembic_ini_is_one_environment(tmp_path: Path) -> None:
    """Alembic reads both: the ini's options first, then [tool.alembic]."""
    script_dir(tmp_path, "migrations")
    write(tmp_path, {
        "alembic.ini": "[alembic]\nsqlalchemy.url = sqlite:///app.db\n",
        "pyproject.toml": "[tool.alembic]\nscript_location = '%(here)s/migrations'\nversion_locations = ['%(here)s/v']\n",
        "svc/alembic.ini": "[alembic]\nscript_location = %(here)s/m\nversion_locations = %(here)s/mine\n",
        "svc/pyproject.toml": "[tool.alembic]\nscript_location = 'ignored'\nversion_locations = ['ignored']\nrecursive_version_locations = true\n",
    })
    top, svc = find_environments(tmp_path)
    assert (top.path.name, top.kind, top.sqlalchemy_url) == ("alembic.ini", "pyproject", "sqlite:///app.db")
    assert rel(tmp_path, top.script_location) == "migrations" and rel(tmp_path, top.versions_dirs) == ["v"]
    assert (svc.kind, rel(tmp_path, svc.versions_dirs), svc.recursive) == ("ini", ["svc/mine"], True)


def test_pyproject_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "a/pyproject.toml": "[tool.alembic]\nscript_location = 'x'\nbroken = \n",
        "b/pyproject.toml": "[project]\nname = \n",  # someone else's broken file
        "c/pyproject.toml": "[tool.alembic]\nscript_location = '%(here)s'\nversion_locations = '%(here)s/a %(here)s/b'\n",
        "d/pyproject.toml": "[tool]\nalembic = 3\n",
    })
    a, c, d = find_environments(tmp_path)
    assert a.problem is not None and a.problem.startswith("cannot be read: ")
    assert c.problem == "version_locations in [tool.alembic] must be a list of strings"
    assert d.problem == "[tool.alembic] is not a table (Alembic: Incorrect TOML format)"


# -- Flask-Migrate ----------------------------------------------------------------------------------


def test_flask_migrate_folder(tmp_path: Path) -> None:
    """Flask-Migrate's alembic.ini has no script_location: the program sets it to the folder."""
    script_dir(tmp_path, "migrations")
    write(tmp_path, {"migrations/alembic.ini": "[alembic]\n# template used to generate migration files\n\n[loggers]\nkeys = root\n"})
    env = only(tmp_path)
    assert (env.kind, env.section, env.problem) == ("flask-migrate", "alembic", None)
    assert env.path == tmp_path / "migrations/alembic.ini"
    assert rel(tmp_path, env.script_location) == "migrations"
    assert rel(tmp_path, env.versions_dirs) == ["migrations/versions"]
    assert select_config([env], Path("migrations"), None, tmp_path) is env  # Flask-Migrate's --directory
    assert select_config([env], Path("migrations/alembic.ini"), None, tmp_path) is env


def test_flask_migrate_whose_versions_folder_was_lost(tmp_path: Path) -> None:
    script_dir(tmp_path, "app/migrations", versions=False)
    write(tmp_path, {"app/migrations/alembic.ini": "[alembic]\n"})
    assert rel(tmp_path, only(tmp_path).versions_dirs) == ["app/migrations/versions"]


def test_flask_migrate_folder_without_ini(tmp_path: Path) -> None:
    script_dir(tmp_path, "migrations")
    script_dir(tmp_path, "db/schema")  # neither named migrations nor a Flask env.py: not guessed
    write(tmp_path, {"other/env.py": "from flask import current_app\n"})
    (tmp_path / "other/versions").mkdir()
    envs = find_environments(tmp_path)
    assert [(e.kind, e.label(tmp_path), rel(tmp_path, e.versions_dirs)) for e in envs] == [
        ("flask-migrate", "migrations", ["migrations/versions"]),
        ("flask-migrate", "other", ["other/versions"]),
    ]


def test_script_folder_named_by_an_ini_is_not_also_flask(tmp_path: Path) -> None:
    script_dir(tmp_path, "migrations")
    write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = migrations\n", "migrations/alembic.ini": "[alembic]\n"})
    env = only(tmp_path)
    assert (env.kind, env.label(tmp_path)) == ("ini", "alembic.ini")


# -- walking ------------------------------------------------------------------------------------


def test_nested_ckan_like_layout(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = %(here)s\nsqlalchemy.url = driver://user:pass@localhost/dbname\n"
    folders = ["ckan/migration", "ckanext/activity/migration/activity", "ckanext/tracking/migration/tracking",
               "ckanext/example_database_migrations/migration/example_database_migrations"]
    for folder in folders:
        script_dir(tmp_path, folder)
        write(tmp_path, {f"{folder}/alembic.ini": ini})
    write(tmp_path, {"contrib/alembic/generic/env.py": "", "contrib/alembic/generic/script.py.mako": ""})  # a template
    envs = find_environments(tmp_path)
    assert [rel(tmp_path, e.versions_dirs) for e in envs] == [[f"{f}/versions"] for f in sorted(folders)]
    with pytest.raises(UsageError) as error:
        select_config(envs, None, None, tmp_path)
    assert error.value.message == (
        "several Alembic environments found (ckan/migration/alembic.ini, ckanext/activity/migration/activity/alembic.ini, "
        "ckanext/example_database_migrations/migration/example_database_migrations/alembic.ini, "
        "ckanext/tracking/migration/tracking/alembic.ini): choose one with -c FILE and --name SECTION"
    )
    chosen = select_config(envs, Path("ckanext/activity/migration/activity/alembic.ini"), None, tmp_path)
    assert rel(tmp_path, chosen.script_location) == "ckanext/activity/migration/activity"


def test_depth_and_skipped_folders(tmp_path: Path) -> None:
    ini = "[alembic]\nscript_location = %(here)s\n"
    deep = "/".join(f"d{i}" for i in range(MAX_DEPTH))
    write(tmp_path, {
        f"{deep}/alembic.ini": ini,
        f"{deep}/x/alembic.ini": ini,  # one folder too deep
        "node_modules/pkg/alembic.ini": ini,
        ".venv/lib/alembic.ini": ini,
        "py311/pyvenv.cfg": "home = /usr/bin\n",  # a virtualenv under another name
        "py311/lib/alembic.ini": ini,
    })
    assert [e.label(tmp_path) for e in find_environments(tmp_path)] == [f"{deep}/alembic.ini"]


# -- select_config ------------------------------------------------------------------------------------


def test_select_config_errors(tmp_path: Path) -> None:
    script_dir(tmp_path, "a")
    write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = %(here)s/a\n\n[other]\nscript_location = %(here)s/a\n"})
    envs = find_environments(tmp_path)
    with pytest.raises(UsageError, match=r"^no Alembic environment found \(no alembic.ini"):
        select_config([], None, None)
    with pytest.raises(UsageError, match=r"^no Alembic environment in nope.ini \(found: alembic.ini, alembic.ini \[other\]\)$"):
        select_config(envs, Path("nope.ini"), None, tmp_path)
    with pytest.raises(UsageError, match=r"^no section \[missing\] with script_location in alembic.ini \(sections: alembic, other\)$"):
        select_config(envs, Path("alembic.ini"), "missing", tmp_path)
    with pytest.raises(UsageError, match=r"^several Alembic environments found \(alembic.ini, alembic.ini \[other\]\)"):
        select_config(envs, None, None, tmp_path)
    # As Alembic: -c FILE alone is its [alembic] section; --name alone is that section wherever it is.
    assert select_config(envs, Path("alembic.ini"), None, tmp_path).section == "alembic"
    assert select_config(envs, tmp_path / "alembic.ini", None).section == "alembic"
    assert select_config(envs, None, "other", tmp_path).section == "other"


def test_select_config_reports_the_problem(tmp_path: Path) -> None:
    write(tmp_path, {"alembic.ini": "[alembic]\nscript_location = gone.pkg:migrations\n"})
    with pytest.raises(EnvironmentProblem) as error:
        select_config(find_environments(tmp_path), None, None, tmp_path)
    assert error.value.message == (
        "alembic.ini: script_location 'gone.pkg:migrations': package 'gone.pkg' is not in the repository (no gone/pkg/__init__.py; Alembic would import it)"
    )


def test_pyproject_beside_alembic_ini_as_alembic_reads_it(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script_dir(tmp_path, "migrations")
    write(tmp_path, {
        "alembic.ini": "[alembic]\nrecursive_version_locations = true\n",
        "pyproject.toml": "[tool.alembic]\nscript_location = '%(here)s/migrations'\nversion_locations = ['%(here)s/v1', '%(here)s/v2']\n",
    })
    script = ScriptDirectory.from_config(Config(str(tmp_path / "alembic.ini"), toml_file=str(tmp_path / "pyproject.toml")))
    env = only(tmp_path)
    assert (Path(script.dir), script.recursive_version_locations) == (env.script_location, env.recursive)
    assert [Path(p) for p in script._version_locations] == list(env.versions_dirs)


def test_hostile_files_are_reported_or_skipped(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = write(tmp_path, {"secret/alembic.ini": "[alembic]\nscript_location = %(here)s\n"}) / "secret/alembic.ini"
    (repo / "bin").mkdir(parents=True)
    (repo / "bin/alembic.ini").write_bytes(b"[alembic]\nscript_location = \xff\xfe\n")
    (repo / "link").mkdir()
    (repo / "link/alembic.ini").symlink_to(outside)  # leads out of the repository: not read
    (repo / "loop").mkdir()
    (repo / "loop/alembic.ini").symlink_to(repo / "loop/alembic.ini")
    (repo / "cycle").symlink_to(repo, target_is_directory=True)  # os.walk does not follow it
    envs = find_environments(repo)
    assert [(e.label(repo), e.problem is not None) for e in envs] == [("bin/alembic.ini", True)]
    assert envs[0].problem is not None and envs[0].problem.startswith("cannot be read: 'utf-8' codec can't decode")
