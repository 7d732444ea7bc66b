"""The catalogue: schema versions, roots, file state and vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from photofinder.core.errors import NewerCatalogError
from photofinder.core.storage.catalog import Catalog, PhotoMetadata
from photofinder.core.storage.schema import SCHEMA_VERSION


def test_new_catalogue_is_migrated_and_uses_wal(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    catalog.close()
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_catalogue_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerCatalogError, match="newer PhotoFinder"):
        Catalog(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_changed_file_drops_its_vector_and_thumbnail(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    file_id = catalog.upsert_seen(root.id, str(tmp_path / "a.jpg"), 10, 1)
    catalog.mark_ok(file_id, PhotoMetadata("h1", 4, 3, "JPEG", None), b"jpeg")
    catalog.put_vector(file_id, "m", "1", np.ones(4, np.float32))
    assert catalog.status_counts("m", "1").indexed == 1
    assert catalog.upsert_seen(root.id, str(tmp_path / "a.jpg"), 11, 2) == file_id
    assert catalog.vector(file_id, "m", "1") is None
    assert catalog.thumbnail(file_id) is None
    counts = catalog.status_counts("m", "1")
    assert (counts.indexed, counts.pending) == (0, 1)


def test_vector_sequence_tracks_rewrites(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    ids = [catalog.upsert_seen(root.id, str(tmp_path / f"{i}.jpg"), 1, 1) for i in range(3)]
    for file_id in ids:
        catalog.put_vector(file_id, "m", "1", np.full(4, file_id, np.float32))
    seq = catalog.max_vector_seq("m", "1")
    catalog.put_vector(ids[0], "m", "1", np.zeros(4, np.float32))
    (changed_ids, vectors), = catalog.vectors_since("m", "1", seq, 4)
    assert changed_ids.tolist() == [ids[0]] and vectors.tolist() == [[0, 0, 0, 0]]


def test_removing_a_root_forgets_its_files(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path / "photos")
    catalog.upsert_seen(root.id, str(tmp_path / "photos" / "a.jpg"), 1, 1)
    assert catalog.remove_root(tmp_path / "photos") == 1
    assert catalog.roots() == []
    assert catalog.status_counts("m", "1").total == 0


def test_version_one_catalogue_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    from photofinder.core.storage.schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO roots(path, excluded, added_at) VALUES ('/p', 0, 0)")
    conn.execute(
        "INSERT INTO files(root_id, path, size, mtime_ns, status, updated_at) "
        "VALUES (1, '/p/a.jpg', 5, 6, 'pending', 0)"
    )
    conn.commit()
    conn.close()
    catalog = Catalog(path)
    record = catalog.file_by_path("/p/a.jpg")
    assert record is not None and record.size == 5 and record.camera is None
    catalog.mark_ok(record.id, PhotoMetadata("h", 4, 3, "JPEG", None, "Nikon D750"), b"j")
    updated = catalog.file_by_id(record.id)
    assert updated is not None and updated.camera == "Nikon D750"


def test_a_methods_photo_ids_are_read_from_an_index_alone(tmp_path: Path) -> None:
    """The index's sync reads every id at each start: a row lookup per photo took seconds at
    100,000 photos."""
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    file_id = catalog.upsert_seen(root.id, str(tmp_path / "a.jpg"), 10, 1)
    catalog.put_vector(file_id, "m", "1", np.ones(4, np.float32))
    statements: list[str] = []
    catalog._conn.set_trace_callback(statements.append)
    assert catalog.vector_ids("m", "1") == {file_id}
    catalog._conn.set_trace_callback(None)
    plan = catalog._conn.execute(f"EXPLAIN QUERY PLAN {statements[-1]}").fetchall()
    assert "COVERING INDEX" in " ".join(str(step[-1]) for step in plan)
