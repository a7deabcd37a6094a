"""Resolving what revision files name from other modules (``branch_labels = (cli.EXPAND_BRANCH,)``),
on real neutron / neutron-vpnaas files and small packages; modules are read, never imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitfixture import GitRepo
from migration_archaeologist.parse.constants import (
    git_reader,
    module_paths,
    resolve_reference,
    resolve_revision,
    worktree_reader,
)
from migration_archaeologist.sources.git.repository import open_repository
from migration_archaeologist.parse.revision import RevisionFile, parse_revision

NEUTRON = Path(__file__).resolve().parents[1] / "fixtures" / "neutron"
#: neutron's own modules, where the neutron-vpnaas files' constants are defined
NEUTRON_MODULES = {
    "neutron/db/migration/cli.py": (NEUTRON / "neutron_db_migration_cli.py").read_bytes(),
    "neutron/db/migration/__init__.py": (NEUTRON / "neutron_db_migration__init__.py").read_bytes(),
}


def revision_of(data: bytes) -> RevisionFile:
    rev = parse_revision(data)
    assert isinstance(rev, RevisionFile), rev
    return rev


class Reader:
    """A dict of modules by path, counting what was asked for."""

    def __init__(self, modules: dict[str, bytes]) -> None:
        self.modules = modules
        self.asked: list[str] = []

    def __call__(self, path: str) -> bytes | None:
        self.asked.append(path)
        return self.modules.get(path)


# --------------------------------------------------------------------------- neutron


@pytest.mark.parametrize(
    ("reference", "value"),
    [
        ("neutron.db.migration.cli.EXPAND_BRANCH", "expand"),
        ("neutron.db.migration.cli.CONTRACT_BRANCH", "contract"),
        ("neutron.db.migration.cli.MIGRATION_BRANCHES", ("expand", "contract")),  # a tuple of names
        ("neutron.db.migration.LIBERTY", "liberty"),  # a package's __init__.py
        ("'neutron-' + neutron.db.migration.cli.CONTRACT_BRANCH", "neutron-contract"),
        ("neutron.db.migration.cli.CONF", None),  # cfg.CONF: not a literal
        ("neutron.db.migration.cli.do_upgrade", None),  # a function
        ("neutron.db.migration.cli.NO_SUCH_NAME", None),
        ("neutron.db.migration.cli", None),  # a module, not a constant
        ("neutron.plugins.ml2.EXPAND_BRANCH", None),  # a module not there
        ("EXPAND_BRANCH", None),
        ("compute()", None),
        (".cli.EXPAND_BRANCH", None),  # relative, but to no file
    ],
)
def test_resolving_neutrons_constants(reference: str, value: object) -> None:
    assert resolve_reference(reference, Reader(NEUTRON_MODULES)) == value


def test_a_neutron_vpnaas_revision_resolved_against_neutron() -> None:
    expand = revision_of((NEUTRON / "30018084ed99_initial.py").read_bytes())
    resolved = resolve_revision(expand, Reader(NEUTRON_MODULES))
    assert resolved.branch_labels == ("expand",) and resolved.unresolved == ()
    assert resolved.revision == expand.revision and resolved.down_revisions == expand.down_revisions
    contract = revision_of((NEUTRON / "56893333aa52_fix_identifier_map_fk.py").read_bytes())
    assert resolve_revision(contract, Reader(NEUTRON_MODULES)).branch_labels == ("contract",)


def test_in_neutron_vpnaas_the_constant_lives_elsewhere_so_it_stays_unresolved(tmp_path: Path) -> None:
    """neutron-vpnaas's tree holds no ``neutron`` package: the label is unknown, the file still a revision."""
    versions = tmp_path / "neutron_vpnaas/db/migration/alembic_migrations/versions/liberty/expand"
    versions.mkdir(parents=True)
    (tmp_path / "neutron_vpnaas/__init__.py").write_text("")
    data = (NEUTRON / "30018084ed99_initial.py").read_bytes()
    (versions / "30018084ed99_initial.py").write_bytes(data)
    rev = revision_of(data)
    reader = Reader({})
    read = worktree_reader(tmp_path)
    assert resolve_revision(rev, lambda p: reader(p) or read(p)) is rev
    assert reader.asked == [
        "neutron/db/migration/cli/__init__.py", "neutron/db/migration/cli.py",
        "src/neutron/db/migration/cli/__init__.py", "src/neutron/db/migration/cli.py",
    ]
    assert rev.unresolved == (("branch_labels", "neutron.db.migration.cli.EXPAND_BRANCH"),)


# --------------------------------------------------------------------------- a package of one's own


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


REVISION = (
    '"""expand"""\nfrom myapp.db import cli\n\nrevision = "r1"\ndown_revision = None\n'
    "branch_labels = (cli.EXPAND_BRANCH,)\ndepends_on = (cli.BASE_REVISION, 'r0')\n"
)


