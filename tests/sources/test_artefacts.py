"""Deployed artefacts through --archive: wheels, sdists, container images and installed apps, built here.

Each artefact is built by hand (zipfile, tarfile, gzip, py_compile) the way pip, build, docker save
and skopeo lay them out, then scanned and restored from; nothing is extracted or run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import py_compile
import sys
import tarfile
import zipfile
from pathlib import Path

from conftest import ma
from gitfixture import GitRepo, revision_source
from migration_archaeologist.actions.restore import apply_restore, plan_restore
from migration_archaeologist.chain.scan import scan_repository
from migration_archaeologist.parse.revision import RevisionFile, parse_revision
from migration_archaeologist.sources.archive.limits import Limits
from migration_archaeologist.sources.archive.source import ArchiveSource

V = "alembic/versions"
APP_V = "srv/app/alembic/versions"
REV_B = revision_source("b", "a", "next").encode()
REV_B2 = revision_source("b", "a", "next, as deployed").encode()
REV_C = revision_source("c", "b", "third").encode()
OLD, NEW = 1_760_000_000, 1_750_000_000  # the earlier layer's file has the LATER mtime: order, not dates, decides
CREATED = "2025-11-02T09:30:00.123456789Z"
CREATED_ISO = "2025-11-02T09:30:00+00:00"


# ---------------------------------------------------------------------- builders


def tar_bytes(members: dict[str, bytes], mtime: int = OLD) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    path.write_bytes(tar_bytes(members))
    return path


def wheel(path: Path, members: dict[str, bytes]) -> Path:
    record = "".join(f"{name},,\n" for name in members) + "taskman-2.1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.writestr("taskman-2.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        z.writestr("taskman-2.1.0.dist-info/RECORD", record)
    return path


def sdist(path: Path, members: dict[str, bytes]) -> Path:
    files = {"taskman-2.1.0/PKG-INFO": b"Metadata-Version: 2.1\nName: taskman\nVersion: 2.1.0\n"}
    files.update({f"taskman-2.1.0/{name}": data for name, data in members.items()})
    path.write_bytes(gzip.compress(tar_bytes(files), mtime=0))
    return path


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def oci_image(path: Path, layers: list[bytes], *, docker_manifest: bool = True) -> list[str]:
    """An image tar as ``docker save`` (Docker 25+) writes it: OCI layout, layers named by digest,
    manifest.json AFTER the blobs. Returns the layers' member names, bottom first."""
    config = json.dumps(
        {"created": CREATED, "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest(x)}" for x in layers]}}
    ).encode()
    names = [f"blobs/sha256/{digest(x)}" for x in layers]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"digest": f"sha256:{digest(config)}", "size": len(config)},
            "layers": [{"digest": f"sha256:{digest(x)}", "size": len(x)} for x in layers],
        }
    ).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": f"sha256:{digest(manifest)}"}]}).encode()
    members = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    members.update(dict(zip(names, layers)))  # layers first: a stream meets them before any manifest
    members[f"blobs/sha256/{digest(config)}"] = config
    members[f"blobs/sha256/{digest(manifest)}"] = manifest
    members["index.json"] = index
    if docker_manifest:
        members["manifest.json"] = json.dumps(
            [{"Config": f"blobs/sha256/{digest(config)}", "RepoTags": ["taskman:2.1"], "Layers": names}]
        ).encode()
    write_tar(path, members)
    return names


def old_docker_save(path: Path, layers: list[bytes]) -> list[str]:
    """The docker-save layout before OCI: ``<id>/layer.tar`` and a top-level ``<hex>.json`` config."""
    config = json.dumps({"created": CREATED}).encode()
    names = [f"{digest(x)}/layer.tar" for x in layers]
    members = {name: data for name, data in zip(names, layers)}
    members.update({f"{digest(x)}/json": b"{}" for x in layers})
    members[f"{digest(config)}.json"] = config
    members["manifest.json"] = json.dumps([{"Config": f"{digest(config)}.json", "Layers": names}]).encode()
    write_tar(path, members)
    return names


def scan(*paths: Path, limits: Limits = Limits()) -> tuple[ArchiveSource, list]:
    source = ArchiveSource(list(paths), limits=limits)
    return source, list(source.iter_sightings())


