"""Indexing in the background: start, pause, resume, cancel; a run asked for while one is going
starts when it ends."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.library import Library
from photofinder.core.progress import CancelToken
from photofinder.gui.jobs import Job, JobContext, JobQueue

log = logging.getLogger(__name__)
STOP_WAIT_MS = 5000  # after this, shutdown says why it still waits (a model is loading)


class IndexController(QObject):
    """Runs `library.update()` on its own queue; watcher events coalesce into one rerun."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # IndexReport
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._jobs = JobQueue("photofinder-index", self)
        self._job: Job[IndexReport] | None = None
        self._rerun = False
        self._shutting_down = False

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def paused(self) -> bool:
        return self._job is not None and self._job.token.paused

    def start(self) -> None:
        """Start an update run now, or once the current one ends."""
        if self._shutting_down:
            return
        if self._job is not None:
            self._rerun = True
            return
        library = self._library

        def update(context: JobContext) -> IndexReport:
            return library.update(context.progress, context.token)

        self._job = self._jobs.submit(
            update, self._on_finished, failed=self._on_failed, progress=self.progress.emit,
            token=CancelToken(), what="Indexing",
        )
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._job is not None:
            self._job.token.pause()

    def resume(self) -> None:
        if self._job is not None:
            self._job.token.resume()

    def cancel(self) -> None:
        self._rerun = False
        if self._job is not None:
            self._job.cancel()

    def shutdown(self) -> bool:
        """Cancel and wait for the run (the core saves its index on the way out)."""
        self._shutting_down = True
        self.cancel()
        stopped = self._jobs.shutdown(STOP_WAIT_MS)
        if not stopped:
            # Only model loading ignores the cancel switch; the run must end before the
            # library closes, so wait for it to reach the next checkpoint.
            log.warning("indexing is slow to stop (loading the model?); waiting for it")
            self._jobs.shutdown()
        self._ended()
        return stopped

    def _on_finished(self, report: IndexReport) -> None:
        self._ended()
        self.finished.emit(report)
        self._rerun_if_asked()

    def _on_failed(self, message: str) -> None:
        self._ended()
        self.failed.emit(message)
        self._rerun_if_asked()

    def _ended(self) -> None:
        if self._job is not None:
            self._job = None
            self.running_changed.emit(False)

    def _rerun_if_asked(self) -> None:
        if self._rerun and not self._shutting_down and self._job is None:
            self._rerun = False
            self.start()
