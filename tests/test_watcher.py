"""The folder watcher: recursive, debounced, hidden files skipped, threads joined on stop.

Tests wait on what the watcher reported (a condition), never for a fixed time."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from photofinder.core.indexing.watcher import FolderWatcher

DEBOUNCE_S = 0.1
REPORT_TIMEOUT_S = 10.0  # how long a report may take before the test gives up (liveness only)


@dataclass(frozen=True)
class Batch:
    """One callback: when it came, its paths, and each existing path's size at that moment."""

    at: float
    paths: frozenset[str]
    sizes: dict[str, int]


class Recorder:
    """Collects the watcher's batches; a test waits until given paths have been reported."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self._changed = threading.Condition()

    def __call__(self, paths: set[str]) -> None:
        sizes = {p: os.path.getsize(p) for p in paths if os.path.isfile(p)}
        with self._changed:
            self.batches.append(Batch(time.monotonic(), frozenset(paths), sizes))
            self._changed.notify_all()

    def mark(self) -> int:
        """A bookmark: `wait_for(..., since=mark)` looks only at batches reported after it."""
        with self._changed:
            return len(self.batches)

    def wait_for(self, *paths: Path, since: int = 0) -> list[Batch]:
        """The batches after `since`, once together they report every one of `paths`."""
        wanted = {str(p) for p in paths}

        def reported() -> bool:
            return wanted <= {p for b in self.batches[since:] for p in b.paths}

        with self._changed:
            assert self._changed.wait_for(reported, REPORT_TIMEOUT_S), f"not reported: {wanted}"
            return list(self.batches[since:])


def reported_paths(batches: list[Batch]) -> set[str]:
    return {p for batch in batches for p in batch.paths}


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Recorder, Path]]:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    recorder = Recorder()
    watcher = FolderWatcher(recorder, debounce_s=DEBOUNCE_S)
    watcher.start([folder])
    yield recorder, folder
    watcher.stop()


def test_new_photo_in_subfolder_is_reported(watched: tuple[Recorder, Path]) -> None:
    recorder, folder = watched
    photo = folder / "sub" / "a.jpg"
    photo.write_bytes(b"jpeg")
    assert reported_paths(recorder.wait_for(photo)) == {str(photo)}


def test_a_photo_being_copied_is_reported_again_once_complete(
    watched: tuple[Recorder, Path],
) -> None:
    recorder, folder = watched
    photo = folder / "big.jpg"
    with photo.open("wb") as out:
        out.write(b"x" * 1000)
        out.flush()
        recorder.wait_for(photo)  # a copy that pauses is reported while incomplete ...
        during_copy = recorder.mark()
        out.write(b"x" * 5000)
    after_copy = recorder.wait_for(photo, since=during_copy)  # ... and again once it ends
    assert after_copy[-1].sizes[str(photo)] == 6000  # the last report saw the whole file


def test_changes_are_reported_only_after_a_quiet_debounce_period(
    watched: tuple[Recorder, Path],
) -> None:
    recorder, folder = watched
    written: dict[str, float] = {}
    for number in range(5):
        photo = folder / f"burst-{number}.jpg"
        written[str(photo)] = time.monotonic()  # taken before the write: its events come later
        photo.write_bytes(b"jpeg")
        time.sleep(DEBOUNCE_S / 5)  # a burst longer than the debounce, with short gaps
    batches = recorder.wait_for(*map(Path, written))
    assert reported_paths(batches) == set(written)
    for batch in batches:  # each report waited for the quiet after its last change
        assert batch.at - max(written[p] for p in batch.paths) >= DEBOUNCE_S


def test_hidden_and_non_photo_files_are_ignored(watched: tuple[Recorder, Path]) -> None:
    recorder, folder = watched
    (folder / ".hidden.jpg").write_bytes(b"x")
    (folder / "notes.txt").write_text("x")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "c.jpg").write_bytes(b"x")
    (folder / "b.png").write_bytes(b"x")  # written last: its report comes after the others'
    assert reported_paths(recorder.wait_for(folder / "b.png")) == {str(folder / "b.png")}


def test_moves_and_deletes_are_reported(watched: tuple[Recorder, Path]) -> None:
    recorder, folder = watched
    photo = folder / "c.jpg"
    photo.write_bytes(b"x")
    recorder.wait_for(photo)
    moved = folder / "sub" / "c.jpg"
    before_move = recorder.mark()
    photo.rename(moved)
    recorder.wait_for(photo, moved, since=before_move)
    before_delete = recorder.mark()
    moved.unlink()
    recorder.wait_for(moved, since=before_delete)


def test_stop_joins_threads(tmp_path: Path) -> None:
    before = threading.active_count()
    watcher = FolderWatcher(lambda paths: None, debounce_s=0.1)
    watcher.start([tmp_path, tmp_path / "missing"])
    assert watcher.folders == [str(tmp_path)]
    assert threading.active_count() > before
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
        assert reported_paths(recorder.wait_for(folder / "a.jpg")) == {str(folder / "a.jpg")}
    finally:
        watcher.stop()