def of(source: ArchiveSource, sightings: list, rev: str) -> list:
    return [s for s in sightings if isinstance(p := source.parsed(s.blob), RevisionFile) and p.revision == rev]


def base_repo(repo: GitRepo) -> None:
    """A project whose versions directory lost ``b``: only the deployed artefact still has it."""
    repo.commit("base", {f"{V}/a_base.py": revision_source("a", None, "base")})


def restored(repo: GitRepo, artefact: Path, rev: str = "b") -> tuple[bytes, object]:
    result = scan_repository(repo.path, versions=[V], archives=[artefact])
    plan = plan_restore(result, [rev])
    assert [f.action for f in plan.files] == ["write"]
    apply_restore(plan, result)
    return (repo.path / V / plan.files[0].target.name).read_bytes(), plan.files[0]


# ---------------------------------------------------------------------- wheels and sdists


def test_wheel_egg_and_zipapp_are_read_as_zips(tmp_path: Path) -> None:
    found = {}
    for name in ("taskman-2.1.0-py3-none-any.whl", "taskman-2.1.0-py3.11.egg", "taskman.pyz"):
        artefact = wheel(tmp_path / name, {"taskman/migrations/versions/b_next.py": REV_B})
        source, sightings = scan(artefact)
        found[name] = [s.path for s in of(source, sightings, "b")]
        assert not source.issues
    assert found == {
        name: [f"{tmp_path / name}!taskman/migrations/versions/b_next.py"]
        for name in ("taskman-2.1.0-py3-none-any.whl", "taskman-2.1.0-py3.11.egg", "taskman.pyz")
    }


def test_dist_folder_with_a_wheel_and_an_sdist(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel(dist / "taskman-2.1.0-py3-none-any.whl", {"taskman/migrations/versions/b_next.py": REV_B})
    sdist(dist / "taskman-2.1.0.tar.gz", {"taskman/migrations/versions/c_third.py": REV_C})
    source, sightings = scan(dist)
    assert {s.path for s in sightings} == {
        f"{dist}/taskman-2.1.0-py3-none-any.whl!taskman/migrations/versions/b_next.py",
        f"{dist}/taskman-2.1.0.tar.gz!taskman-2.1.0/taskman/migrations/versions/c_third.py",
    }


def test_restore_from_a_wheel_is_byte_identical(repo: GitRepo, tmp_path: Path) -> None:
    base_repo(repo)
    artefact = wheel(tmp_path / "taskman-2.1.0-py3-none-any.whl", {"taskman/migrations/versions/b_next.py": REV_B})
    written, planned = restored(repo, artefact)
    assert written == REV_B and planned.target.name == "b_next.py" and planned.fidelity == "exact"  # type: ignore[attr-defined]


def test_restore_from_an_sdist_is_byte_identical(repo: GitRepo, tmp_path: Path) -> None:
    """An sdist is a .tar.gz, which main already read: this one guards it, it is not new."""
    base_repo(repo)
    artefact = sdist(tmp_path / "taskman-2.1.0.tar.gz", {"taskman/migrations/versions/b_next.py": REV_B})
    written, planned = restored(repo, artefact)
    assert written == REV_B and planned.target.name == "b_next.py" and planned.fidelity == "exact"  # type: ignore[attr-defined]


def test_untracked_wheel_is_read_without_archive_option(repo: GitRepo) -> None:
    base_repo(repo)
    (repo.path / "dist").mkdir()
    wheel(repo.path / "dist" / "taskman-2.1.0-py3-none-any.whl", {"taskman/migrations/versions/b_next.py": REV_B})
    result = scan_repository(repo.path, versions=[V])
    paths = {s.path for c in result.catalog.entries["b"].candidates for s in c.sightings}
    assert paths == {"dist/taskman-2.1.0-py3-none-any.whl!taskman/migrations/versions/b_next.py"}


# ---------------------------------------------------------------------- container images


def layers_b_then_b2() -> list[bytes]:
    """Layer 1 (gzip) has b as first deployed and c; layer 2 (plain) replaces b and whites c out."""
    first = gzip.compress(tar_bytes({f"{APP_V}/b_next.py": REV_B, f"{APP_V}/c_third.py": REV_C}, mtime=OLD), mtime=0)
    second = tar_bytes({f"{APP_V}/b_next.py": REV_B2, f"{APP_V}/.wh.c_third.py": b""}, mtime=NEW)
    return [first, second]


def test_oci_image_layers_are_found_by_content_and_ordered(tmp_path: Path) -> None:
    image = tmp_path / "image.tar"
    names = oci_image(image, layers_b_then_b2())
    source, sightings = scan(image)
    assert not source.issues
    seen = {(s.path, s.ref, s.date) for s in sightings}
    assert seen == {
        (f"{image}!{names[0]}!{APP_V}/b_next.py", "layer@{1}", CREATED_ISO),
        (f"{image}!{names[0]}!{APP_V}/c_third.py", "layer@{1}", CREATED_ISO),  # whited out later: still a sighting
        (f"{image}!{names[1]}!{APP_V}/b_next.py", "layer@{0}", CREATED_ISO),
    }


def test_oci_layout_without_docker_manifest_orders_by_index(tmp_path: Path) -> None:
    image = tmp_path / "taskman.oci"  # skopeo's oci-archive: no manifest.json, and no known suffix either
    names = oci_image(image, layers_b_then_b2(), docker_manifest=False)
    source, sightings = scan(image)
    assert {(s.path, s.ref) for s in of(source, sightings, "b")} == {
        (f"{image}!{names[0]}!{APP_V}/b_next.py", "layer@{1}"),
        (f"{image}!{names[1]}!{APP_V}/b_next.py", "layer@{0}"),
    }


def test_the_later_layers_version_wins_and_restores_byte_identical(repo: GitRepo, tmp_path: Path) -> None:
    base_repo(repo)
    image = tmp_path / "image.tar"
    oci_image(image, layers_b_then_b2())
    result = scan_repository(repo.path, versions=[V], archives=[image])
    entry = result.catalog.entries["b"]
    assert entry.chosen.revision.message == "next, as deployed" and len(entry.candidates) == 2
    written, planned = restored(repo, image)
    assert written == REV_B2 and planned.fidelity == "exact"  # type: ignore[attr-defined]
    assert "layer@{0}" in planned.origin  # type: ignore[attr-defined]


def test_old_docker_save_layout_orders_layer_tars(repo: GitRepo, tmp_path: Path) -> None:
    base_repo(repo)
    image = tmp_path / "image.tar"
    names = old_docker_save(image, layers_b_then_b2())
    source, sightings = scan(image)
    assert {(s.path, s.ref, s.date) for s in of(source, sightings, "b")} == {
        (f"{image}!{names[0]}!{APP_V}/b_next.py", "layer@{1}", CREATED_ISO),
        (f"{image}!{names[1]}!{APP_V}/b_next.py", "layer@{0}", CREATED_ISO),
    }
    proc = ma("restore", "b", str(repo.path), "--versions", V, "--archive", str(image), "--apply")
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / V / "b_next.py").read_bytes() == REV_B2


