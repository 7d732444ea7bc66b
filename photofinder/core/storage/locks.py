"""Cross-process locks on a library's data folder (filelock), with a cancellable, polling wait."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from photofinder.core.errors import LibraryBusyError

LOCK_FOLDER = "locks"
POLL_S = 0.1


def lock_path(data_dir: Path, name: str) -> Path:
    """The lock file of `name` ("catalog", "update", …) in a data folder."""
    return data_dir / LOCK_FOLDER / f"{name}.lock"


@contextmanager
def library_lock(
    data_dir: Path,
    name: str,
    cancel: Callable[[], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    *,
    timeout_s: float | None = None,
    busy_reason: str = "another PhotoFinder is using this library",
) -> Iterator[None]:
    """Hold the library's lock `name` for the block, against other processes and threads.

    While another holder has it: `on_wait` is called once, `cancel` (e.g.
    `CancelToken.checkpoint`, which raises) every poll, and after `timeout_s` (None: wait for
    ever) `LibraryBusyError(busy_reason)` is raised. Not re-entrant: never nest one name."""
    path = lock_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    _acquire(lock, cancel, on_wait, timeout_s, busy_reason)
    try:
        yield
    finally:
        lock.release()


def _acquire(
    lock: FileLock,
    cancel: Callable[[], None] | None,
    on_wait: Callable[[], None] | None,
    timeout_s: float | None,
    busy_reason: str,
) -> None:
    try:
        lock.acquire(timeout=0)
        return
    except Timeout:
        pass
    if on_wait is not None:
        on_wait()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        if cancel is not None:
            cancel()
        try:
            lock.acquire(timeout=POLL_S)
            return
        except Timeout:
            if deadline is not None and time.monotonic() >= deadline:
                raise LibraryBusyError(busy_reason) from None
