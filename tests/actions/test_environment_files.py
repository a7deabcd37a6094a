"""Environment files in real git repositories: what ``check`` says is missing and what ``recover``
brings back (or rightly leaves alone), in the layouts real projects have: a lost ``env.py``, a
Flask-Migrate folder's ``alembic.ini``, a configuration retired when a project moved it into code
(neutron-vpnaas, 2015), a project that never had one (warehouse), a stamp nothing holds."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixture import GitRepo, environment_files, revision_source
from migration_archaeologist.actions.environment_templates import generated_config

V = "alembic/versions"
INI = "[alembic]\nscript_location = alembic\n"


def ma(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          timeout=600)


def recover_json(repo: GitRepo, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = ma("recover", str(repo.path), "--json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def check_text(repo: GitRepo) -> tuple[int, str]:
    proc = ma("check", str(repo.path))
    return proc.returncode, proc.stdout


def actions(doc: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {a["subject"]: a for a in doc["actions"]}


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")


def test_a_deleted_env_py_fails_check_and_comes_back_byte_identical(repo: GitRepo) -> None:
    env = environment_files()
    repo.commit("base", {"alembic.ini": INI, **env, f"{V}/a1_base.py": revision_source("a1", None, "base")})
    gone = repo.commit("tidy up", remove=["alembic/env.py"])
    code, out = check_text(repo)
    assert code == 1 and "environment-missing: alembic/env.py is missing" in out
    code, plan = recover_json(repo)
    assert code == 0 and actions(plan)["env.py"]["action"] == "write"
    assert actions(plan)["env.py"]["source"].startswith(f"history {gone[:10]}") and actions(plan)["env.py"]["fidelity"] == "exact"
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"], done
    assert (repo.path / "alembic" / "env.py").read_text() == env["alembic/env.py"]
    assert check_text(repo)[0] == 0


def test_a_flask_migrate_folder_gets_its_deleted_ini_back(repo: GitRepo) -> None:
    flask_env = "from flask import current_app\nfrom alembic import context\n# Flask-Migrate's env.py\n"
    ini = "[alembic]\n\n[loggers]\nkeys = root\n"  # Flask-Migrate's: no script_location, the program sets it
    repo.commit("flask db init", {
        "migrations/alembic.ini": ini, "migrations/env.py": flask_env,
        "migrations/script.py.mako": environment_files("migrations")["migrations/script.py.mako"],
        "migrations/versions/a1_base.py": revision_source("a1", None, "base"),
    })
    repo.commit("oops", remove=["migrations/alembic.ini"])
    code, out = check_text(repo)
    assert code == 1 and "migrations/alembic.ini was deleted" in out
    code, plan = recover_json(repo)
    assert plan["environment"]["kind"] == "flask-migrate" and actions(plan)["alembic.ini"]["fidelity"] == "exact"
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["alembic"]["heads"] == ["a1"], done
    assert (repo.path / "migrations" / "alembic.ini").read_text() == ini


def test_a_configuration_moved_into_code_is_retired_not_lost(repo: GitRepo) -> None:
    """neutron-vpnaas deleted its alembic.ini in 2015 ("Register alembic_migrations at install time")
    and has added revisions since: nothing is missing, and the old file is not brought back."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("register the migrations at install time", remove=["alembic.ini"])
    repo.commit("b2", {f"{V}/b2_next.py": revision_source("b2", "a1", "next")})
    code, out = check_text(repo)
    assert code == 0, out
    code, plan = recover_json(repo)
    assert code == 0 and plan["environment"]["kind"] == "code" and "alembic.ini" not in actions(plan)
    assert any("retired, not lost" in note for note in plan["environment"]["notes"])
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["alembic"]["heads"] == ["b2"] and done["written"] == []
    assert not (repo.path / "alembic.ini").exists()


def test_a_project_that_never_had_an_ini_is_asked_with_a_temporary_one(repo: GitRepo) -> None:
    """warehouse: migrations/ with env.py and versions/, configured by its program, never an ini."""
    env = {k.replace("alembic/", "migrations/"): v for k, v in environment_files().items()}
    repo.commit("base", {**env, "migrations/versions/a1_base.py": revision_source("a1", None, "base")})
    assert check_text(repo)[0] == 0
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["written"] == [] and done["environment"]["config_file"] is None, done
    assert done["verdict"] == "Alembic works again: heads a1"
    assert not list(repo.path.glob("**/alembic.ini"))


