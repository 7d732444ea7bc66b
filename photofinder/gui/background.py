"""One-off calls on short-lived QThreads: the latest request wins, shutdown waits for all."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photofinder.gui.threads import new_thread

log = logging.getLogger(__name__)


class _Runner(QObject):
    done = Signal(int, object)  # generation, result
    failed = Signal(int, str)  # generation, message

    def __init__(self, generation: int, function: Callable[[], object]) -> None:
        super().__init__()
        self._generation = generation
        self._function = function

    @Slot()
    def run(self) -> None:
        try:
            result = self._function()
        except Exception as exc:  # reported to the GUI, never fatal
            log.debug("background call failed", exc_info=True)
            self.failed.emit(self._generation, str(exc) or repr(exc))
        else:
            self.done.emit(self._generation, result)
        finally:
            thread = self.thread()
            if thread is not None:
                thread.quit()


class BackgroundCall(QObject):
    """Runs functions off the GUI thread, one QThread per call. Only the result of the latest
    `start` is delivered (`finished` / `failed`); older calls finish quietly."""

    finished = Signal(object)  # the function's result
    failed = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._generation = 0
        self._jobs: dict[QThread, _Runner] = {}
        self.runs = 0  # how many calls were started (tests check cache hits with it)

    @property
    def running(self) -> bool:
        return any(thread.isRunning() for thread in self._jobs)

    def start(self, function: Callable[[], object]) -> None:
        self._generation += 1
        self.runs += 1
        thread = new_thread(self._name)
        runner = _Runner(self._generation, function)
        runner.moveToThread(thread)
        runner.done.connect(self._on_done)
        runner.failed.connect(self._on_failed)
        thread.started.connect(runner.run)
        thread.finished.connect(self._reap)
        self._jobs[thread] = runner
        thread.start()

    def cancel(self) -> None:
        """Drop the pending result (the call itself runs to its end)."""
        self._generation += 1

    def shutdown(self) -> None:
        """Drop pending results and wait for every call to end."""
        self.cancel()
        for thread in list(self._jobs):
            thread.wait()
        self._reap()

    @Slot(int, object)
    def _on_done(self, generation: int, result: object) -> None:
        if generation == self._generation:
            self.finished.emit(result)

    @Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(message)

    @Slot()
    def _reap(self) -> None:
        for thread in [t for t in self._jobs if t.isFinished()]:
            runner = self._jobs.pop(thread)
            runner.deleteLater()
            thread.deleteLater()
