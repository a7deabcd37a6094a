"""An installed application (a ``site-packages`` folder): which distribution each file belongs to.

``*.dist-info/RECORD`` lists every file an installer wrote, relative to the folder holding the
``.dist-info`` (``taskman/migrations/versions/x.py``, ``taskman/.../__pycache__/x.cpython-311.pyc``).
A revision file found there is named after its distribution (``taskman==2.1.0``), so a user can
tell the deployed app's copy from a vendored one. RECORD is read as CSV text only, within a size
limit; the paths it names are only compared, never opened.
"""

from __future__ import annotations

import csv
import os
import posixpath
from pathlib import Path

from migration_archaeologist.files.untrusted import read_regular

#: A RECORD of a big distribution is a few hundred KiB; more is not a RECORD worth reading.
RECORD_LIMIT = 8 * 1024 * 1024


def dist_info_owners(folder: Path, dist_infos: list[str]) -> dict[str, str]:
    """``{absolute posix path: "name==version"}`` for the files the RECORDs in ``folder`` list.

    An unreadable, oversized or malformed RECORD is passed over: the files are still read, only
    not named after a distribution.
    """
    owners: dict[str, str] = {}
    for dist_info in sorted(dist_infos):
        distribution = _distribution(dist_info)
        if distribution is None:
            continue
        try:
            text = read_regular(folder / dist_info / "RECORD", RECORD_LIMIT, follow=False).decode("utf-8", "replace")
        except OSError:
            continue
        base = folder.as_posix()
        try:
            for row in csv.reader(text.splitlines()):
                if row and row[0] and not row[0].startswith("/"):
                    owners.setdefault(posixpath.normpath(f"{base}/{row[0]}"), distribution)
        except csv.Error:
            continue
    return owners


def _distribution(dist_info: str) -> str | None:
    """``taskman-2.1.0.dist-info`` -> ``taskman==2.1.0`` (the version never holds a ``-``)."""
    stem = dist_info[: -len(".dist-info")]
    name, sep, version = stem.rpartition("-")
    return f"{name}=={version}" if sep and name and version else None


def sourceless(dirpath: str, name: str) -> bool:
    """A ``__pycache__/<module>.<tag>.pyc`` whose ``<module>.py`` is gone: the only copy is bytecode."""
    module = name.split(".", 1)[0]
    return name.lower().endswith(".pyc") and not os.path.lexists(os.path.join(os.path.dirname(dirpath), module + ".py"))