def test_a_folder_in_the_way_is_a_conflict_and_nothing_is_written(repo: GitRepo) -> None:
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("cleanup", remove=["alembic/env.py", "alembic.ini"])
    (repo.path / "alembic.ini").mkdir()  # not a file Alembic can read, and never replaced
    code, plan = recover_json(repo)
    assert code == 1 and not plan["complete"] and actions(plan)["alembic.ini"]["action"] == "conflict"
    proc = ma("recover", str(repo.path), "--apply")
    assert proc.returncode == 1 and proc.stderr.startswith("error: nothing written:")
    assert not (repo.path / "alembic" / "env.py").exists()


def test_a_generated_ini_never_holds_a_password(tmp_path: Path) -> None:
    script, dirs = tmp_path / "alembic", [tmp_path / "alembic" / "versions"]
    for url in ("postgresql://app:s3cret@db/prod", "postgresql://db/prod?user=app&password=s3cret"):
        text, note = generated_config(tmp_path / "alembic.ini", script, dirs, url)
        assert b"s3cret" not in text and "s3cret" not in note
        assert b"# The database URL is not written here (it carries a password)" in text
        assert b"sqlalchemy.url = driver://user:pass@localhost/dbname" in text
    text, _note = generated_config(tmp_path / "alembic.ini", script, dirs, "sqlite:///app%20x.db")
    assert b"sqlalchemy.url = sqlite:///app%%20x.db\n" in text  # %-escaped, as configparser reads it
    assert b"script_location = %(here)s/alembic\n" in text
    assert not [line for line in text.splitlines() if line.startswith(b"version_locations")]  # the default folder
    elsewhere, _ = generated_config(tmp_path / "alembic.ini", script, [tmp_path / "db" / "revisions"], None)
    assert b"version_locations = %(here)s/db/revisions\n" in elsewhere


def test_several_environments_are_recovered_each_on_its_own(repo: GitRepo) -> None:
    sections = ("[one]\nscript_location = %(here)s/alembic\nversion_locations = %(here)s/alembic/versions/one\n\n"
                "[two]\nscript_location = %(here)s/alembic\nversion_locations = %(here)s/alembic/versions/two\n")
    repo.commit("two chains", {
        "alembic.ini": sections, **environment_files(),
        f"{V}/one/o1_base.py": revision_source("o1", None, "one"),
        f"{V}/two/t1_base.py": revision_source("t1", None, "two"),
        f"{V}/two/t2_next.py": revision_source("t2", "t1", "two next"),
        f"{V}/two/t3_last.py": revision_source("t3", "t2", "two last"),
    })
    repo.commit("lose t2", remove=[f"{V}/two/t2_next.py"])
    code, doc = recover_json(repo)
    assert code == 0 and [e["label"] for e in doc["environments"]] == ["alembic.ini [one]", "alembic.ini [two]"]
    two = doc["environments"][1]
    assert [a["subject"] for a in two["actions"] if a["action"] == "write"] == ["t2"]
    db = ma("recover", str(repo.path), "--db", "sqlite:///x.db")
    assert db.returncode == 2 and "choose one with -c FILE" in db.stderr


def test_a_stamp_nothing_holds_is_synthesized_from_the_database(repo: GitRepo, tmp_path: Path) -> None:
    """The database went one revision further than any file: without --db nothing can be planned for
    it; with --db a stand-in is synthesized, proven by replay, and Alembic resolves the stamp."""
    body = "    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))"
    repo.commit("base", {"alembic.ini": INI, **environment_files(),
                         f"{V}/a1_base.py": revision_source("a1", None, "base", body=body)})
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:  # what a1 made, then the lost c9's table, stamped c9
        conn.execute("CREATE TABLE t (id INTEGER NOT NULL, PRIMARY KEY (id))")
        conn.execute("CREATE TABLE lost (id INTEGER NOT NULL, name VARCHAR(40), PRIMARY KEY (id))")
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
        conn.execute("INSERT INTO alembic_version VALUES ('c9c9c9c9c9c9')")
    url = f"sqlite:///{path}"
    code, out = check_text(repo)
    assert code == 0
    code, plan = recover_json(repo, "--db", url)
    assert code == 0 and actions(plan)["c9c9c9c9c9c9"]["kind"] == "synthesize"
    code, done = recover_json(repo, "--db", url, "--apply")
    assert code == 0 and done["works"], done
    assert done["verdict"] == "Alembic works again: current c9c9c9c9c9c9 (head)"
    assert done["verification"]["verdict"] == "verified" and len(done["synthesized"]) == 1
    assert "op.create_table('lost'" in Path(done["synthesized"][0]).read_text()


