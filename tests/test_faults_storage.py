"""Damaged, full and read-only storage, and processes starting together: one line, no crash.

Commands that could crash the interpreter (hnswlib reading a damaged file) run in a
subprocess, so a segfault fails the test instead of killing pytest."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from photofinder.core.embedders.base import l2_normalise
from photofinder.core.errors import CatalogUnavailableError, IndexSaveError, LibraryBusyError
from photofinder.core.library import Library
from photofinder.core.progress import Cancelled
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.locks import library_lock
from photofinder.core.storage.repair import repair_library
from photofinder.core.storage.vector_index import IndexKey, VectorIndex
from tests.support.marks import slow
from tests.support.photos import make_library, write_jpeg

ROOT = Path(__file__).resolve().parents[1]
GARBAGE = 4096
KEY = IndexKey("m", "1", 16)


def command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.cli_with_fake_model", "--data-dir", str(data),
            "--device", "cpu", *args]


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(command(data, *args), cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": pythonpath})


def indexed_library(tmp_path: Path, count: int) -> tuple[Path, Path]:
    photos, data = tmp_path / "photos", tmp_path / "data"
    make_library(photos, count)
    done = cli(data, "index", str(photos))
    assert done.returncode == 0, done.stderr
    return photos, data


def index_files(data: Path) -> tuple[Path, Path]:
    (index,) = (data / "indexes").glob("*.hnsw")
    return index, index.with_suffix(".json")


def file_digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def write_garbage(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(np.random.default_rng(offset).bytes(GARBAGE))


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def search_top(data: Path, query: Path) -> str:
    done = cli(data, "search", str(query), "--top", "1", "--json")
    assert done.returncode == 0, (done.returncode, done.stderr)
    return str(json.loads(done.stdout)["queries"][0]["results"][0]["path"])


# --- the search index --------------------------------------------------------------------------
@pytest.mark.parametrize("where", [slow(0.0), 0.5, slow(1.0)])  # the middle one in the fast tier
def test_damaged_index_is_detected_and_rebuilt(tmp_path: Path, where: float) -> None:
    photos, data = indexed_library(tmp_path, 30)
    index, meta = index_files(data)
    write_garbage(index, int((index.stat().st_size - GARBAGE) * where))
    query = write_jpeg(tmp_path / "query.jpg", 7)
    assert search_top(data, query) == str(photos / "photo_007.jpg")
    saved = json.loads(meta.read_text())
    assert saved["count"] == 30 and saved["blake2b"] == file_digest(index)  # rebuilt, saved


def catalogue_with_vectors(tmp_path: Path, count: int) -> Catalog:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    vectors = l2_normalise(np.random.default_rng(0).standard_normal((count, 16)).astype(np.float32))
    for i, vector in enumerate(vectors):
        file_id = catalog.upsert_seen(root.id, str(tmp_path / f"{i}.jpg"), 1, 1)
        catalog.put_vector(file_id, "m", "1", vector)
    return catalog


class ShortWrites:
    """An hnswlib index whose save stops halfway, as a full disk leaves it (no error)."""

    def __init__(self, real: object) -> None:
        self.real = real

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def save_index(self, path: str) -> None:
        self.real.save_index(path)  # type: ignore[attr-defined]
        os.truncate(path, os.path.getsize(path) // 2)


def saved_index(tmp_path: Path) -> tuple[VectorIndex, Catalog, bytes, bytes]:
    catalog = catalogue_with_vectors(tmp_path, 40)
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    index.save()
    more = l2_normalise(np.random.default_rng(1).standard_normal((5, 16)).astype(np.float32))
    index.add(np.arange(100, 105, dtype=np.int64), more)
    return index, catalog, index.path.read_bytes(), index.meta_path.read_bytes()


def assert_previous_index_kept(index: VectorIndex, catalog: Catalog, before: bytes,
                               meta: bytes) -> None:
    assert index.path.read_bytes() == before and index.meta_path.read_bytes() == meta
    assert not list(index.path.parent.glob(".*.tmp"))
    reopened = VectorIndex(index.path.parent, KEY)
    assert reopened._load()  # the kept file is used as it is, not rebuilt
    assert len(reopened.open(catalog)) == 40


def test_empty_index_passes_the_save_check(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    index.save()
    assert VectorIndex(tmp_path / "idx", KEY)._load()


def test_short_index_write_keeps_the_previous_index(tmp_path: Path) -> None:
    index, catalog, before, meta = saved_index(tmp_path)
    index._index = ShortWrites(index._index)
    with pytest.raises(IndexSaveError, match=r"disk is full .*the previous index is kept"):
        index.save()
    assert index.dirty
    assert_previous_index_kept(index, catalog, before, meta)


def test_enospc_while_saving_the_index_keeps_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, catalog, before, meta = saved_index(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(IndexSaveError, match="the disk is full; the previous index is kept"):
        index.save()
    monkeypatch.undo()
    assert_previous_index_kept(index, catalog, before, meta)


@pytest.fixture
def tiny_indexes_disk(tmp_path: Path) -> Iterator[Path]:
    """data/indexes on a 512 KB tmpfs (root where mounting is allowed; skipped elsewhere)."""
    folder = tmp_path / "data" / "indexes"
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
                             capture_output=True, check=False) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
def test_full_disk_keeps_the_index_and_says_why(tmp_path: Path, tiny_indexes_disk: Path) -> None:
    photos, data = indexed_library(tmp_path, 20)
    index, meta = index_files(data)
    before, before_meta = index.read_bytes(), meta.read_bytes()
    filler = tiny_indexes_disk / "filler"
    disk = os.statvfs(tiny_indexes_disk)
    with filler.open("wb") as handle:  # leave less than a new index needs
        handle.write(b"\0" * (disk.f_bavail * disk.f_frsize - 16 * 1024))
    make_library(photos / "more", 20, start_seed=20)
    done = cli(data, "index")
    line = one_line(done.stderr)
    assert "could not save the search index" in line and "the disk is full" in line
    assert "the previous index is kept" in line
    assert (index.read_bytes(), meta.read_bytes()) == (before, before_meta)
    assert status(data)["indexed"] == 40  # the catalogue has every photo
    filler.unlink()
    query = write_jpeg(tmp_path / "query.jpg", 33)
    assert search_top(data, query) == str(photos / "more" / "photo_013.jpg")  # caught up


def test_failed_save_on_close_is_kept_not_raised(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = make_library(tmp_path / "photos", 5)
    library.add_roots([tmp_path / "photos"])
    library.update()
    record = library.catalog.file_by_path(str(photos[0].resolve()))
    assert record is not None
    library.catalog.delete_files([record.id])
    library.index.sync(library.catalog)  # changed since its last save

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("photofinder.core.storage.atomic.tempfile.mkstemp", read_only)
    library.close()
    assert library.save_error is not None
    assert "could not save the search index" in library.save_error
    assert "the file system is read-only" in library.save_error


@pytest.fixture
def read_only_indexes(tmp_path: Path) -> Iterator[Path]:
    """Make data/indexes read-only: chmod, or as root a read-only bind mount."""
    folder = tmp_path / "data" / "indexes"
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], check=False,
                           capture_output=True)
    if bound.returncode != 0:
        pytest.skip("cannot make a read-only folder here (root, and no bind mounts)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True,
                       capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def stale_index_library(tmp_path: Path) -> tuple[Path, Path]:
    """A library whose index metadata is gone, so the next open rebuilds it (dirty)."""
    photos, data = indexed_library(tmp_path, 10)
    index_files(data)[1].unlink()
    return photos, data


def test_read_only_index_folder_prints_results_and_one_warning(
    tmp_path: Path, stale_index_library: tuple[Path, Path], read_only_indexes: Path
) -> None:
    photos, data = stale_index_library
    done = cli(data, "search", str(write_jpeg(tmp_path / "query.jpg", 4)), "--top", "1")
    assert done.returncode == 0, done.stderr
    assert str(photos / "photo_004.jpg") in done.stdout
    warning = one_line(done.stderr)
    assert warning.startswith("photofinder: warning: could not save the search index")


def test_stale_temporary_index_files_are_removed(tmp_path: Path) -> None:
    catalog = catalogue_with_vectors(tmp_path, 3)
    folder = tmp_path / "idx"
    folder.mkdir()
    stale, fresh = folder / ".m@1.hnsw.k1lled.tmp", folder / ".m@1.hnsw.saving.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half an index")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    VectorIndex(folder, KEY).open(catalog)
    assert not stale.exists()
    assert fresh.exists()  # maybe another process's save in progress


# --- the catalogue -----------------------------------------------------------------------------
def test_full_catalogue_disk_names_the_real_reason(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    pages = catalog._conn.execute("PRAGMA page_count").fetchone()[0]
    catalog._conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # a disk about to fill up
    with pytest.raises(CatalogUnavailableError, match="the disk is full"), catalog.transaction():
        catalog.set_setting("big", "x" * 100_000)
    catalog.set_setting("small", "still works")
    assert catalog.get_setting("small") == "still works"


def table_pages(catalog: Path, table: str) -> list[int]:
    conn = sqlite3.connect(catalog)
    try:
        rows = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            (table,)).fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    finally:
        conn.close()
    return [int(r[0]) for r in rows]


def status(data: Path) -> dict[str, object]:
    done = cli(data, "status", "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.slow
@pytest.mark.parametrize("table", ["files", "vectors", "roots"])
def test_damaged_catalogue_gives_one_line_then_repair_recovers(
    tmp_path: Path, table: str
) -> None:
    photos, data = indexed_library(tmp_path, 120)
    catalog = data / "catalog.sqlite3"
    pages = table_pages(catalog, table)
    write_garbage(catalog, (pages[len(pages) // 2] - 1) * 4096)  # one page in the middle
    query = write_jpeg(tmp_path / "query.jpg", 5)
    failed = [cli(data, *args) for args in (["status"], ["search", str(query)], ["index"])]
    failed = [done for done in failed if done.returncode]
    assert failed  # the damage is on pages these commands read
    for done in failed:
        line = one_line(done.stderr)
        assert str(catalog) in line and "damaged" in line and "photofinder repair" in line
    repaired = cli(data, "repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    report = json.loads(repaired.stdout)
    assert not report["healthy"] and Path(report["damaged_copy"]).exists()
    recovered = {t["name"]: t["recovered"] for t in report["tables"]}
    assert recovered["files"] >= 90 and recovered["vectors"] >= 90  # most of the 120 rows
    assert status(data)["total"] == recovered["files"]
    assert cli(data, "index").returncode == 0  # reads again what was lost
    summary = status(data)
    assert (summary["indexed"], summary["pending"], summary["failed_count"]) == (120, 0, 0)
    assert [r["path"] for r in summary["roots"]] == [str(photos)]  # type: ignore[attr-defined]
    assert search_top(data, query) == str(photos / "photo_005.jpg")
    assert json.loads(cli(data, "repair", "--json").stdout)["healthy"]


@pytest.mark.slow
def test_emptied_catalogue_is_reported_not_recreated(tmp_path: Path) -> None:
    photos, data = indexed_library(tmp_path, 12)
    catalog = data / "catalog.sqlite3"
    catalog.write_bytes(b"")
    done = cli(data, "status")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "is empty, but a library existed" in line and "photofinder repair" in line
    assert catalog.stat().st_size == 0  # not silently turned into a new, empty library
    repaired = cli(data, "repair")
    assert repaired.returncode == 0 and "1 watched folders restored" in repaired.stdout
    assert cli(data, "index").returncode == 0
    summary = status(data)
    assert summary["indexed"] == 12
    assert [r["path"] for r in summary["roots"]] == [str(photos)]  # type: ignore[attr-defined]


def test_repair_refuses_while_the_library_is_open(library: Library) -> None:
    with pytest.raises(LibraryBusyError, match="close it"):
        repair_library(library.paths)


def test_healthy_catalogue_is_left_alone(library: Library) -> None:
    paths = library.paths
    library.close()
    before = paths.catalog.read_bytes()
    assert repair_library(paths).healthy
    assert paths.catalog.read_bytes() == before
    assert not list(paths.data_dir.glob("*.damaged-*"))


# --- processes together ------------------------------------------------------------------------
@pytest.mark.slow
def test_processes_starting_together_on_a_new_data_dir(tmp_path: Path) -> None:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "PYTHONPATH": pythonpath}
    for repetition in range(5):
        data = tmp_path / f"data{repetition}"
        runs = [subprocess.Popen(command(data, "status"), cwd=ROOT, env=environment,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                for _ in range(6)]
        results = [(run.wait(timeout=120), run.communicate()[1]) for run in runs]
        assert all(code == 0 for code, _ in results), results


def test_library_lock_waits_cancellably(tmp_path: Path) -> None:
    waits: list[str] = []
    outcome: list[BaseException] = []

    def cancel() -> None:
        raise Cancelled()

    def contender() -> None:
        try:
            with library_lock(tmp_path, "update", cancel, lambda: waits.append("waiting")):
                pass
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with library_lock(tmp_path, "update"):
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
        with (
            pytest.raises(LibraryBusyError, match="busy here"),
            library_lock(tmp_path, "update", timeout_s=0.2, busy_reason="busy here"),
        ):
            pass
    assert waits == ["waiting"] and isinstance(outcome[0], Cancelled)
    with library_lock(tmp_path, "update"):  # free again once released
        pass


def test_gui_start_shows_a_damaged_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object
) -> None:
    from photofinder.gui import app

    _, data = indexed_library(tmp_path, 3)
    (data / "catalog.sqlite3").write_bytes(b"this is not a database" * 500)
    shown: list[str] = []
    monkeypatch.setattr(app, "make_application", lambda argv: qapp)
    monkeypatch.setattr(app, "show_start_error", shown.append)
    assert app.main(["photofinder-gui", "--data-dir", str(data)]) == 1
    assert len(shown) == 1 and "photofinder repair" in shown[0]
