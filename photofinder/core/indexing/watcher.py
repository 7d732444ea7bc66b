"""Recursive folder watching with debounce: changed photo paths reach a plain callback."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from photofinder.core.photos.imageio import is_photo_name
from photofinder.core.photos.scan import SKIPPED_FOLDERS

ChangeCallback = Callable[[set[str]], None]
DEFAULT_DEBOUNCE_S = 2.0
INOTIFY = sys.platform.startswith("linux")


def _ignored(root: Path, path: str, is_directory: bool) -> bool:
    """Hidden files and folders, system folders, and files that are not photos, below the
    watched root. (A folder moved in or out matters: it may hold photos.)"""
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        return True
    if not parts or any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
        return True
    return not is_directory and not is_photo_name(parts[-1])


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, sink: Callable[[str], None]) -> None:
        self._root = Path(root)
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.event_type == "modified" and (event.is_directory or INOTIFY):
            # Folders: their files report their own changes. Linux: reading a photo changes its
            # access time, which inotify reports as "modified"; a real write also ends with a
            # "closed" event, which is what is followed there.
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = raw.decode() if isinstance(raw, bytes) else str(raw)
            if not path:
                continue
            if not _ignored(self._root, path, event.is_directory):
                self._sink(path)


class FolderWatcher:
    """Watches folders recursively; after `debounce_s` of quiet, calls `callback(paths)`.

    Every new event restarts the quiet period, so a photo still being copied is reported once
    its writes stop. The callback runs on the watcher's own thread."""

    def __init__(self, callback: ChangeCallback, debounce_s: float = DEFAULT_DEBOUNCE_S) -> None:
        self._callback = callback
        self._debounce = debounce_s
        self._observer: BaseObserver | None = None
        self._pending: set[str] = set()
        self._last_event = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._folders: list[str] = []
        self._lifecycle = threading.Lock()  # start and stop may come from different threads

    @property
    def folders(self) -> list[str]:
        return list(self._folders)

    def start(self, folders: Iterable[Path]) -> None:
        """(Re)start watching these folders; folders that do not exist are skipped.

        Setting up a recursive watch walks every subfolder: call this off the GUI thread."""
        with self._lifecycle:
            self._stop()
            self._start(folders)

    def _start(self, folders: Iterable[Path]) -> None:
        self._stopping = False
        self._folders = [str(f) for f in folders if Path(f).is_dir()]
        observer = Observer()
        for folder in self._folders:
            observer.schedule(_Handler(folder, self._note), folder, recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(
            target=self._debounce_loop, name="photofinder-watch-debounce", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and join the threads; pending changes are dropped (an update at the
        next start-up reconciles them)."""
        with self._lifecycle:
            self._stop()

    def _stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._pending.clear()

    def _note(self, path: str) -> None:
        with self._cond:
            self._pending.add(path)
            self._last_event = time.monotonic()
            self._cond.notify_all()

    def _debounce_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._pending:
                    self._cond.wait()
                if self._stopping:
                    return
                quiet_for = time.monotonic() - self._last_event
                if quiet_for < self._debounce:
                    self._cond.wait(self._debounce - quiet_for)
                    continue
                batch, self._pending = self._pending, set()
            self._callback(batch)
