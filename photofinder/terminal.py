"""A one-line progress bar for terminals (silent when output is not a terminal)."""

from __future__ import annotations

import shutil
import time
from typing import TextIO

from photofinder.core.progress import Progress


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressBar:
    def __init__(self, stream: TextIO, min_interval_s: float = 0.1) -> None:
        self._stream = stream
        self.enabled = stream.isatty()
        self._interval = min_interval_s
        self._last = 0.0
        self._shown = False

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        throttled = now - self._last < self._interval and progress.done != progress.total
        if not self.enabled or throttled:
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        if progress.total:
            tail = (f" {progress.done}/{progress.total} {progress.rate:5.1f} photos/s "
                    f"ETA {format_duration(progress.eta_s)}")
            bar_width = max(10, width - len(progress.stage) - len(tail) - 4)
            filled = int(bar_width * progress.fraction)
            line = f"{progress.stage} [{'#' * filled}{'.' * (bar_width - filled)}]{tail}"
        else:
            line = f"{progress.stage}… {progress.done} {progress.message}"
        self._stream.write("\r" + line[: width - 1].ljust(width - 1))
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
