"""The catalogue: watched roots, files with their state, thumbnails and vectors, in SQLite.

`Catalog` is one class to its callers; each concern lives in its own module beside this one
(the connection and settings, roots, files, vectors and neighbours, duplicate data, the
duplicate checker's verdicts, stored keypoints, the change counter and remembered duplicate
groups) as a class over the same connection, and `Catalog` composes them."""

from __future__ import annotations

from photofinder.core.storage.catalog_connection import SettingsTable
from photofinder.core.storage.catalog_duplicates import DuplicateTables
from photofinder.core.storage.catalog_files import FileLookups, FileStates
from photofinder.core.storage.catalog_keypoints import KeypointTables
from photofinder.core.storage.catalog_records import (
    FILE_COLUMNS,
    FileRecord,
    PhotoMetadata,
    Root,
    StatusCounts,
    path_from_db,
    path_to_db,
)
from photofinder.core.storage.catalog_results import ResultTables
from photofinder.core.storage.catalog_roots import RootsTables
from photofinder.core.storage.catalog_vectors import VectorTables
from photofinder.core.storage.catalog_verdicts import VerdictTables

__all__ = [
    "FILE_COLUMNS",
    "Catalog",
    "FileRecord",
    "PhotoMetadata",
    "Root",
    "StatusCounts",
    "path_from_db",
    "path_to_db",
]


class Catalog(
    RootsTables, FileLookups, FileStates, VectorTables, DuplicateTables, VerdictTables,
    KeypointTables, ResultTables, SettingsTable,
):
    """One SQLite connection; use one Catalog per thread (WAL lets readers run beside a writer)."""