@pytest.mark.parametrize("prefix", ["", "src/"])
def test_a_constant_in_the_same_repository_is_resolved(tmp_path: Path, prefix: str) -> None:
    write(tmp_path, {
        f"{prefix}myapp/__init__.py": "",
        f"{prefix}myapp/db/__init__.py": "",
        f"{prefix}myapp/db/cli.py": "import os\n\nEXPAND_BRANCH = 'expand'\nBASE_REVISION = 'r00'\n\n\ndef main():\n    pass\n",
    })
    rev = revision_of(REVISION.encode())
    assert rev.branch_labels == () and rev.depends_on == ("r0",)
    assert rev.unresolved == (("branch_labels", "myapp.db.cli.EXPAND_BRANCH"), ("depends_on", "myapp.db.cli.BASE_REVISION"))
    resolved = resolve_revision(rev, worktree_reader(tmp_path))
    assert resolved.branch_labels == ("expand",)
    assert resolved.depends_on == ("r0", "r00")
    assert resolved.unresolved == ()
    assert resolved.notes == ()


def test_what_cannot_be_resolved_stays_and_the_rest_is_filled_in(tmp_path: Path) -> None:
    write(tmp_path, {"myapp/db/cli.py": "EXPAND_BRANCH = 'expand'\nBASE_REVISION = compute()\n"})
    resolved = resolve_revision(revision_of(REVISION.encode()), worktree_reader(tmp_path))
    assert resolved.branch_labels == ("expand",) and resolved.depends_on == ("r0",)
    assert resolved.unresolved == (("depends_on", "myapp.db.cli.BASE_REVISION"),)


@pytest.mark.parametrize(
    ("files", "value"),
    [
        # one re-export is followed, absolute or relative
        ({"myapp/db/cli.py": "from myapp.db.names import EXPAND as EXPAND_BRANCH\n",
          "myapp/db/names.py": "EXPAND = 'expand'\n"}, "expand"),
        ({"myapp/db/cli.py": "from .names import EXPAND_BRANCH\n",
          "myapp/db/names.py": "EXPAND_BRANCH = 'expand'\n"}, "expand"),
        ({"myapp/db/cli.py": "from . import names\nEXPAND_BRANCH = names.EXPAND\n",
          "myapp/db/names.py": "EXPAND = 'expand'\n"}, "expand"),
        ({"myapp/db/cli/__init__.py": "EXPAND_BRANCH = 'from the package'\n",
          "myapp/db/cli.py": "EXPAND_BRANCH = 'shadowed by the package'\n"}, "from the package"),
        # but only one
        ({"myapp/db/cli.py": "from myapp.db.names import EXPAND_BRANCH\n",
          "myapp/db/names.py": "from myapp.db.deeper import EXPAND_BRANCH\n",
          "myapp/db/deeper.py": "EXPAND_BRANCH = 'too far'\n"}, None),
        # the module's value once it has run, as far as that can be seen
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'a'\nEXPAND_BRANCH = 'b'\n"}, "b"),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'a'\nif X:\n    EXPAND_BRANCH = 'b'\n"}, None),
        ({"myapp/db/cli.py": "try:\n    from fast import EXPAND_BRANCH\nexcept ImportError:\n    EXPAND_BRANCH = 'e'\n"}, None),
        ({"myapp/db/cli.py": "def EXPAND_BRANCH():\n    return 'e'\n"}, None),
        # a function's own variable of the same name is not the module's; one declared global is
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\ndef f():\n    EXPAND_BRANCH = 'local'\n"}, "e"),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\nclass C:\n    EXPAND_BRANCH = 'attribute'\n"}, "e"),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\ndef f():\n    global EXPAND_BRANCH\n    EXPAND_BRANCH = 'x'\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\nclass C:\n    def m(self):\n        global EXPAND_BRANCH\n"}, None),
        # what a def runs at module level (defaults, decorators, bases) may bind it
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\ndef f(x=(EXPAND_BRANCH := 'd')):\n    pass\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\n@deco(EXPAND_BRANCH := 'd')\ndef f():\n    pass\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\nclass C((EXPAND_BRANCH := object)):\n    pass\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 1\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = None\n"}, ()),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = ['b', 'a']\n"}, ("b", "a")),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = {'b', 'a'}\n"}, ("a", "b")),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = ('a', ('b',))\n"}, None),
        ({"myapp/db/cli.py": "from myapp.db.names import *\n", "myapp/db/names.py": "EXPAND_BRANCH = 'e'\n"}, None),
        # a module that is not Python 3 text binds nothing readable
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\nprint 'python 2'\n"}, None),
        ({"myapp/db/cli.py": "EXPAND_BRANCH = 'e'\n\x00"}, None),
    ],
)
def test_module_level_values(tmp_path: Path, files: dict[str, str], value: object) -> None:
    write(tmp_path, files)
    assert resolve_reference("myapp.db.cli.EXPAND_BRANCH", worktree_reader(tmp_path)) == value


def test_a_relative_import_in_the_revision_file_is_resolved_from_its_path(tmp_path: Path) -> None:
    write(tmp_path, {"myapp/migrations/labels.py": "EXPAND = 'expand'\n"})
    rev = revision_of(b"from ..labels import EXPAND\nrevision = 'r1'\ndown_revision = None\nbranch_labels = EXPAND\n")
    assert rev.unresolved == (("branch_labels", "..labels.EXPAND"),)
    read = worktree_reader(tmp_path)
    assert resolve_revision(rev, read) is rev  # no path: a relative reference names no file
    resolved = resolve_revision(rev, read, path="myapp/migrations/versions/r1_expand.py")
    assert resolved.branch_labels == ("expand",) and resolved.unresolved == ()


