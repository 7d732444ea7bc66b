"""A registry of the app's QThreads, so shutdown and tests can check none is left running."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QThread

_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def new_thread(name: str) -> QThread:
    thread = QThread()
    thread.setObjectName(name)
    _threads.add(thread)
    return thread


def running_threads() -> list[str]:
    """Names of the app's QThreads still running."""
    alive: list[str] = []
    for thread in list(_threads):
        try:
            if thread.isRunning():
                alive.append(thread.objectName())
        except RuntimeError:  # the C++ object is already deleted
            continue
    return alive
