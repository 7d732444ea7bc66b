"""A duplicate-check task that kills the worker process running it (fault injection for
photofinder.core.duplicates.check_pool; importable by the spawned worker)."""

from __future__ import annotations

import os

from photofinder.core.duplicates.check_pool import Task


def die(task: Task) -> list[bool | None]:
    os._exit(3)
