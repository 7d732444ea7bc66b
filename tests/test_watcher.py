"""The folder watcher: recursive, debounced, hidden files skipped, threads joined on stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from photofinder.core.watcher import FolderWatcher


class Recorder:
    def __init__(self) -> None:
        self.batches: list[set[str]] = []
        self.event = threading.Event()

    def __call__(self, paths: set[str]) -> None:
        self.batches.append(paths)
        self.event.set()

    def wait(self, timeout: float = 5.0) -> set[str]:
        assert self.event.wait(timeout), "no change reported"
        self.event.clear()
        return self.batches[-1]


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[FolderWatcher, Recorder, Path]]:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    recorder = Recorder()
    watcher = FolderWatcher(recorder, debounce_s=0.3)
    watcher.start([folder])
    yield watcher, recorder, folder
    watcher.stop()


def test_new_photo_in_subfolder_is_reported(watched: tuple[FolderWatcher, Recorder, Path]) -> None:
    _, recorder, folder = watched
    photo = folder / "sub" / "a.jpg"
    photo.write_bytes(b"jpeg")
    assert str(photo) in recorder.wait()


def test_a_photo_being_copied_is_reported_once_complete(
    watched: tuple[FolderWatcher, Recorder, Path],
) -> None:
    _, recorder, folder = watched
    photo = folder / "big.jpg"
    started = time.monotonic()
    with photo.open("wb") as out:
        for _ in range(6):  # writes keep coming for ~0.6 s, more than the debounce
            out.write(b"x" * 1000)
            out.flush()
            time.sleep(0.1)
    finished = time.monotonic()
    paths = recorder.wait()
    assert str(photo) in paths
    assert len(recorder.batches) == 1  # not reported while it was still being written
    assert time.monotonic() - started >= finished - started


def test_hidden_and_non_photo_files_are_ignored(
    watched: tuple[FolderWatcher, Recorder, Path],
) -> None:
    _, recorder, folder = watched
    (folder / ".hidden.jpg").write_bytes(b"x")
    (folder / "notes.txt").write_text("x")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "c.jpg").write_bytes(b"x")
    assert not recorder.event.wait(0.8)
    (folder / "b.png").write_bytes(b"x")
    assert recorder.wait() == {str(folder / "b.png")}


def test_moves_and_deletes_are_reported(watched: tuple[FolderWatcher, Recorder, Path]) -> None:
    _, recorder, folder = watched
    photo = folder / "c.jpg"
    photo.write_bytes(b"x")
    recorder.wait()
    moved = folder / "sub" / "c.jpg"
    photo.rename(moved)
    assert {str(photo), str(moved)} <= recorder.wait()
    moved.unlink()
    assert str(moved) in recorder.wait()


def test_stop_joins_threads(tmp_path: Path) -> None:
    before = threading.active_count()
    watcher = FolderWatcher(lambda paths: None, debounce_s=0.1)
    watcher.start([tmp_path, tmp_path / "missing"])
    assert watcher.folders == [str(tmp_path)]
    watcher.stop()
    assert threading.active_count() == before


def test_a_root_inside_a_hidden_folder_is_still_watched(tmp_path: Path) -> None:
    folder = tmp_path / ".local" / "photos"
    folder.mkdir(parents=True)
    recorder = Recorder()
    watcher = FolderWatcher(recorder, debounce_s=0.1)
    watcher.start([folder])
    try:
        (folder / "a.jpg").write_bytes(b"x")
        assert recorder.wait() == {str(folder / "a.jpg")}
    finally:
        watcher.stop()
