"""Container images (``docker save`` and OCI image tarballs): which layer each revision file came from.

An image tar holds its layers as tarballs (``blobs/sha256/<hex>``, or ``<id>/layer.tar`` in the older
docker-save layout) and says their order in ``manifest.json`` (docker save: ``Layers``) or in
``index.json`` -> manifest blob -> ``layers`` (OCI). The tar is read once, as a stream, and
``manifest.json`` may come after the layers, so only what the layers yielded (the candidate revision
files, never the layer bytes) is kept until the stream ends; then the order is applied.

Order is told to the catalog the way a reflog tells it: every version seen in an image gets the
image's date (its config's ``created``), and ``ref`` ``layer@{n}`` for the layer n below the top one
(``layer@{0}``). Among same-dated versions the catalog takes the lowest ``@{n}``: the version in the
later layer supersedes the earlier one's, which stays a sighting of its own, as a whiteout
(``.wh.<name>``) in a later layer leaves the earlier copy a sighting of a lost file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from migration_archaeologist.sources.archive.findings import Found

#: A manifest, an index or a config blob is small; a bigger JSON member is not kept.
META_LIMIT = 1024 * 1024
#: All metadata kept for one image tar: the rest is passed over (the layer order is then unknown).
_META_TOTAL = 16 * 1024 * 1024
_MAX_IMAGES = 64
_MAX_BLOBS = 4096
_DIGEST_RE = re.compile(r"^([a-z0-9]+):([a-f0-9]{32,128})$")
_CREATED_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass
class ImageParts:
    """What an image tar's stream showed: its JSON metadata, and which ``found`` entries each layer yielded."""

    metadata: dict[str, bytes] = field(default_factory=dict)
    layers: dict[str, range] = field(default_factory=dict)
    kept: int = 0

    @staticmethod
    def wants(name: str, size: int) -> bool:
        """Top-level JSON (``manifest.json``, ``index.json``, a docker-save config ``<hex>.json``)."""
        return "/" not in _plain(name) and name.lower().endswith(".json") and size <= META_LIMIT

    def keep(self, name: str, data: bytes) -> None:
        if self.kept + len(data) <= _META_TOTAL:
            self.kept += len(data)
            self.metadata[_plain(name)] = data

    def layer(self, name: str, found: range) -> None:
        self.layers[_plain(name)] = found


def order_layers(found: list[Found], parts: ImageParts) -> None:
    """Give every version a layer yielded its image's date and its ``layer@{n}`` (see the module doc)."""
    if not parts.layers:
        return
    done: set[str] = set()
    for layers, config in _images(parts):
        count = len(layers)
        mine = [(count - 1 - k, layer) for k, layer in enumerate(layers) if layer in parts.layers and layer not in done]
        indexes = [i for _below, layer in mine for i in parts.layers[layer]]
        if not indexes:
            continue
        date = _created(parts.metadata.get(config or "")) or max((found[i].date or "" for i in indexes), default="")
        for below, layer in mine:
            done.add(layer)
            for i in parts.layers[layer]:
                found[i] = replace(found[i], date=date or None, ref=f"layer@{{{below}}}")


def is_layout_folder(folder: Path) -> bool:
    """An image unpacked as a folder (``skopeo copy … oci:dir``, ``docker buildx --output type=oci,tar=false``)."""
    return (folder / "blobs").is_dir() and ((folder / "index.json").is_file() or (folder / "manifest.json").is_file())


def order_layout_folder(folder: Path, found: list[Found]) -> None:
    """:func:`order_layers` for an image folder: each layer blob there was read as an archive of its own."""
    from migration_archaeologist.files.untrusted import read_regular

    parts = ImageParts()
    for index, item in enumerate(found):
        try:
            name = Path(item.archive).relative_to(folder).as_posix()
        except ValueError:
            continue
        if item.member is not None:
            start = parts.layers.get(name, range(index, index)).start
            parts.layer(name, range(start, index + 1))
    metadata = [folder / "index.json", folder / "manifest.json"]
    metadata += sorted(p for p in (folder / "blobs").glob("*/*") if p.name.isalnum())[:_MAX_BLOBS]
    for path in metadata:
        try:
            data = read_regular(path, META_LIMIT, follow=False)
        except OSError:  # absent, a link, a layer bigger than any metadata: not metadata
            continue
        if data.lstrip()[:1] in (b"{", b"["):
            parts.keep(path.relative_to(folder).as_posix(), data)
    order_layers(found, parts)


def _images(parts: ImageParts) -> list[tuple[list[str], str | None]]:
    """Each image's layers, bottom first, and its config member: from ``manifest.json``, else ``index.json``."""
    images: list[tuple[list[str], str | None]] = []
    manifest = _json(parts.metadata.get("manifest.json"))
    if isinstance(manifest, list):
        for entry in manifest[:_MAX_IMAGES]:
            if isinstance(entry, dict) and isinstance(entry.get("Layers"), list):
                layers = [_plain(x) for x in entry["Layers"] if isinstance(x, str)]
                config = entry.get("Config")
                images.append((layers, _plain(config) if isinstance(config, str) else None))
    if images:
        return images
    pending = [_json(parts.metadata.get("index.json"))]
    for _level in range(3):  # index -> (nested index ->) manifest
        nested: list[object] = []
        for document in pending:
            if not isinstance(document, dict):
                continue
            if isinstance(document.get("layers"), list):
                blobs = [blob for blob in map(_blob, document["layers"]) if blob is not None]
                images.append((blobs, _blob(document.get("config"))))
            for child in (document.get("manifests") or [])[:_MAX_IMAGES]:
                blob = _blob(child)
                if blob:
                    nested.append(_json(parts.metadata.get(blob)))
        pending = nested
    return images[:_MAX_IMAGES]


def _blob(descriptor: object) -> str | None:
    """``{"digest": "sha256:<hex>"}`` -> ``blobs/sha256/<hex>``; anything else -> None."""
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    match = _DIGEST_RE.match(digest) if isinstance(digest, str) else None
    return f"blobs/{match.group(1)}/{match.group(2)}" if match else None


def _created(config: bytes | None) -> str | None:
    """The config's ``created`` as an ISO date in UTC (nanoseconds dropped), or None."""
    document = _json(config)
    created = document.get("created") if isinstance(document, dict) else None
    match = _CREATED_RE.match(created) if isinstance(created, str) else None
    if match is None:
        return None
    zone = "+00:00" if match.group(2) == "Z" else match.group(2)
    try:
        stamp = datetime.fromisoformat(match.group(1) + zone)
    except ValueError:
        return None
    return stamp.astimezone(timezone.utc).isoformat(timespec="seconds")


def _json(data: bytes | None) -> object:
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _plain(name: str) -> str:
    return name[2:] if name.startswith("./") else name
