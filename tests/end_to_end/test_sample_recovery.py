"""The founding scenario end to end: the TaskMan-v2 sample loses everything, we bring it back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.sources.bytecode.rebuild import rebuild

SAMPLE = Path(__file__).resolve().parents[2] / "sample_repos" / "taskman-v2"




def test_every_revision_is_found_where_it_survives(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = builder.build(tmp_path / "tm")
    result = scan_repository(info["repo"])
    # alembic.ini is gone too: the versions directory is inferred from where revisions lived
    assert result.versions_origin == "history"
    assert [result.relative(d) for d in result.versions_dirs] == [info["versions_dir"]]
    assert set(result.catalog.entries) == set(info["revisions"])
    for rev, meta in info["revisions"].items():
        entry = result.catalog.entries[rev]
        assert not entry.present
        if meta["blob"] is not None:
            assert entry.chosen.blob == meta["blob"], f"{rev}: {entry.reason}"
        assert meta["survives_in"] in {s.source for c in entry.candidates for s in c.sightings}
    # the baseline was never committed: only its __pycache__ bytecode, rebuilt without executing it
    baseline = result.catalog.entries["20251015_baseline"]
    assert {s.source for c in baseline.candidates for s in c.sightings} == {"bytecode"}
    assert baseline.chosen.fidelity == "bytecode" and "bytecode" in baseline.reason
    assert [s.path for s in baseline.chosen.sightings] == [info["revisions"]["20251015_baseline"]["pyc"]]
    # 48b01bf7ee65: two committed versions; the 10-18 one is also in the archive/ zip, the 10-19 one wins
    entry_48 = result.catalog.entries["48b01bf7ee65"]
    exact = [c for c in entry_48.candidates if c.fidelity == "exact"]
    assert len(exact) == 2
    (older,) = [c for c in exact if c.blob == info["revisions"]["48b01bf7ee65"]["earlier_blobs"][0]]
    archived = [s for s in older.sightings if s.source == "archive"]
    assert archived and archived[0].path.startswith(info["archive"])
    assert not [s for s in entry_48.chosen.sightings if s.source == "archive"]
    assert entry_48.chosen.blob == info["revisions"]["48b01bf7ee65"]["blob"]
    # the cleanup left __pycache__ behind: rebuilt candidates exist, and the exact ones win
    for rev in ("48b01bf7ee65", "84456d47e6aa", "b22b3b5a376f"):
        entry = result.catalog.entries[rev]
        assert any(c.fidelity == "bytecode" for c in entry.candidates) and entry.chosen.fidelity == "exact"
    assert result.catalog.entries["84456d47e6aa"].chosen.size == 4167
    assert result.catalog.entries["b22b3b5a376f"].chosen.size == 1139
    assert result.chain.heads == ("b22b3b5a376f",) and result.chain.bases == ("20251015_baseline",)
    assert result.chain.problems == ()
    assert list(result.missing) == info["chain"]


def test_restore_up_to_the_stamped_head_and_alembic_agrees(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = builder.build(tmp_path / "tm")
    result = scan_repository(info["repo"])
    plan = plan_restore(result, [info["stamped"]])
    outcome = apply_restore(plan, result)
    versions = Path(info["repo"]) / info["versions_dir"]
    assert sorted(p.name for p in versions.glob("*.py")) == sorted(m["file"] for m in info["revisions"].values())
    for rev, meta in info["revisions"].items():
        data = (versions / meta["file"]).read_bytes()
        if rev == "20251015_baseline":
            continue
        blob = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True).stdout.decode().strip()
        assert blob == meta["blob"], rev  # byte-identical to its last committed version
    # the baseline has no committed version: it is the rebuild of its .pyc, and says so up front
    baseline = (versions / info["revisions"]["20251015_baseline"]["file"]).read_bytes()
    head = "\n".join(baseline.decode().splitlines()[:5]).lower()
    assert "reconstructed from bytecode" in head, head
    pyc = Path(info["repo"]) / info["revisions"]["20251015_baseline"]["pyc"]
    rebuilt = rebuild(pyc.read_bytes(), pyc_name=info["revisions"]["20251015_baseline"]["pyc"])
    assert rebuilt.complete is True, getattr(rebuilt, "differences", rebuilt)
    assert baseline == rebuilt.source  # what restore wrote is that rebuild
    assert outcome.alembic is not None and outcome.alembic.heads == ("b22b3b5a376f",)
    assert outcome.heads_agree is True
    assert scan_repository(info["repo"]).missing == ()


def test_the_readme_main_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SAMPLE / "recover.py")], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Alembic works again: current b22b3b5a376f (head)" in proc.stdout
    # the three-way verdict ends the job: the chain replayed into a scratch database matches the live one, the
    # stamp is the head, and env.py's models (app.models:Base.metadata) lag behind the database they describe
    tail = proc.stdout[proc.stdout.rindex("three-way verdict:"):].splitlines()
    assert [line.split(":")[0].strip() for line in tail[1:] if not line.startswith("       ")][:3] == [
        "ok chain = database", "FAILED models = database", "ok chain head = stamp"]
    assert "10 difference(s) between the models (app.models:Base.metadata) and the live database" in tail[2]
    assert tail[-1] == "models-drift"
    assert "5 revisions and TaskMan-v2/backend-api/alembic.ini restored byte-identical" in proc.stdout
    assert "20251015_baseline rebuilt from its __pycache__ bytecode (never committed)" in proc.stdout
    assert "Traceback" not in proc.stderr
    # the reports lived in a temp folder the script removes: it must not point at them as if they were there
    assert "taskman-v2-report.html (HTML" not in proc.stdout and "run with --keep to keep it" in proc.stdout
