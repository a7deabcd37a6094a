"""What real public histories taught: each class of surprise seen on a real repository, as a small
fixture repository built with real git, so CI keeps it fixed without the mirrors.

The real cases are named in each test's docstring; docs/real-repositories.md has the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ma
from gitfixture import GitRepo, revision_source, environment_files
from migration_archaeologist.chain.check import evaluate
from migration_archaeologist.chain.scan import scan_repository

V = "alembic/versions"
INI = "[alembic]\nscript_location = alembic\n"


def check_json(repo: GitRepo, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = ma("check", str(repo.path), "--json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def reverted(repo: GitRepo) -> GitRepo:
    """a1 <- b2 on main; c3 added on b2 and reverted with git revert (redash, CTFd and quay do this)."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("b2", {f"{V}/b2_users.py": revision_source("b2", "a1", "users")})
    repo.commit("add c3", {f"{V}/c3_oops.py": revision_source("c3", "b2", "oops")})
    repo.git("revert", "--no-edit", "HEAD")
    repo.commit("d4", {f"{V}/d4_next.py": revision_source("d4", "b2", "next")})
    return repo


def test_reverted_revision_is_retired_not_missing(repo: GitRepo) -> None:
    """Class 1: a reverted revision is no second head and no gap; scan says how it left."""
    reverted(repo)
    code, doc = check_json(repo)
    assert code == 0, doc
    assert doc["heads"] == ["d4"] and doc["missing"] == []
    assert not [p for p in doc["problems"] if p["level"] == "error"]
    result = scan_repository(repo.path)
    assert result.missing == ()
    retirement = result.retired["c3"]
    assert retirement.how == "reverted"
    assert retirement.describe().startswith(f"reverted in {repo.git('rev-parse', 'HEAD~1')[:10]} \"Revert")
    scan = json.loads(ma("scan", str(repo.path), "--json").stdout)
    c3 = next(r for r in scan["revisions"] if r["revision"] == "c3")
    assert c3["status"] == "retired" and c3["retired"]["how"] == "reverted"


