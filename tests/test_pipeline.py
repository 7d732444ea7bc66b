"""Indexing: new, changed, moved, copied, deleted and broken files; cancel and resume."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from photofinder.core.library import Library
from photofinder.core.photos import imageio
from photofinder.core.progress import CancelToken, Progress
from tests.support.photos import make_library, write_jpeg


def counts(library: Library) -> tuple[int, int, int]:
    c = library.status().counts
    return c.indexed, c.pending, c.failed


def test_first_run_indexes_every_photo_and_records_failures(
    library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 12)
    (photos / "empty.jpg").write_bytes(b"")
    (photos / "notes.png").write_text("not a picture")
    (photos / "readme.txt").write_text("ignored: not a photo name")
    hidden = photos / ".thumbnails"
    write_jpeg(hidden / "cache.jpg", 99)
    library.add_roots([photos])
    seen: list[Progress] = []
    report = library.update(progress=seen.append)
    assert (report.scanned, report.embedded, report.failed) == (14, 12, 2)
    assert counts(library) == (12, 0, 2)
    assert dict(library.status().failed) == {
        str(photos / "empty.jpg"): "empty file (0 bytes)",
        str(photos / "notes.png"): "not an image or an unsupported format",
    }
    indexing = [p for p in seen if p.stage == "indexing"]
    assert indexing[-1].done == indexing[-1].total == 14
    record = library.catalog.file_by_path(str(photos / "photo_000.jpg"))
    assert record is not None and library.catalog.thumbnail(record.id)


def test_second_run_does_nothing_when_nothing_changed(library: Library, tmp_path: Path) -> None:
    make_library(tmp_path / "photos", 5)
    library.add_roots([tmp_path / "photos"])
    library.update()
    report = library.update()
    assert (report.new, report.changed, report.embedded, report.deleted) == (0, 0, 0, 0)


def test_changed_moved_copied_and_deleted(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    paths = make_library(photos, 6)
    library.add_roots([photos])
    library.update()
    before_move = library.catalog.file_by_path(str(paths[1]))
    assert before_move is not None
    write_jpeg(paths[0], 100)  # edited in place
    os.utime(paths[0], ns=(1, 1))
    (photos / "album").mkdir()
    shutil.move(paths[1], photos / "album" / "renamed.jpg")
    shutil.copy(paths[2], photos / "copy.jpg")
    paths[3].unlink()
    report = library.update()
    assert (report.changed, report.moved, report.copied, report.deleted) == (1, 1, 1, 1)
    assert report.embedded == 1
    moved = library.catalog.file_by_path(str(photos / "album" / "renamed.jpg"))
    assert moved is not None and moved.id == before_move.id  # decisions and vector follow the photo
    assert library.catalog.file_by_path(str(paths[3])) is None
    assert counts(library) == (6, 0, 0)
    hits = library.search_files([photos / "copy.jpg"], k=1)[0]
    assert hits[0].path == str(paths[2]) and hits[0].score > 0.999


def test_file_vanishing_mid_run_is_forgotten_not_failed(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_library(tmp_path / "photos", 4)
    library.add_roots([tmp_path / "photos"])
    real = imageio.read_file_bytes

    def vanish(path: Path) -> bytes:
        if path == paths[2]:
            path.unlink()
        return real(path)

    monkeypatch.setattr("photofinder.core.indexing.readers.read_file_bytes", vanish)
    report = library.update()
    assert report.failed == 0 and report.embedded == 3
    assert counts(library) == (3, 0, 0)


def test_missing_root_is_reported_and_its_photos_are_kept(
    library: Library, tmp_path: Path
) -> None:
    drive = tmp_path / "usb-drive"
    make_library(drive, 3)
    library.add_roots([drive])
    library.update()
    drive.rename(tmp_path / "unplugged")
    report = library.update()
    assert report.deleted == 0
    assert counts(library) == (3, 0, 0)
    assert library.status().folder_errors[0][0] == str(drive)


def test_excluded_folder_is_skipped(library: Library, tmp_path: Path) -> None:
    make_library(tmp_path / "photos", 2)
    make_library(tmp_path / "photos" / "private", 3, start_seed=50)
    library.add_roots([tmp_path / "photos"])
    library.exclude_folder(tmp_path / "photos" / "private")
    assert library.update().scanned == 2


def test_cancel_stops_and_the_next_run_completes(library: Library, tmp_path: Path) -> None:
    make_library(tmp_path / "photos", 40)
    library.add_roots([tmp_path / "photos"])
    token = CancelToken()

    def cancel_early(progress: Progress) -> None:
        if progress.stage == "indexing" and progress.done >= 5:
            token.cancel()

    first = library.update(progress=cancel_early, cancel=token)
    assert first.cancelled and first.embedded < 40
    second = library.update()
    assert not second.cancelled
    assert first.embedded + second.embedded == 40
    assert counts(library) == (40, 0, 0)
    assert len(library.index) == 40


def test_symlink_loop_does_not_hang(library: Library, tmp_path: Path) -> None:
    make_library(tmp_path / "photos", 2)
    (tmp_path / "photos" / "loop").symlink_to(tmp_path / "photos")
    library.add_roots([tmp_path / "photos"])
    assert library.update().scanned == 2


def test_nested_folders_are_watched_once(library: Library, tmp_path: Path) -> None:
    make_library(tmp_path / "photos" / "2024", 3)
    make_library(tmp_path / "photos", 2, start_seed=10)
    library.add_roots([tmp_path / "photos" / "2024"])
    library.update()
    inner = library.catalog.file_by_path(str(tmp_path / "photos" / "2024" / "photo_000.jpg"))
    library.add_roots([tmp_path / "photos"])
    library.add_roots([tmp_path / "photos" / "2024"])  # already covered
    assert [r.path for r in library.roots()] == [str(tmp_path / "photos")]
    report = library.update()
    assert (report.new, report.deleted, report.embedded) == (2, 0, 2)
    kept = library.catalog.file_by_path(str(tmp_path / "photos" / "2024" / "photo_000.jpg"))
    assert inner is not None and kept is not None and kept.id == inner.id