def test_reading_a_module_never_runs_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write(tmp_path, {"myapp/db/cli.py": (
        f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(3)\nEXPAND_BRANCH = 'expand'\n"
    )})
    assert resolve_reference("myapp.db.cli.EXPAND_BRANCH", worktree_reader(tmp_path)) == "expand"
    assert not marker.exists()


def test_each_module_is_read_once_per_revision() -> None:
    reader = Reader({"myapp/db/cli.py": b"EXPAND_BRANCH = 'expand'\nBASE_REVISION = 'r00'\n"})
    resolve_revision(revision_of(REVISION.encode()), reader)
    assert reader.asked == ["myapp/db/cli/__init__.py", "myapp/db/cli.py"]


# --------------------------------------------------------------------------- paths and readers


@pytest.mark.parametrize(
    ("module", "importer", "paths"),
    [
        ("a.b", None, ("a/b/__init__.py", "a/b.py", "src/a/b/__init__.py", "src/a/b.py")),
        (".cli", "app/versions/x.py", ("app/versions/cli/__init__.py", "app/versions/cli.py")),
        (".", "app/versions/x.py", ("app/versions/__init__.py",)),
        ("..db", "app/versions/x.py", ("app/db/__init__.py", "app/db.py")),
        ("...", "app/versions/x.py", ()),  # beyond the top-level package
        (".cli", None, ()),
        ("a..b", None, ()),
        ("a.b-c", None, ()),
        ("", None, ()),
    ],
)
def test_module_paths(module: str, importer: str | None, paths: tuple[str, ...]) -> None:
    assert module_paths(module, importer) == paths


def test_the_work_tree_reader_stays_inside_its_root(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"myapp/cli.py": "EXPAND = 'in'\n"})
    write(tmp_path, {"outside.py": "EXPAND = 'out'\n"})
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    read = worktree_reader(root)
    assert read("myapp/cli.py") == b"EXPAND = 'in'\n"
    assert read("../outside.py") is None
    assert read(str(tmp_path / "outside.py")) is None
    assert read("link.py") is None
    assert read("myapp") is None and read("missing.py") is None


def test_the_git_reader_reads_the_module_as_it_stood_at_a_commit(repo: GitRepo) -> None:
    first = repo.commit("one", {"myapp/db/cli.py": "EXPAND_BRANCH = 'expand'\n"})
    second = repo.commit("two", {"myapp/db/cli.py": "EXPAND_BRANCH = 'grow'\n"})
    opened = open_repository(repo.path)
    rev = revision_of(REVISION.encode())
    assert resolve_revision(rev, git_reader(opened, first)).branch_labels == ("expand",)
    assert resolve_revision(rev, git_reader(opened, second)).branch_labels == ("grow",)
    assert git_reader(opened, first)("myapp/db/missing.py") is None
    assert git_reader(opened, first)("../etc/passwd") is None


def test_what_a_commits_modules_resolved_to_is_kept_and_used_again(repo: GitRepo) -> None:
    """A committed revision's constants are read from the commit's own modules once; a rescan takes
    what was kept (a hand-edited entry shows it), --no-cache reads the modules again, and a torn file
    is ignored."""
    from migration_archaeologist.chain.scan import scan_repository
    from migration_archaeologist.sources.git.cache import cache_path

    repo.commit("one", {
        "myapp/__init__.py": "", "myapp/db/__init__.py": "",
        "myapp/db/cli.py": "EXPAND_BRANCH = 'expand'\n",
        "alembic/versions/e1_initial.py": REVISION,
    })
    repo.commit("moved", {"myapp/db/cli.py": "EXPAND_BRANCH = 'grow'\n"}, remove=["alembic/versions/e1_initial.py"])

    def labels(**options: object) -> set[tuple[str, ...]]:
        entry = scan_repository(repo.path, versions=["alembic/versions"], evidence=False, **options).catalog.entries["r1"]
        return {c.revision.branch_labels for c in entry.candidates}

    assert labels() == {("expand",)}  # as the module stood at the commit, not as it stands now
    kept = cache_path(open_repository(repo.path)).with_name("constants.json")
    doc = json.loads(kept.read_text())
    # one entry per sighting tried (BASE_REVISION is nowhere, so each commit is asked in turn)
    assert doc["kept"] and all(value == [["expand"], ["r0"], [["depends_on", "myapp.db.cli.BASE_REVISION"]]]
                               for value in doc["kept"].values())
    for key in doc["kept"]:
        doc["kept"][key][0] = ["edited"]
    kept.write_text(json.dumps(doc))
    assert labels() == {("edited",)}
    assert labels(cache=False) == {("expand",)}
    kept.write_text(kept.read_text()[:20])  # torn
    assert labels() == {("expand",)}
    assert json.loads(kept.read_text())["kept"] and "edited" not in kept.read_text()