def test_image_budget_is_one_for_all_layers(tmp_path: Path) -> None:
    many = {f"{APP_V}/f{i}.py": REV_B for i in range(6)}
    image = tmp_path / "image.tar"
    oci_image(image, [tar_bytes(many), gzip.compress(tar_bytes(many))])
    source, _ = scan(image, limits=Limits(max_entries=10))
    assert [i.reason for i in source.issues] == ["entry count over the 10 limit: rest of the archive not read"] * 2


def test_zstd_layer_and_garbage_blob_are_one_line_issues(tmp_path: Path) -> None:
    image = tmp_path / "image.tar"
    zstd = b"\x28\xb5\x2f\xfd" + bytes(64)
    write_tar(image, {f"blobs/sha256/{digest(zstd)}": zstd, "blobs/sha256/" + "0" * 64: b"\x1f\x8bnot gzip at all"})
    source, sightings = scan(image)
    assert sightings == []
    reasons = sorted(i.reason for i in source.issues)
    assert len(reasons) == 2 and "zstd" in reasons[1] and reasons[0].startswith("not an archive git or Python can read")


def test_given_file_without_suffix_is_sniffed(tmp_path: Path) -> None:
    artefact = tmp_path / "artefact"
    wheel(artefact, {"taskman/migrations/versions/b_next.py": REV_B})
    notes = tmp_path / "notes"
    notes.write_text("nothing here\n")
    source, sightings = scan(artefact, notes)
    assert [s.path for s in sightings] == [f"{artefact}!taskman/migrations/versions/b_next.py"]
    assert [(i.archive, i.reason) for i in source.issues] == [
        (str(notes), "neither an archive (by name or content) nor named *.py: not read")
    ]


