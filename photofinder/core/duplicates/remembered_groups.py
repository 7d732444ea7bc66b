"""A duplicate search of an unchanged library answered at once: the groups the last search
under a key (strictness, method, checker) found are kept in the catalogue with its change
counter (photofinder.core.storage.catalog_results) and the photos that search considered.
They answer while the counter has not moved and each of those photos is still there, or still
not there, as it was then; anything else searches again. Keepers are suggested afresh from
the groups each time."""

from __future__ import annotations

import json
import sqlite3
from contextlib import suppress

import numpy as np

from photofinder.core.duplicates.grouping import FoundGroups, Strictness
from photofinder.core.errors import CatalogError
from photofinder.core.photos.presence import is_regular_file
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.catalog_results import StoredResult

# Bump whenever grouping.find_groups would find other groups in the same catalogue (the
# checker's version is part of the key already).
RESULT_VERSION = "1"
IDS = np.dtype("<i8")
Groups = list[tuple[list[FileRecord], float]]


def search_key(strictness: Strictness, method: str, version: str,
               checker_version: str | None) -> str:
    """What a remembered search is kept under; `checker_version` None: no geometric check."""
    return json.dumps([RESULT_VERSION, strictness.value, method, version, checker_version])


def recall(catalog: Catalog, key: str) -> Groups | None:
    """The groups remembered under `key` while they still hold, else None (also when they
    cannot be read: the search then runs again)."""
    try:
        stored = catalog.stored_result(key)
        if stored is None or stored.changes != catalog.change_count():
            return None
        groups = [(ids, weakest) for weakest, *ids in json.loads(stored.groups)]
        if not _same_presence(catalog, _ids(stored.considered), set(_ids(stored.absent))):
            return None
        members = catalog.files_by_ids(sorted({i for ids, _ in groups for i in ids}))
        return [([members[int(i)] for i in ids], float(weakest)) for ids, weakest in groups]
    except (CatalogError, sqlite3.Error, ValueError, TypeError, KeyError):
        return None


def remember(catalog: Catalog, key: str, changes: int, found: FoundGroups) -> None:
    """Keep `found` under `key`, read from the catalogue when its counter was `changes`. A
    catalogue that cannot be written now (read-only, locked, full) only means searching again
    next time."""
    groups = [[weakest, *(r.id for r in records)] for records, weakest in found.groups]
    result = StoredResult(changes, json.dumps(groups), np.asarray(found.considered, IDS).tobytes(),
                          np.asarray(found.absent, IDS).tobytes())
    with suppress(CatalogError, sqlite3.Error):
        catalog.store_result(key, result)


def _ids(data: bytes) -> list[int]:
    return [int(i) for i in np.frombuffer(data, IDS)]


def _same_presence(catalog: Catalog, considered: list[int], absent: set[int]) -> bool:
    """Whether each considered photo is a regular file at its path now exactly when it was."""
    paths = catalog.paths_by_ids(considered)
    return all(
        (file_id in paths and is_regular_file(paths[file_id])) == (file_id not in absent)
        for file_id in considered
    )
