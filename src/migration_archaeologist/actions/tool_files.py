"""The names of the files the tool keeps in a versions directory besides revisions: the lock that makes
runs take turns (:mod:`versions_lock`) and the manifest of what was written (:mod:`manifest`). Neither
is ``*.py``, so no scanner reads them as revisions."""

#: In the versions directory while a run writes into it; not ``*.py`` and hidden, so no scanner reads it.
LOCK_NAME = ".migration-archaeologist.lock"
MANIFEST_NAME = "migration-archaeologist-manifest.json"
