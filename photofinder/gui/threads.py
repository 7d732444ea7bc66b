"""A registry of the app's thread pools, so shutdown and tests can check none is left running."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QThreadPool

_pools: weakref.WeakSet[QThreadPool] = weakref.WeakSet()


def register_pool(pool: QThreadPool) -> None:
    """Count `pool` (named by its objectName) among the app's threads."""
    _pools.add(pool)


def running_threads() -> list[str]:
    """Names of the app's pools with a job still running."""
    alive: list[str] = []
    for pool in list(_pools):
        try:
            if pool.activeThreadCount() > 0:
                alive.append(pool.objectName())
        except RuntimeError:  # the C++ object is already deleted
            continue
    return alive