def test_deleted_parent_of_a_present_revision_is_lost(repo: GitRepo) -> None:
    """The other side of class 1: what a present revision stands on is lost, whatever deleted it."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("b2", {f"{V}/b2_users.py": revision_source("b2", "a1", "users")})
    repo.commit("c3", {f"{V}/c3_more.py": revision_source("c3", "b2", "more")})
    repo.commit("cleanup", remove=[f"{V}/b2_users.py"])
    code, doc = check_json(repo)
    assert code == 1 and doc["missing"] == ["b2"]


def test_restore_refuses_a_reverted_revision_unless_allowed(repo: GitRepo) -> None:
    """Class 1, restore: writing c3 back would give Alembic a second head; refused, nothing written."""
    reverted(repo)
    before = sorted(p.name for p in (repo.path / V).iterdir())
    proc = ma("restore", "c3", str(repo.path), "--apply")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "reverted in" in proc.stderr and "--allow-new-head" in proc.stderr
    assert sorted(p.name for p in (repo.path / V).iterdir()) == before
    proc = ma("restore", "c3", str(repo.path), "--apply", "--allow-new-head")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo.path / V / "c3_oops.py").read_text() == revision_source("c3", "b2", "oops")
    code, doc = check_json(repo)  # what the user asked for: two heads now, and check says so
    assert code == 1 and [p["kind"] for p in doc["problems"] if p["level"] == "error"] == ["multiple-heads"]


def test_old_versions_in_pull_request_refs_only_warn(repo: GitRepo) -> None:
    """Class 6: refs/pull/* and unreachable objects hold old drafts of present revisions (quay,
    indico): conflicting-versions and duplicate-id in history are warnings; --strict fails on them."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("b2", {f"{V}/b2_users.py": revision_source("b2", "a1", "users")})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("draft", {f"{V}/c3_draft_name.py": revision_source("c3", "a1", "first draft")})
    pr = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("update-ref", "refs/pull/7/head", pr)
    repo.git("branch", "-D", "pr")
    repo.commit("c3", {f"{V}/c3_final.py": revision_source("c3", "b2", "final")})
    code, doc = check_json(repo)
    assert code == 0, doc
    kinds = {(p["kind"], p["level"]) for p in doc["problems"]}
    assert kinds == {("conflicting-versions", "warning"), ("duplicate-id", "warning")}
    code, doc = check_json(repo, "--strict")
    assert code == 1 and not doc["ok"]


def test_overlapping_versions_options_count_each_file_once(repo: GitRepo) -> None:
    """Class 7: --versions a folder and its subfolder: no duplicate-id of a file with itself."""
    repo.commit("base", {f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("b2", {f"{V}/release/b2_users.py": revision_source("b2", "a1", "users")})
    code, doc = check_json(repo, "--versions", V, "--versions", f"{V}/release")
    assert code == 0, doc
    assert doc["problems"] == [] and doc["heads"] == ["b2"]


def test_docstring_mismatch_is_a_warning(repo: GitRepo) -> None:
    """Class 9: 'Revises:' text that disagrees with down_revision (9-16 per real project): Alembic
    ignores docstrings, so check passes and says it; --strict fails."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("b2", {f"{V}/b2_users.py": revision_source("b2", "a1", "users", revises_header="zz9")})
    result = scan_repository(repo.path)
    verdict = evaluate(result)
    assert verdict.passed and [p.kind for p in verdict.ignored] == ["header-mismatch"]
    assert not evaluate(result, strict=True).passed
    proc = ma("check", str(repo.path))
    assert proc.returncode == 0 and "warning header-mismatch" in proc.stdout


def test_labelled_heads_are_a_design_unlabelled_ones_fail(repo: GitRepo) -> None:
    """Expand/contract (keystone, neutron): two heads on distinct labelled branches pass; a third,
    unlabelled head fails."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a1_base.py": revision_source("a1", None, "base")})
    repo.commit("branches", {
        f"{V}/e1_expand.py": revision_source("e1", "a1", "expand", branch_labels=("expand",)),
        f"{V}/c1_contract.py": revision_source("c1", "a1", "contract", branch_labels=("contract",)),
        f"{V}/e2_more.py": revision_source("e2", "e1", "more expand"),
    })
    code, doc = check_json(repo)
    assert code == 0, doc
    assert doc["heads"] == ["c1", "e2"]
    repo.commit("stray", {f"{V}/s1_stray.py": revision_source("s1", "a1", "stray")})
    code, doc = check_json(repo)
    assert code == 1 and [p["kind"] for p in doc["problems"]] == ["multiple-heads"]


def test_nested_release_folders_restore_in_place_without_duplicates(repo: GitRepo) -> None:
    """Class 3: keystone and neutron keep ``versions/<release>/{expand,contract}/``; revisions moved
    there from the root folder in history. Present in a subfolder is present; a lost one goes back to
    the subfolder it lived in, and Alembic (given every folder, as the project's CLI does) agrees."""
    ini = "[alembic]\nscript_location = alembic\n"
    repo.commit("base", {"alembic.ini": ini, **environment_files(), f"{V}/a1_initial.py": revision_source("a1", None, "initial")})
    repo.commit("expand", {
        f"{V}/e1_expand.py": revision_source("e1", "a1", "expand", branch_labels=("expand",)),
        f"{V}/c1_contract.py": revision_source("c1", "a1", "contract", branch_labels=("contract",)),
    })
    (repo.path / V / "yoga" / "expand").mkdir(parents=True)
    (repo.path / V / "yoga" / "contract").mkdir(parents=True)
    repo.git("mv", f"{V}/e1_expand.py", f"{V}/yoga/expand/e1_expand.py")
    repo.git("mv", f"{V}/c1_contract.py", f"{V}/yoga/contract/c1_contract.py")
    repo.commit("release folders")
    repo.commit("e2", {f"{V}/yoga/expand/e2_more.py": revision_source("e2", "e1", "more")})
    repo.commit("e3", {f"{V}/yoga/expand/e3_last.py": revision_source("e3", "e2", "last")})
    repo.commit("lose e2", remove=[f"{V}/yoga/expand/e2_more.py"])
    code, doc = check_json(repo)
    assert code == 1 and doc["missing"] == ["e2"]
    plan = json.loads(ma("restore", "e2", str(repo.path), "--json").stdout)
    assert [Path(f["file"]).relative_to(repo.path).as_posix() for f in plan["files"]] == [f"{V}/yoga/expand/e2_more.py"]
    assert sorted(plan["already_present"]) == ["a1", "e1"]
    proc = ma("restore", "e2", str(repo.path), "--apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "as we do" in proc.stdout
    assert not (repo.path / V / "e2_more.py").exists() and not (repo.path / V / "e1_expand.py").exists()
    code, doc = check_json(repo)
    assert code == 0 and doc["heads"] == ["c1", "e3"], doc


SECTIONS_INI = """[postgresql]
script_location = %(here)s/alembic
version_locations = %(here)s/alembic/versions/postgresql

[sqlite]
script_location = %(here)s/alembic
version_locations = %(here)s/alembic/versions/sqlite
"""


def dialect_chains(repo: GitRepo) -> GitRepo:
    """One chain per dialect, sharing their base ID; the sqlite chain lost its middle revision."""
    pg, lite = f"{V}/postgresql", f"{V}/sqlite"
    repo.commit("chains", {
        "alembic.ini": SECTIONS_INI, **environment_files(),
        f"{pg}/base1_base.py": revision_source("base1", None, "base"),
        f"{pg}/p2_pg.py": revision_source("p2", "base1", "pg only"),
        f"{lite}/base1_base.py": revision_source("base1", None, "base"),
        f"{lite}/s2_lite.py": revision_source("s2", "base1", "sqlite step"),
        f"{lite}/s3_lite.py": revision_source("s3", "s2", "sqlite next"),
    })
    repo.commit("lose s2", remove=[f"{lite}/s2_lite.py"])
    return repo


def test_each_environment_is_judged_on_its_own(repo: GitRepo) -> None:
    """Class 4: one versions folder per dialect (sections of one alembic.ini), a few IDs shared: two
    chains, not one catalog. check judges each; -c/--name picks one, as alembic does."""
    dialect_chains(repo)
    code, doc = check_json(repo)
    assert code == 1
    by_env = {e["environment"]: e for e in doc["environments"]}
    assert set(by_env) == {"alembic.ini [postgresql]", "alembic.ini [sqlite]"}
    assert by_env["alembic.ini [postgresql]"]["ok"] and by_env["alembic.ini [postgresql]"]["heads"] == ["p2"]
    assert by_env["alembic.ini [sqlite]"]["missing"] == ["s2"] and not by_env["alembic.ini [sqlite]"]["ok"]
    code, doc = check_json(repo, "-c", "alembic.ini", "--name", "postgresql")
    assert code == 0 and doc["missing"] == [] and doc["heads"] == ["p2"], doc
    proc = ma("-c", "alembic.ini", "--name", "sqlite", "restore", "s2", str(repo.path), "--json")
    assert proc.returncode == 0, proc.stderr
    files = [Path(f["file"]).relative_to(repo.path).as_posix() for f in json.loads(proc.stdout)["files"]]
    assert files == [f"{V}/sqlite/s2_lite.py"]
    proc = ma("scan", str(repo.path))
    assert proc.returncode == 2 and "-c FILE [--name SECTION]" in proc.stderr


def test_a_sibling_folder_is_not_missing_from_this_one(repo: GitRepo) -> None:
    """Class 4, as first seen: --versions names one dialect's folder; the sibling's revisions are not
    lost from it, and restore plans nothing of theirs into it."""
    dialect_chains(repo)
    code, doc = check_json(repo, "--versions", f"{V}/postgresql")
    assert code == 0 and doc["missing"] == [], doc
    proc = ma("restore", "s3", str(repo.path), "--versions", f"{V}/postgresql", "--json")
    assert proc.returncode == 1 and "Can't locate revision identified by 's3'" in proc.stderr


def test_package_resource_script_location(repo: GitRepo) -> None:
    """Class 5: script_location = myapp:db/migrations (Alembic's package-resource form) is found in
    the repository; an old versions folder deleted years ago is history, not the environment."""
    for step in range(4):  # years of history in the old folder: more than the new one will ever hold here
        repo.commit(f"old layout {step}", {
            "migrations/versions/a1_base.py": revision_source("a1", None, "base", body=f"    pass  # {step}"),
        })
    repo.git("mv", "migrations", "tmp_migrations")
    repo.commit("move", {"myapp/__init__.py": "", "alembic.ini": "[alembic]\nscript_location = myapp:db/migrations\n",
                         **environment_files("myapp/db/migrations")})
    (repo.path / "myapp" / "db" / "migrations").mkdir(parents=True, exist_ok=True)
    repo.git("mv", "tmp_migrations/versions", "myapp/db/migrations/versions")
    repo.commit("into the package")
    repo.commit("b2", {"myapp/db/migrations/versions/b2_next.py": revision_source("b2", "a1", "next")})
    code, doc = check_json(repo)
    assert code == 0 and doc["heads"] == ["b2"] and doc["missing"] == [], doc
    scan = json.loads(ma("scan", str(repo.path), "--json").stdout)
    assert scan["versions_dirs"] == ["myapp/db/migrations/versions"]


def neutron_style(rev: str, down: str, label_expr: str | None, imports: str) -> str:
    """A neutron-family revision: labels named by a constant of a module, not written out."""
    labels = f"branch_labels = ({label_expr},)\n" if label_expr else ""
    return f'''"""{rev}

Revision ID: {rev}
Revises: {down}
Create Date: 2015-07-01 10:00:00.000000

"""
{imports}
revision = '{rev}'
down_revision = '{down}'
{labels}

def upgrade():
    pass
'''


def test_labels_named_by_constants_pass_check_as_alembic_would(repo: GitRepo) -> None:
    """Class 2: ``branch_labels = (cli.EXPAND_BRANCH,)`` (neutron, neutron-vpnaas) made present files
    unparseable. Resolved from a module in the repository at the same commit, or, when the module is
    another project's, kept as an unknown label: present, and expand/contract still a design."""
    own = "from myapp.db.migration import cli\n"
    other = "from neutron.db.migration import cli\n"
    repo.commit("release", {
        "alembic.ini": INI, **environment_files(),
        "myapp/__init__.py": "", "myapp/db/__init__.py": "", "myapp/db/migration/__init__.py": "",
        "myapp/db/migration/cli.py": "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\n",
        f"{V}/kilo_release.py": revision_source("kilo", None, "kilo"),
        f"{V}/liberty/expand/e1_initial.py": neutron_style("e1", "kilo", "cli.EXPAND_BRANCH", own),
        f"{V}/liberty/contract/c1_initial.py": neutron_style("c1", "kilo", "cli.CONTRACT_BRANCH", other),
    })
    code, doc = check_json(repo)
    assert code == 0, doc
    assert doc["heads"] == ["c1", "e1"] and not [p for p in doc["problems"] if p["level"] == "error"]
    scan = {r["revision"]: r for r in json.loads(ma("scan", str(repo.path), "--json").stdout)["revisions"]}
    assert scan["e1"]["branch_labels"] == ["expand"] and scan["e1"]["present"]
    assert scan["c1"]["branch_labels"] == [] and scan["c1"]["present"]
    assert scan["c1"]["notes"] == ["branch_labels names neutron.db.migration.cli.CONTRACT_BRANCH, not read from this file"]
    restore = ma("restore", "expand", str(repo.path), "--json")  # a label resolved from the repository names its revision
    assert restore.returncode == 0 and json.loads(restore.stdout)["requested"] == ["e1"]


def test_a_re_pointed_down_revision_is_a_superseded_edit(repo: GitRepo) -> None:
    """Issue 23, class 1 (seen on redash, ckan, indico, quay, warehouse): a → b, then c added on a,
    then c's own file edited to revise b, the usual fix after two branches each added a revision.
    Alembic sees one head, c. c's first version, on HEAD's own history at the same path, is an edit
    the second superseded: no conflicting-versions, not even with --strict. A version of c only in a
    pull-request ref still is one (a warning)."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "a")})
    repo.commit("b", {f"{V}/b_b.py": revision_source("b", "a", "b")})
    repo.commit("c on a", {f"{V}/c_c.py": revision_source("c", "a", "c")})
    repo.commit("c re-pointed", {f"{V}/c_c.py": revision_source("c", "b", "c")})
    code, doc = check_json(repo, "--strict")
    assert (code, doc["problems"], doc["heads"]) == (0, [], ["c"])
    repo.git("checkout", "-q", "-b", "pr", "HEAD~1")
    repo.commit("c on nothing", {f"{V}/c_c.py": revision_source("c", None, "c")})
    repo.git("update-ref", "refs/pull/9/head", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "pr")
    code, doc = check_json(repo)
    assert code == 0
    (rival,) = [p for p in doc["problems"] if p["kind"] == "conflicting-versions"]
    assert rival["level"] == "warning" and "revises nothing" in rival["message"] and "revises a;" not in rival["message"]


def test_a_squash_then_an_emptied_folder_brings_back_only_the_squashed_chain(repo: GitRepo) -> None:
    """Issue 23, class 4: a → b → c squashed into the new base s in one commit, d added on s, then the
    versions folder emptied. What is needed is the chain HEAD had just before the emptying: s and d.
    a, b and c were squashed into s: restoring one of them is refused (nothing written) unless told;
    before, the squash was not recognised once its baseline was gone too ("deleted in ...")."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "a")})
    repo.commit("b", {f"{V}/b_b.py": revision_source("b", "a", "b")})
    repo.commit("c", {f"{V}/c_c.py": revision_source("c", "b", "c")})
    squash = repo.commit("squash", {f"{V}/s_squash.py": revision_source("s", None, "squashed baseline")},
                         remove=[f"{V}/a_base.py", f"{V}/b_b.py", f"{V}/c_c.py"])
    repo.commit("d", {f"{V}/d_d.py": revision_source("d", "s", "d")})
    repo.commit("emptied", remove=[f"{V}/s_squash.py", f"{V}/d_d.py"])
    (repo.path / V).mkdir(parents=True, exist_ok=True)
    code, doc = check_json(repo)
    assert code == 1 and sorted(doc["missing"]) == ["d", "s"]
    refused = ma("restore", "a", str(repo.path), "--apply")
    assert refused.returncode == 1 and sorted(p.name for p in (repo.path / V).iterdir()) == []
    assert f'a was squashed into s in {squash[:10]} "squash"' in refused.stderr, refused.stderr
    restored = ma("restore", "d", str(repo.path), "--apply")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert sorted(p.name for p in (repo.path / V).glob("*.py")) == ["d_d.py", "s_squash.py"]
    code, doc = check_json(repo)
    assert (code, doc["heads"], doc["missing"]) == (0, ["d"], [])


def test_a_file_renamed_and_edited_in_one_commit_is_one_revisions_story(repo: GitRepo) -> None:
    """Issue 23, class 2: b's file renamed and edited in one commit (git calls it a rename, 87%
    similar): one file declares b at HEAD, and its old name is its own earlier version, not another
    file with the same ID. No duplicate-id, not even with --strict; a copy under another name still is one."""
    repo.commit("base", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "a")})
    body = "    op.add_column('t', sa.Column('c', sa.Integer()))\n    op.add_column('t', sa.Column('d', sa.Integer()))"
    repo.commit("b", {f"{V}/b_old_name.py": revision_source("b", "a", "b", body=body)})
    repo.git("mv", f"{V}/b_old_name.py", f"{V}/b_new_name.py")
    repo.commit("rename and edit b", {f"{V}/b_new_name.py": revision_source("b", "a", "b", body=body + "\n    pass")})
    assert repo.git("show", "-M", "--name-status", "--format=", "HEAD").startswith("R")  # git: a rename
    code, doc = check_json(repo, "--strict")
    assert (code, doc["problems"], doc["heads"]) == (0, [], ["b"])
    repo.commit("a copy", {f"{V}/b_copy.py": revision_source("b", "a", "b, copied")})
    code, doc = check_json(repo)
    assert code == 1 and [p["kind"] for p in doc["problems"]] == ["duplicate-id"]


def test_a_folder_of_present_revisions_beats_an_old_versions_folder_in_history(repo: GitRepo) -> None:
    """Issue 23, class 3 (flaskbb): no alembic.ini; the application's code sets script_location to
    app/migrations, whose revision files sit in the folder itself; history also had an older
    migrations/versions. Alembic loads what is in app/migrations: check judged the old folder and
    called both present revisions missing (flaskbb: "13 revision(s) missing")."""
    repo.commit("old layout", {"migrations/versions/a_a.py": revision_source("a", None, "a")})
    repo.commit("move", {"app/migrations/a_a.py": revision_source("a", None, "a"),
                         "app/migrations/b_b.py": revision_source("b", "a", "b"),
                         "app/migrations/script.py.mako": "# template\n"},
                remove=["migrations/versions/a_a.py"])
    code, doc = check_json(repo)
    assert (code, doc["heads"], doc["missing"]) == (0, ["b"], []), doc
    scan = ma("scan", str(repo.path), "--json")
    assert json.loads(scan.stdout)["versions_dirs"] == ["app/migrations"]


def test_a_plugins_revision_on_another_package_is_external(repo: GitRepo) -> None:
    """Issue 23, class 5 (inveniosoftware/invenio-accounts): a plugin module whose setup.cfg hands its
    revisions to a host (``invenio_db.alembic``) names in depends_on a revision of another package,
    never in this repository. check said missing-parent ... not present anywhere, exit 1; it is
    external: one warning, exit 0, nothing to restore. Without the entry point, it is still missing."""
    setup_cfg = "[metadata]\nname = plugin\n\n[options.entry_points]\ninvenio_db.alembic =\n    plugin = plugin:alembic\n"
    repo.commit("plugin", {
        "plugin/alembic/p1_create_branch.py": revision_source("p1", None, "branch", branch_labels="plugin",
                                                             depends_on="dbdbc1b19cf2"),
        "plugin/alembic/p2_tables.py": revision_source("p2", "p1", "tables"),
    })
    code, doc = check_json(repo, "--versions", "plugin/alembic")
    assert code == 1 and [p["kind"] for p in doc["problems"]] == ["missing-parent"]
    repo.commit("entry point", {"setup.cfg": setup_cfg})
    code, doc = check_json(repo, "--versions", "plugin/alembic")
    assert code == 0 and doc["heads"] == ["p2"], doc
    (external,) = doc["problems"]
    assert (external["kind"], external["level"], external["revisions"]) == ("external-revision", "warning", ["p1", "dbdbc1b19cf2"])
    assert "invenio_db.alembic" in external["message"]
    restore = ma("restore", "dbdbc1b19cf2", str(repo.path), "--versions", "plugin/alembic")
    assert restore.returncode == 1 and "Can't locate revision identified by 'dbdbc1b19cf2'" in restore.stderr


def test_alembic_entry_point_groups_are_read_as_text_from_each_kind_of_file(tmp_path: Path) -> None:
    """setup.cfg, pyproject.toml ([project.entry-points] and Poetry's plugins) and setup.py (a literal
    entry_points=... read with ast, never run: the marker file must not appear)."""
    from migration_archaeologist.project.entry_points import alembic_entry_point_groups

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[project.entry-points."invenio_db.alembic"]\np = "p:alembic"\n'
        '[project.entry-points."console_scripts"]\np = "p:main"\n'
        '[tool.poetry.plugins."other.alembic_branches"]\nq = "q:alembic"\n'
    )
    marker = tmp_path / "ran"
    (tmp_path / "setup.py").write_text(
        f"open({str(marker)!r}, 'w')\nfrom setuptools import setup\n"
        "setup(name='p', entry_points={'old_host.alembic': ['p = p:alembic'], 'console_scripts': []})\n"
    )
    assert alembic_entry_point_groups(tmp_path) == ("invenio_db.alembic", "old_host.alembic", "other.alembic_branches")
    assert not marker.exists()
    assert alembic_entry_point_groups(tmp_path / "nowhere") == ()


def test_a_flask_migrate_folder_is_its_own_script_location(repo: GitRepo) -> None:
    """Issue 23, class 3 (CTFd, redash): migrations/alembic.ini without script_location is Flask-Migrate's,
    and its own folder is the script location; an older alembic/versions in history is history. The
    two present revisions are present, one head, nothing missing (fixed with the real-repository
    issue; kept here so it stays fixed)."""
    repo.commit("old", {"alembic.ini": INI, **environment_files(), f"{V}/a_base.py": revision_source("a", None, "a")})
    flask = {k.replace("alembic/", "migrations/"): v for k, v in environment_files().items()}
    repo.commit("to Flask-Migrate", {"migrations/alembic.ini": "[alembic]\n\n[loggers]\nkeys = root\n", **flask,
                                     "migrations/versions/x_x.py": revision_source("x", None, "x"),
                                     "migrations/versions/y_y.py": revision_source("y", "x", "y")},
                remove=["alembic.ini", f"{V}/a_base.py", *environment_files()])
    code, doc = check_json(repo)
    assert (code, doc["heads"], doc["missing"], doc["problems"]) == (0, ["y"], [], []), doc


def test_a_plugin_checked_with_its_hosts_folder_has_labelled_heads_by_design(repo: GitRepo) -> None:
    """Issue 23, class 5: with --versions naming the host package's folder as well, the plugin's
    depends_on resolves, and the two labelled branches' heads are a design, not multiple-heads."""
    repo.commit("both", {
        "host/alembic/dbdbc1b19cf2_create_db_branch.py": revision_source("dbdbc1b19cf2", None, "db", branch_labels="invenio_db"),
        "host/alembic/h2_tables.py": revision_source("h2", "dbdbc1b19cf2", "h2"),
        "plugin/alembic/p1_branch.py": revision_source("p1", None, "branch", branch_labels="plugin", depends_on="dbdbc1b19cf2"),
        "plugin/alembic/p2_tables.py": revision_source("p2", "p1", "tables"),
        "setup.cfg": "[options.entry_points]\ninvenio_db.alembic =\n    plugin = plugin:alembic\n",
    })
    code, doc = check_json(repo, "--versions", "host/alembic", "--versions", "plugin/alembic", "--strict")
    assert (code, doc["heads"], doc["problems"]) == (0, ["h2", "p2"], []), doc


def test_an_emptied_folder_is_where_the_files_were_just_before(repo: GitRepo) -> None:
    """The seed's cleanup replayed on flaskbb (benchmarks/recover_real.py): no configuration, the
    revision files moved from migrations/versions to app/migrations years ago, then app/migrations
    emptied. What is needed goes back where it was just before the emptying, not to the older
    folder a "versions" name would prefer (recover wrote flaskbb's 14 files there)."""
    repo.commit("old layout", {"migrations/versions/a_a.py": revision_source("a", None, "a")})
    repo.commit("move", {"app/migrations/a_a.py": revision_source("a", None, "a"),
                         "app/migrations/b_b.py": revision_source("b", "a", "b")},
                remove=["migrations/versions/a_a.py"])
    repo.commit("cleanup", remove=["app/migrations/a_a.py", "app/migrations/b_b.py"])
    scan = json.loads(ma("scan", str(repo.path), "--json").stdout)
    assert scan["versions_dirs"] == ["app/migrations"] and sorted(scan["missing"]) == ["a", "b"]
    restored = ma("restore", "b", str(repo.path), "--apply", "--no-alembic-check")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert sorted(p.name for p in (repo.path / "app" / "migrations").glob("*.py")) == ["a_a.py", "b_b.py"]
    assert not (repo.path / "migrations" / "versions").exists()


def test_recover_leaves_a_program_provided_env_py_to_the_program(repo: GitRepo) -> None:
    """flaskbb (Flask-Alembic), its folder emptied: the revision files sit in the script folder itself
    and history never had an env.py there: recover brings back the revisions and script.py.mako,
    writes no env.py (Alembic would load it as a revision: "could not load migrations/env.py") and no
    alembic.ini, and Alembic works again."""
    repo.commit("flat", {"app/migrations/a_a.py": revision_source("a", None, "a"),
                         "app/migrations/b_b.py": revision_source("b", "a", "b"),
                         "app/migrations/script.py.mako": environment_files()["alembic/script.py.mako"]})
    repo.commit("cleanup", remove=["app/migrations/a_a.py", "app/migrations/b_b.py", "app/migrations/script.py.mako"])
    proc = ma("recover", str(repo.path), "--apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("Alembic works again: heads b"), proc.stdout
    assert sorted(p.name for p in (repo.path / "app" / "migrations").iterdir() if not p.name.startswith(".")) == [
        "a_a.py", "b_b.py", "migration-archaeologist-manifest.json", "script.py.mako"]
    assert not list(repo.path.rglob("alembic.ini")) and not list(repo.path.rglob("env.py"))


def test_recover_of_an_emptied_plugin_folder_names_the_host_revision(repo: GitRepo) -> None:
    """invenio-accounts, its folder emptied (the seed's cleanup replayed): the plan is complete (the
    host's dbdbc1b19cf2 is not 'no source holds it'), the revisions come back without an env.py or a
    template of Alembic's own, and the verdict says why Alembic alone cannot load the folder."""
    setup_cfg = "[options.entry_points]\ninvenio_db.alembic =\n    plugin = plugin:alembic\n"
    files = {"plugin/alembic/p1_create_branch.py": revision_source("p1", None, "branch", branch_labels="plugin",
                                                                  depends_on="dbdbc1b19cf2"),
             "plugin/alembic/p2_tables.py": revision_source("p2", "p1", "tables")}
    repo.commit("plugin", {"setup.cfg": setup_cfg, **files})
    repo.commit("cleanup", remove=list(files))
    plan = ma("recover", str(repo.path), "--json")
    assert json.loads(plan.stdout)["complete"] is True, plan.stdout
    proc = ma("recover", str(repo.path), "--apply")
    assert proc.returncode == 1
    assert "Alembic cannot load this folder alone: it names another package's dbdbc1b19cf2" in proc.stdout, proc.stdout
    assert sorted(p.name for p in (repo.path / "plugin" / "alembic").glob("*.py")) == ["p1_create_branch.py", "p2_tables.py"]
    assert not (repo.path / "plugin" / "alembic" / "env.py").exists()
    assert not (repo.path / "plugin" / "alembic" / "script.py.mako").exists()


def test_recover_with_a_package_path_script_location_never_imports_the_package(repo: GitRepo, tmp_path: Path) -> None:
    """gnocchi: alembic.ini says script_location = app.indexer:alembic. Alembic asked with it imports
    the application's package ("No module named 'app'": recover said Alembic does not work); the
    folder found in the repository is given instead, and the package's code never runs (a marker)."""
    marker = tmp_path / "imported"
    files = {f"app/indexer/alembic/versions/{r}_{r}.py": revision_source(r, d, r) for r, d in (("a", None), ("b", "a"))}
    env = {k.replace("alembic/", "app/indexer/alembic/"): v for k, v in environment_files().items()}
    repo.commit("gnocchi-like", {
        "app/__init__.py": f"open({str(marker)!r}, 'w')\n", "app/indexer/__init__.py": "",
        "app/indexer/alembic/alembic.ini": "[alembic]\nscript_location = app.indexer:alembic\n", **env, **files,
    })
    repo.commit("cleanup", remove=[*files, *env])
    proc = ma("recover", str(repo.path), "--apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("Alembic works again: heads b"), proc.stdout
    assert not marker.exists()
