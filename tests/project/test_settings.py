"""[tool.migration-archaeologist] in the scanned repository's pyproject.toml: defaults, options win, bad tables refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ma, one_line_error
from gitfixture import GitRepo, revision_source
from migration_archaeologist.errors import UsageError
from migration_archaeologist.project.defaults import Settings, load_settings

D = "db/migrations"  # no alembic.ini names it: only the settings (or history) can


def test_defaults_without_a_table(tmp_path: Path) -> None:
    assert load_settings(None) == Settings()
    assert load_settings(tmp_path) == Settings()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_settings(tmp_path) == Settings()
    (tmp_path / "pyproject.toml").write_text("[project\nbroken = ")  # someone else's broken file
    assert load_settings(tmp_path) == Settings()


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.migration-archaeologist]\n"
        'versions = ["db/migrations", "/abs/versions"]\n'
        'archive = ["backups/old.zip"]\n'
        "thorough = true\n"
        'pick = { b2 = "3f2a9c1" }\n'
        'format = "github"\n'
        'ignore = ["multiple-heads", "missing", "multiple-heads"]\n'
        'version-table = "schema_version"\n'
        'version-table-schema = "meta"\n'
    )
    settings = load_settings(tmp_path)
    assert settings == Settings(
        source=tmp_path / "pyproject.toml",
        versions=(tmp_path / "db/migrations", Path("/abs/versions")),
        archive=(tmp_path / "backups/old.zip",),
        thorough=True,
        pick={"b2": "3f2a9c1"},
        format="github",
        ignore=("multiple-heads", "missing"),
        version_table="schema_version",
        version_table_schema="meta",
    )


@pytest.mark.parametrize(
    "table, message",
    [
        ("verions = ['x']", "unknown key 'verions' in tool.migration-archaeologist (known: versions, archive,"),
        ("versions = 'db/migrations'", "tool.migration-archaeologist.versions must be a list of non-empty strings, not a string"),
        ("archive = ['a', 3]", "tool.migration-archaeologist.archive must be a list of non-empty strings, not a list holding an integer"),
        ("thorough = 'yes'", "tool.migration-archaeologist.thorough must be true or false, not a string"),
        ("pick = ['b2=3f2a']", "tool.migration-archaeologist.pick must be a table of revision = \"blob id\""),
        ("format = 'sarif'", "tool.migration-archaeologist.format must be one of text, json, github, not 'sarif'"),
        ("ignore = ['multiple-head']", "tool.migration-archaeologist.ignore: 'multiple-head' is not a problem kind"),
        ("version-table = ''", "tool.migration-archaeologist.version-table must be a non-empty string, not an empty string"),
    ],
    ids=["unknown-key", "versions-type", "archive-item", "thorough", "pick", "format", "ignore", "version-table"],
)
def test_bad_tables_are_usage_errors_naming_key_and_file(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.migration-archaeologist]\n{table}\n")
    with pytest.raises(UsageError) as error:
        load_settings(tmp_path)
    assert error.value.message.startswith(f"{path}: ") and message in error.value.message


def test_broken_toml_with_our_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.migration-archaeologist]\nversions = [\n")
    with pytest.raises(UsageError, match=r"pyproject.toml: not valid TOML"):
        load_settings(tmp_path)


@pytest.fixture
def project(repo: GitRepo) -> GitRepo:
    """A two-head chain in a folder no alembic.ini names, and a second copy of it in history only."""
    repo.commit("base", {f"{D}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("left", {f"{D}/b2_left.py": revision_source("b2", "a1", "left")})
    repo.commit("right", {f"{D}/c3_right.py": revision_source("c3", "a1", "right")})
    return repo


def settle(repo: GitRepo, table: str) -> None:
    repo.commit("settings", {"pyproject.toml": f"[project]\nname = 'app'\n\n[tool.migration-archaeologist]\n{table}\n"})


def test_settings_apply_from_a_subfolder(project: GitRepo) -> None:
    settle(project, f'versions = ["{D}"]\nformat = "github"\nignore = ["multiple-heads"]')
    doc = json.loads(ma("scan", str(project.path / "db"), "--json").stdout)
    assert doc["versions_dirs"] == [D]
    scan = ma("scan", str(project.path / "db"))
    assert "versions: db/migrations (tool.migration-archaeologist in pyproject.toml)" in " ".join(scan.stdout.split())
    proc = ma("check", cwd=project.path / "db")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # multiple-heads is ignored
    assert proc.stdout.startswith(f"::warning file={D}/b2_left.py,")
    assert proc.stdout.splitlines()[-1].endswith("ignored: multiple-heads")


def test_command_line_wins(project: GitRepo) -> None:
    settle(project, 'versions = ["nowhere"]\nformat = "github"\nignore = ["multiple-heads"]')
    proc = ma("check", str(project.path), "--versions", D, "--format", "text", "--ignore", "missing")
    assert proc.returncode == 1  # --ignore replaced the file's list: multiple-heads fails again
    assert "multiple-heads: Multiple head revisions are present: b2, c3" in proc.stdout
    assert "::" not in proc.stdout and "nowhere" not in proc.stdout
    doc = json.loads(ma("check", str(project.path), "--versions", D, "--json").stdout)
    assert doc["ok"] is True and doc["ignore"] == ["multiple-heads"]


def test_thorough_and_pick_from_the_file(project: GitRepo) -> None:
    old = revision_source("b2", "a1", "first draft")
    project.commit("b2 again", {f"{D}/b2_left.py": old})
    project.commit("b2 final", {f"{D}/b2_left.py": revision_source("b2", "a1", "final")})
    project.commit("b2 gone", remove=[f"{D}/b2_left.py"])
    settle(project, f'versions = ["{D}"]\nthorough = true\npick = {{ b2 = "{project.blob_of(old)[:10]}" }}')
    doc = json.loads(ma("scan", str(project.path), "--json").stdout)
    b2 = next(r for r in doc["revisions"] if r["revision"] == "b2")
    assert b2["message"] == "first draft" and "--pick" in b2["reason"]
    doc = json.loads(ma("scan", str(project.path), "--json", "--pick", f"b2={b2['candidates'][-1]['blob'][:10]}").stdout)
    b2 = next(r for r in doc["revisions"] if r["revision"] == "b2")
    assert b2["chosen"] == b2["candidates"][-1]["blob"]


def test_bad_settings_end_every_command_with_one_line(project: GitRepo) -> None:
    settle(project, "thorough = 1")
    for args in (("scan",), ("check",), ("check", "--format", "github"), ("restore", "b2")):
        proc = ma(*args, cwd=project.path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert one_line_error(proc) == (
            f"error: {project.path / 'pyproject.toml'}: tool.migration-archaeologist.thorough must be true or false,"
            " not an integer"
        )
