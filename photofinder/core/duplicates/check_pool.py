"""Pair checks on all cores: candidate pairs go to worker processes in tasks of a few hundred,
each with the stored thumbnails of its photos; every worker keeps the features it computed
(alignment views, keypoints) in a bounded cache for the tasks that follow, which share most
of their photos (the pairs come sorted). Few pairs are checked in this process, where starting
workers would cost more than it saves; if workers cannot be started, or one dies, the checks
run here instead."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from threadpoolctl import threadpool_limits

from photofinder.core.duplicates.pair_check import PairView, PhotoSource, photo_view, same_photo
from photofinder.core.lru import LRUCache
from photofinder.core.matching.verify import default_workers

LOG = logging.getLogger(__name__)
TASK_PAIRS = 256  # pairs sent to a worker at a time
IN_PROCESS_BELOW = 512  # checks run here until workers are needed for this many (~1 s to start)
# Photos whose features the checking processes keep, all together (each worker its share, so
# memory does not grow with the number of cores): ~105 KB each with keypoints (p95 157 KB,
# measured at 10,000 real-content photos), ~860 MB in all. Replaying the checks of that
# library's first run (5,664 photos) on two workers: 11,795 views made with 2,048 kept a worker,
# 8,825 with 4,096, 8,562 with all.
FEATURES_KEPT = 8192
VIEW_CACHE = FEATURES_KEPT // 2  # kept by this process when it checks pairs itself

Task = tuple[list[PhotoSource], list[tuple[str, str]]]
CheckTask = Callable[[Task], list[bool | None]]

Views = LRUCache[str, PairView | None]
_worker_views: Views = LRUCache(VIEW_CACHE)  # a worker process's, for its lifetime


def kept_per_worker(workers: int) -> int:
    """How many photos' features each of `workers` worker processes keeps."""
    return max(1, FEATURES_KEPT // max(1, workers))


def _start_worker(views_kept: int) -> None:
    """One thread per worker: the workers are the parallelism (two BLAS threads in each of
    two workers made the checks slower than one process). The worker keeps `views_kept`
    photos' features."""
    import cv2

    _worker_views.capacity = views_kept
    cv2.setNumThreads(1)
    threadpool_limits(1)


def check_task(task: Task) -> list[bool | None]:
    """The verdicts of a task's pairs, in a worker process."""
    return checked(task, _worker_views)


def checked(task: Task, cache: Views) -> list[bool | None]:
    """The verdicts of a task's pairs (by photo key), with features from `cache` or computed
    and put there."""
    photos, pairs = task
    views = {}
    for source in photos:
        view = cache.get(source.key)
        if view is None and source.key not in cache:
            view = photo_view(source)
            cache.put(source.key, view)
        views[source.key] = view
    return [same_photo(views[a], views[b]) for a, b in pairs]


class CheckPool:
    """Checks tasks of pairs in worker processes, started on first need and kept until
    `close`. Each call's tasks are split into one contiguous run per worker, the runs handed
    out in turn forwards and backwards, so that the run where one call ends and the next
    begins (consecutive pairs share photos) goes to the same worker."""

    def __init__(
        self,
        workers: int | None = None,
        in_process_below: int = IN_PROCESS_BELOW,
        task: CheckTask = check_task,
        cache_size: int = VIEW_CACHE,
    ) -> None:
        self.workers = workers or default_workers()
        self.in_process_below = in_process_below
        self._task = task
        self._pools: list[Executor] = []
        self._calls = 0
        self._broken = False
        self.cached: Views = LRUCache(cache_size)  # features for the checks run in this process

    def check(self, tasks: Sequence[Task]) -> list[bool | None]:
        """The verdicts of every task's pairs, in order."""
        pairs = sum(len(pairs) for _, pairs in tasks)
        started = bool(self._pools)  # once started, workers have the features at hand
        if self.workers > 1 and not self._broken and (started or pairs >= self.in_process_below):
            try:
                return self._in_workers(tasks)
            except (BrokenProcessPool, OSError) as error:  # a worker died, or none started
                LOG.warning("checking duplicate pairs in one process: %s", error)
                self._broken = True
                self.close()
        with threadpool_limits(1):  # BLAS threads cost more than they save on these sizes
            return [same for task in tasks for same in checked(task, self.cached)]

    def _in_workers(self, tasks: Sequence[Task]) -> list[bool | None]:
        if not self._pools:
            context = multiprocessing.get_context("spawn")
            kept = (kept_per_worker(self.workers),)
            self._pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                               initargs=kept)
                           for _ in range(self.workers)]
        share = -(-len(tasks) // self.workers)
        order = self._pools if self._calls % 2 == 0 else self._pools[::-1]
        self._calls += 1
        futures = [order[number // share].submit(self._task, task)
                   for number, task in enumerate(tasks)]
        return [same for future in futures for same in future.result()]

    @property
    def worker_calls(self) -> int:
        """How many calls the worker processes have checked."""
        return self._calls

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(cancel_futures=True)
        self._pools = []

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def tasks_of(
    pairs: Sequence[tuple[PhotoSource, PhotoSource]], size: int = TASK_PAIRS
) -> list[Task]:
    """The pairs in tasks of `size`, each with the sources of its photos once."""
    tasks = []
    for start in range(0, len(pairs), size):
        chunk = pairs[start : start + size]
        photos = {source.key: source for pair in chunk for source in pair}
        tasks.append((list(photos.values()), [(a.key, b.key) for a, b in chunk]))
    return tasks

