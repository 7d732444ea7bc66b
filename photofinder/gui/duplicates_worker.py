"""Duplicate review work off the GUI thread: one worker thread runs jobs in order."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photofinder.core.errors import PhotoFinderError
from photofinder.core.library import Library
from photofinder.gui.threads import new_thread

log = logging.getLogger(__name__)
Job = Callable[[Library], object]


class JobWorker(QObject):
    """Lives in the review thread; runs each job with the library and reports its result."""

    done = Signal(str, object)  # tag, result
    failed = Signal(str, str)  # tag, message

    def __init__(self, library: Library) -> None:
        super().__init__()
        self._library = library

    @Slot(str, object)
    def execute(self, tag: str, job: Job) -> None:
        try:
            # This thread's catalogue first: Library.index takes the library lock and then
            # asks for the calling thread's catalogue.
            self._library.catalog  # noqa: B018
            result = job(self._library)
        except PhotoFinderError as exc:
            self.failed.emit(tag, str(exc))
        except Exception as exc:  # a bug: report it, keep the app alive
            log.exception("duplicate review job %s failed", tag)
            self.failed.emit(tag, f"{tag} failed unexpectedly: {exc!r}")
        else:
            self.done.emit(tag, result)


class JobController(QObject):
    """Owns the review thread (started on first use); jobs run one at a time, in order."""

    finished = Signal(str, object)  # tag, result
    failed = Signal(str, str)  # tag, message
    busy_changed = Signal(bool)
    _submit = Signal(str, object)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._thread: QThread | None = None
        self._worker: JobWorker | None = None
        self._pending = 0
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def submit(self, tag: str, job: Job) -> None:
        if self._closed:
            return
        if self._thread is None:
            self._thread = new_thread("photofinder-duplicates")
            self._worker = JobWorker(self.library)
            self._worker.moveToThread(self._thread)
            self._submit.connect(self._worker.execute)
            self._worker.done.connect(self._on_done)
            self._worker.failed.connect(self._on_failed)
            self._thread.finished.connect(self._worker.deleteLater)
            self._thread.start()
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._submit.emit(tag, job)

    @Slot(str, object)
    def _on_done(self, tag: str, result: object) -> None:
        self._finish()
        self.finished.emit(tag, result)

    @Slot(str, str)
    def _on_failed(self, tag: str, message: str) -> None:
        self._finish()
        self.failed.emit(tag, message)

    def _finish(self) -> None:
        self._pending = max(0, self._pending - 1)
        if self._pending == 0:
            self.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Let the running job end, drop the queued ones, join the thread."""
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        self._pending = 0