# ---------------------------------------------------------------------- an installed app


def site_packages(tmp_path: Path) -> Path:
    """``pip install taskman`` then a sourceless cleanup: b survives only in ``__pycache__``, c as source."""
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    versions = site / "taskman" / "migrations" / "versions"
    cache = versions / "__pycache__"
    cache.mkdir(parents=True)
    source = tmp_path / "b_next.py"
    source.write_bytes(REV_B)
    pyc = cache / f"b_next.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    (versions / "c_third.py").write_bytes(REV_C)
    py_compile.compile(str(versions / "c_third.py"), cfile=str(cache / f"c_third.{sys.implementation.cache_tag}.pyc"))
    dist_info = site / "taskman-2.1.0.dist-info"
    dist_info.mkdir()
    rows = [f"taskman/migrations/versions/{n}" for n in ("c_third.py", f"__pycache__/{pyc.name}")]
    (dist_info / "RECORD").write_text("".join(f"{r},sha256=x,1\n" for r in rows) + "taskman-2.1.0.dist-info/RECORD,,\n")
    return site


def test_site_packages_reads_sourceless_bytecode_and_names_the_distribution(tmp_path: Path) -> None:
    site = site_packages(tmp_path)
    source, sightings = scan(site)
    tag = sys.implementation.cache_tag
    assert {(s.path, s.ref) for s in sightings} == {
        (f"{site}/taskman/migrations/versions/__pycache__/b_next.{tag}.pyc", "taskman==2.1.0"),
        (f"{site}/taskman/migrations/versions/c_third.py", "taskman==2.1.0"),  # its .pyc beside a source: passed over
    }
    (b,) = of(source, sightings, "b")
    assert source.fidelity(b.blob) == "bytecode"


def test_restore_from_site_packages(repo: GitRepo, tmp_path: Path) -> None:
    base_repo(repo)
    repo.commit("c", {f"{V}/c_third.py": REV_C.decode()})
    site = site_packages(tmp_path)
    written, planned = restored(repo, site)
    assert planned.target.name == "b_next.py" and planned.fidelity == "bytecode"  # type: ignore[attr-defined]
    rebuilt = parse_revision(written)
    assert b"reconstructed from bytecode" in written.lower() and isinstance(rebuilt, RevisionFile)
    assert (rebuilt.revision, rebuilt.down_revisions, rebuilt.message) == ("b", ("a",), "next")
    assert "taskman==2.1.0" in planned.origin  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- images: folders, big layers, hostile metadata


def test_oci_layout_folder_is_ordered_too(tmp_path: Path) -> None:
    image = tmp_path / "image.tar"
    names = oci_image(image, layers_b_then_b2(), docker_manifest=False)
    folder = tmp_path / "oci"  # skopeo copy docker://taskman:2.1 oci:oci
    with tarfile.open(image) as archive:
        for member in archive.getmembers():
            target = folder / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    source, sightings = scan(folder)
    assert {(s.path, s.ref, s.date) for s in of(source, sightings, "b")} == {
        (f"{folder}/{names[0]}!{APP_V}/b_next.py", "layer@{1}", CREATED_ISO),
        (f"{folder}/{names[1]}!{APP_V}/b_next.py", "layer@{0}", CREATED_ISO),
    }
    assert not source.issues


def test_a_layer_bigger_than_the_member_limit_is_streamed_not_refused(tmp_path: Path) -> None:
    padding = {f"srv/app/static/blob{i}.bin": bytes(range(256)) * 64 for i in range(8)}  # 128 KiB of layer
    layer = tar_bytes({**padding, f"{APP_V}/b_next.py": REV_B})
    image = tmp_path / "image.tar"
    oci_image(image, [layer])
    source, sightings = scan(image, limits=Limits(max_member_bytes=32 * 1024))
    assert [s.ref for s in of(source, sightings, "b")] == ["layer@{0}"]
    assert not source.issues


