"""Progress reporting and cancellation through plain callbacks (no GUI types)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised inside long work when its CancelToken is set."""


class CancelToken:
    """Thread-safe cancel and pause switches checked by long-running work between batches."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self) -> None:
        """Block while paused; raise Cancelled if cancelled."""
        self._running.wait()
        if self._cancel.is_set():
            raise Cancelled


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running job: what stage, how far, how fast."""

    stage: str
    done: int
    total: int
    rate: float = 0.0
    eta_s: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    """The default callback: report nothing."""


class RateMeter:
    """Photos per second over a sliding window, and the time left at that rate."""

    def __init__(self, window_s: float = 10.0) -> None:
        self._window = window_s
        self._samples: list[tuple[float, int]] = []

    def update(self, done: int) -> float:
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
            self._samples.pop(0)
        first_t, first_done = self._samples[0]
        elapsed = now - first_t
        return (done - first_done) / elapsed if elapsed > 0 else 0.0

    @staticmethod
    def eta(done: int, total: int, rate: float) -> float | None:
        return (total - done) / rate if rate > 0 else None