TOML = '[project]\nname = "app"\n\n[tool.alembic]\nscript_location = "%(here)s/alembic"\n'


def test_a_deleted_pyproject_with_the_table_comes_back_whole(repo: GitRepo) -> None:
    repo.commit("base", {"pyproject.toml": TOML, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    gone = repo.commit("cleanup", remove=["pyproject.toml", f"{V}/a1_base.py"])
    code, out = check_text(repo)
    assert code == 1 and f"pyproject.toml was deleted in {gone[:10]}" in out
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["environment"]["kind"] == "pyproject", done
    assert (repo.path / "pyproject.toml").read_text() == TOML


def test_a_table_removed_from_pyproject_becomes_an_ini_and_pyproject_is_untouched(repo: GitRepo) -> None:
    repo.commit("base", {"pyproject.toml": TOML, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    removed = repo.commit("cleanup", {"pyproject.toml": '[project]\nname = "app"\n'}, remove=[f"{V}/a1_base.py"])
    code, plan = recover_json(repo)
    ini = actions(plan)["alembic.ini"]
    assert code == 0 and ini["fidelity"] == "generated" and removed[:10] in ini["note"], plan
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["alembic"]["heads"] == ["a1"], done
    assert (repo.path / "pyproject.toml").read_text() == '[project]\nname = "app"\n'
    assert "script_location = %(here)s/alembic" in (repo.path / "alembic.ini").read_text()


# --------------------------------------------------------------------------- surprises of real histories
# Each reenacts what benchmarks/recover_real.py met when the seed's cleanup was replayed on a real
# repository (every revision file, alembic.ini, env.py and script.py.mako deleted in one commit).


def _wipe(repo: GitRepo, paths: list[str]) -> str:
    return repo.commit("chore: remove stale alembic files", remove=paths)


def test_with_nothing_present_old_chains_and_rewritten_history_stay_retired(repo: GitRepo) -> None:
    """CTFd and redash: an old chain squashed years ago, a pull request rebased away (unreachable,
    deleted again on its own branch, or extending the head under an ID that never landed): none of
    them is what the cleanup took, and restoring them gave Alembic 15 heads."""
    repo.commit("old chain", {"alembic.ini": INI, **environment_files(), f"{V}/o1_old.py": revision_source("o1", None, "old")})
    repo.commit("squash", {f"{V}/a1_base.py": revision_source("a1", None, "base")}, remove=[f"{V}/o1_old.py"])
    repo.commit("b2", {f"{V}/b2_next.py": revision_source("b2", "a1", "next")})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("pr: c3", {f"{V}/c3_pr.py": revision_source("c3", "b2", "rebased away")})
    repo.commit("pr: drop d4", {f"{V}/d4_tmp.py": revision_source("d4", "b2", "given up")})
    repo.commit("pr: drop d4 again", remove=[f"{V}/d4_tmp.py"])
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "pr")
    repo.git("reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")  # unreachable now
    cleanup = _wipe(repo, ["alembic.ini", "alembic/env.py", "alembic/script.py.mako", f"{V}/a1_base.py", f"{V}/b2_next.py"])
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["alembic"]["heads"] == ["b2"], done
    assert sorted(p.name for p in (repo.path / V).glob("*.py")) == ["a1_base.py", "b2_next.py"]
    for path in ("alembic.ini", "alembic/env.py", f"{V}/a1_base.py"):
        assert (repo.path / path).read_bytes() == subprocess.run(
            ["git", "show", f"{cleanup}^:{path}"], cwd=repo.path, capture_output=True, check=True).stdout


def test_a_restored_file_takes_the_name_it_had_on_heads_history(repo: GitRepo) -> None:
    """indico: a rebased pull request held the same revision under a later date prefix."""
    text = revision_source("a1", None, "slides")
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/20200319_a1_slides.py": text})
    repo.git("checkout", "-q", "-b", "pr")
    repo.git("mv", f"{V}/20200319_a1_slides.py", f"{V}/20200324_a1_slides.py")
    repo.commit("pr: rename")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "pr")
    repo.git("reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
    _wipe(repo, [f"{V}/20200319_a1_slides.py"])
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"], done
    assert [p.name for p in (repo.path / V).glob("*.py")] == ["20200319_a1_slides.py"]


def test_recover_takes_c_naming_the_configuration_the_cleanup_took(repo: GitRepo) -> None:
    """CTFd, redash: the user runs ``recover -c migrations/alembic.ini`` as they ran alembic, and the
    file is one of the things lost."""
    repo.commit("base", {"migrations/alembic.ini": "[alembic]\nscript_location = %(here)s\n",
                         "migrations/env.py": environment_files()["alembic/env.py"],
                         "migrations/script.py.mako": environment_files()["alembic/script.py.mako"],
                         "migrations/versions/a1_base.py": revision_source("a1", None, "base")})
    _wipe(repo, ["migrations/alembic.ini", "migrations/env.py", "migrations/versions/a1_base.py"])
    code, done = recover_json(repo, "-c", "migrations/alembic.ini", "--apply")
    assert code == 0 and done["works"] and done["alembic"]["heads"] == ["a1"], done
    assert (repo.path / "migrations" / "alembic.ini").is_file()
    gone = ma("recover", str(repo.path), "-c", "nowhere/alembic.ini")
    assert gone.returncode == 2 and "holds no deleted configuration there" in gone.stderr


def test_a_retired_ini_stays_retired_when_everything_else_is_lost_too(repo: GitRepo) -> None:
    """neutron-vpnaas: its ini went in 2015, its revisions (in release subfolders its own program
    names) came after; the cleanup takes them all. The old ini is not the way back."""
    ini = "[alembic]\nscript_location = %(here)s/alembic\n"
    repo.commit("2014", {"alembic.ini": ini, **environment_files(), f"{V}/k1_kilo.py": revision_source("k1", None, "kilo")})
    repo.commit("register at install time", remove=["alembic.ini"])
    repo.commit("liberty", {f"{V}/liberty/expand/e1.py": revision_source("e1", "k1", "expand", branch_labels="expand"),
                            f"{V}/liberty/contract/c1.py": revision_source("c1", "k1", "contract", branch_labels="contract")})
    _wipe(repo, ["alembic/env.py", f"{V}/k1_kilo.py", f"{V}/liberty/expand/e1.py", f"{V}/liberty/contract/c1.py"])
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"], done
    assert done["environment"]["kind"] == "code" and not (repo.path / "alembic.ini").exists()
    assert sorted(done["alembic"]["heads"]) == ["c1", "e1"]  # the temporary configuration reads the subfolders


def test_no_ini_is_generated_for_an_env_py_that_reads_none(repo: GitRepo) -> None:
    """warehouse: env.py takes its options from the program (get_section), no file ever."""
    env_py = ("from alembic import context\n\ndef run():\n"
              "    options = context.config.get_section(context.config.config_ini_section)\n")
    repo.commit("base", {"migrations/env.py": env_py,
                         "migrations/script.py.mako": environment_files()["alembic/script.py.mako"],
                         "migrations/versions/a1_base.py": revision_source("a1", None, "base")})
    _wipe(repo, ["migrations/env.py", "migrations/versions/a1_base.py"])
    code, done = recover_json(repo, "--apply")
    assert code == 0 and done["works"] and done["environment"]["kind"] == "code", done
    assert (repo.path / "migrations" / "env.py").read_text() == env_py
    assert not list(repo.path.glob("**/alembic.ini"))


def test_a_readme_deleted_on_its_own_stays_deleted(repo: GitRepo) -> None:
    """CTFd deleted migrations/README long ago; the cleanup took the rest."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), "alembic/README": "Generic.\n",
                         f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("drop the README", remove=["alembic/README"])
    _wipe(repo, ["alembic.ini", "alembic/env.py", f"{V}/a1_base.py"])
    code, plan = recover_json(repo)
    assert code == 0 and "README" not in actions(plan) and actions(plan)["env.py"]["action"] == "write"
