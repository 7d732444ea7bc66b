"""A duplicate-check task that answers with one None per photo whose features its worker
process keeps: how a test reads a spawned worker's cache bound (importable by the worker)."""

from __future__ import annotations

from photofinder.core.duplicates import check_pool


def views_kept(task: check_pool.Task) -> list[bool | None]:
    return [None] * check_pool._worker_views.capacity