def test_hostile_image_metadata_never_raises(tmp_path: Path) -> None:
    layer = tar_bytes({f"{APP_V}/b_next.py": REV_B})
    image = tmp_path / "image.tar"
    deep = b"[" * 100_000 + b"]" * 100_000
    for manifest in (
        b"not json",
        deep,
        json.dumps([{"Layers": [None, 3, {"x": 1}, "../../etc/passwd"], "Config": ["x"]}]).encode(),
        json.dumps({"manifests": [{"digest": "sha256:../../../etc/passwd"}, {"digest": 7}]}).encode(),
    ):
        write_tar(image, {f"blobs/sha256/{digest(layer)}": layer, "manifest.json": manifest, "index.json": manifest})
        source, sightings = scan(image)
        assert [(s.ref, s.date) for s in sightings] == [(None, "2025-10-09T08:53:20+00:00")]  # unordered: its own date
        assert not source.issues


def test_an_images_bytes_are_charged_once_not_per_nesting_level(tmp_path: Path) -> None:
    padding = {f"srv/app/static/blob{i}.bin": bytes(range(256)) * 64 for i in range(8)}  # 128 KiB
    layer = tar_bytes({**padding, f"{APP_V}/b_next.py": REV_B})
    image = tmp_path / "image.tar"
    oci_image(image, [layer])
    source, sightings = scan(image, limits=Limits(max_total_bytes=len(layer) + 16 * 1024))
    assert len(sightings) == 1 and not source.issues
    source, _ = scan(image, limits=Limits(max_total_bytes=len(layer) // 2))
    assert [i.reason for i in source.issues][-1].startswith("total uncompressed size over the")


def test_site_packages_legacy_pyc_where_the_source_was(tmp_path: Path) -> None:
    """``python -m compileall -b`` then the sources deleted: ``x.pyc`` sits where ``x.py`` was."""
    site = tmp_path / "site-packages"
    versions = site / "taskman" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "b_next.py").write_bytes(REV_B)
    py_compile.compile(str(tmp_path / "b_next.py"), cfile=str(versions / "b_next.pyc"))
    (site / "taskman-2.1.0.dist-info").mkdir()
    (site / "taskman-2.1.0.dist-info" / "RECORD").write_text("taskman/migrations/versions/b_next.pyc,,\n")
    source, sightings = scan(site)
    assert [(s.path, s.ref) for s in sightings] == [(f"{versions}/b_next.pyc", "taskman==2.1.0")]
    assert source.fidelity(sightings[0].blob) == "bytecode"



def test_a_gzip_bomb_layer_is_stopped_while_streaming(tmp_path: Path) -> None:
    bomb = gzip.compress(tar_bytes({"srv/zeros.bin": bytes(8 * 1024 * 1024)}))
    image = tmp_path / "image.tar"
    names = oci_image(image, [bomb, tar_bytes({f"{APP_V}/b_next.py": REV_B})])
    source, sightings = scan(image)
    assert [s.ref for s in sightings] == ["layer@{0}"]  # the next layer is still read
    ((archive, reason),) = [(i.archive, i.reason) for i in source.issues]
    assert archive == f"{image}!{names[0]}" and reason.startswith("zip bomb guard: compression ratio")


def test_untracked_files_are_not_sniffed_or_noted(repo: GitRepo) -> None:
    """Without --archive every untracked file is looked at by name only: a log or a .env is no archive issue."""
    base_repo(repo)
    (repo.path / "server.log").write_text("started\n")
    (repo.path / "Procfile").write_text("web: gunicorn app\n")
    wheel(repo.path / "artefact", {"taskman/migrations/versions/b_next.py": REV_B})  # no suffix: not opened unasked
    result = scan_repository(repo.path, versions=[V])
    assert result.archive_issues == () or list(result.archive_issues) == []
    assert "b" not in result.catalog.entries


def test_docker_save_piped_through_gzip(tmp_path: Path) -> None:
    """``docker save taskman:2.1 | gzip > image.tar.gz``: the layers are read from inside the gzip stream."""
    plain = tmp_path / "image.tar"
    names = oci_image(plain, layers_b_then_b2())
    image = tmp_path / "image.tar.gz"
    image.write_bytes(gzip.compress(plain.read_bytes()))
    source, sightings = scan(image)
    assert {(s.path, s.ref) for s in of(source, sightings, "b")} == {
        (f"{image}!{names[0]}!{APP_V}/b_next.py", "layer@{1}"),
        (f"{image}!{names[1]}!{APP_V}/b_next.py", "layer@{0}"),
    }
    assert not source.issues
