"""Indexing in a worker thread: core progress callbacks become throttled Qt signals."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photofinder.core.errors import PhotoFinderError
from photofinder.core.library import Library
from photofinder.core.progress import CancelToken, Progress
from photofinder.gui.threads import new_thread

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.1


class IndexWorker(QObject):
    """Runs one `library.update()`; lives in its own QThread and quits it when done."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # IndexReport
    failed = Signal(str)

    def __init__(self, library: Library, cancel: CancelToken) -> None:
        super().__init__()
        self._library = library
        self._cancel = cancel
        self._last_emit = 0.0
        self._last_stage = ""

    @Slot()
    def run(self) -> None:
        try:
            report = self._library.update(self._on_progress, self._cancel)
        except PhotoFinderError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the app alive, say what happened
            log.exception("indexing failed")
            self.failed.emit(f"indexing failed unexpectedly: {exc!r}")
        else:
            self.finished.emit(report)
        finally:
            thread = self.thread()
            if thread is not None:
                thread.quit()

    def _on_progress(self, progress: Progress) -> None:
        """Called from the core on this thread, per file: forward at most ten times a second."""
        now = time.monotonic()
        final = progress.total > 0 and progress.done >= progress.total
        due = now - self._last_emit >= PROGRESS_INTERVAL_S
        if progress.stage != self._last_stage or final or due:
            self._last_emit = now
            self._last_stage = progress.stage
            self.progress.emit(progress)


class IndexController(QObject):
    """Starts, pauses, resumes and cancels indexing runs; a run requested while one is going is
    queued and starts when it ends (watcher events coalesce into one rerun)."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # IndexReport
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._thread: QThread | None = None
        self._worker: IndexWorker | None = None
        self._cancel: CancelToken | None = None
        self._rerun = False
        self._shutting_down = False

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._cancel is not None and self._cancel.paused

    def start(self) -> None:
        """Start an update run now, or once the current one ends."""
        if self._shutting_down:
            return
        if self._thread is not None:
            self._rerun = True
            return
        self._cancel = CancelToken()
        thread = new_thread("photofinder-index")
        worker = IndexWorker(self._library, self._cancel)
        worker.moveToThread(thread)
        worker.progress.connect(self.progress)
        worker.finished.connect(self.finished)
        worker.failed.connect(self.failed)
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._cancel is not None:
            self._cancel.pause()

    def resume(self) -> None:
        if self._cancel is not None:
            self._cancel.resume()

    def cancel(self) -> None:
        self._rerun = False
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the worker (the core saves its index on the way out)."""
        self._shutting_down = True
        self.cancel()
        thread = self._thread
        if thread is None:
            return True
        stopped = thread.wait(timeout_ms)
        if not stopped:
            # Only model loading ignores the cancel switch; destroying a running QThread
            # would crash, so wait for it to reach the next checkpoint.
            log.warning("indexing is slow to stop (loading the model?); waiting for it")
            thread.wait()
        self._on_thread_finished()
        return stopped

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        if thread.isRunning():
            return  # a queued notification of an older thread; the current one still works
        self._thread = self._worker = self._cancel = None
        if worker is not None:
            worker.deleteLater()
        thread.deleteLater()
        self.running_changed.emit(False)
        if self._rerun and not self._shutting_down:
            self._rerun = False
            self.start()
