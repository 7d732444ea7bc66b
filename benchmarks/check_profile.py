"""Where a first duplicate run's time goes: the near-strictness candidate pairs of a kept
library (for example `python -m benchmarks.scale --photos 10000 --keep DIR --data-dir D`)
checked in this one process, in the order the search checks them, with each stage of the
check timed: reading the thumbnails into views, reading the stored keypoints (SIFT detection
for photos without), keypoint matching with the transform fit, the block comparison, and
reading files for a closer look.

    python -m benchmarks.check_profile --data-dir D [--pairs 1500] [--whole-run]

It reads the library and writes nothing (verdicts are not stored). The times add the stages
up inside one process with one thread, so they are shares of the checks' CPU time, not the
wall time of a run on all cores. `--whole-run` also times a first near run as the app runs it
(all cores, verdicts stored), on a copy of the data with the verdicts and remembered groups
emptied."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from photofinder.core.duplicates import check_pool, pair_check
from photofinder.core.duplicates.candidates import exact_pairs, neighbour_pairs, turned_pairs
from photofinder.core.duplicates.grouping import THRESHOLDS, Strictness
from photofinder.core.duplicates.pair_order import local_order
from photofinder.core.duplicates.review import GeometricConfirmer
from photofinder.core.library import Library
from photofinder.core.lru import LRUCache
from photofinder.core.matching import keypoints, stored_keypoints, verify

Stages = dict[str, list[float]]


def timed(stages: Stages, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, adding the seconds of each call to `stages[name]`."""

    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            stages[name].append(time.perf_counter() - start)

    return run


@contextmanager
def stage_timers(stages: Stages) -> Iterator[None]:
    """The check's stages timed while inside (module attributes swapped, then restored)."""
    swaps = [
        (check_pool, "photo_view", "views (thumbnail decode, grey at check side)"),
        (stored_keypoints, "thumbnail_keypoints", "SIFT detection"),
        (stored_keypoints, "decode", "stored keypoints read"),
        (keypoints, "mirror_of", "mirror keypoints (derived)"),
        (verify, "verify_sets", "matching + transform fit"),
        (pair_check, "_lines_up", "block comparison (incl. closer look)"),
        (pair_check.PairView, "closer", "closer look (file read at 512 px)"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in swaps]
    for owner, name, label in swaps:
        setattr(owner, name, timed(stages, label, getattr(owner, name)))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a kept library's data")
    parser.add_argument("--pairs", type=int, default=1500, help="candidate pairs to check")
    parser.add_argument("--whole-run", action="store_true", help="time a first near run too")
    args = parser.parse_args(argv)
    profile(args.data_dir, args.pairs)
    if args.whole_run:
        whole_run(args.data_dir)
    return 0


def whole_run(data_dir: Path) -> None:
    """Time a first near run on a copy of the library's data without stored verdicts (nor
    remembered groups)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "data"
        shutil.copytree(data_dir, copy)
        with sqlite3.connect(copy / "catalog.sqlite3") as connection:
            connection.execute("DELETE FROM verdicts")
            connection.execute("DELETE FROM duplicate_results")
        checked: list[int] = []
        confirm = GeometricConfirmer.__call__

        def counted(self: GeometricConfirmer, pairs: list[Any]) -> list[bool | None]:
            checked.append(len(pairs))
            return confirm(self, pairs)

        GeometricConfirmer.__call__ = counted  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            with Library(copy, device="cpu") as lib:
                groups = lib.duplicates(Strictness.NEAR)
            seconds = time.perf_counter() - start
        finally:
            GeometricConfirmer.__call__ = confirm  # type: ignore[method-assign]
    print(f"first near run: {seconds:.1f} s, {sum(checked)} pairs checked, "
          f"{len(groups)} groups")


def profile(data_dir: Path, wanted: int) -> None:
    """Check `wanted` candidate pairs in this process and print the stages' times."""
    with Library(data_dir, device="cpu") as lib:
        catalog, index = lib.catalog, lib.index
        candidates = neighbour_pairs(index, catalog, THRESHOLDS[Strictness.NEAR].candidate)
        candidates |= turned_pairs(catalog)
        exact = exact_pairs(catalog.hash_groups())
        order = [p for p in local_order(candidates) if p not in exact][:wanted]
        records = catalog.files_by_ids(sorted({i for pair in order for i in pair}))
        pairs = [pair_check.oriented(records[a], records[b]) for a, b in order
                 if a in records and b in records]
        ids = {r.id for pair in pairs for r in pair}
        stored = catalog.keypoints_of(ids, stored_keypoints.STORED_VERSION)
        sources = {r.id: pair_check.PhotoSource.of(r, catalog.thumbnail(r.id), stored.get(r.id))
                   for pair in pairs for r in pair}
    tasks = check_pool.tasks_of([(sources[a.id], sources[b.id]) for a, b in pairs])
    stages: Stages = defaultdict(list)
    cache: check_pool.Views = LRUCache(check_pool.VIEW_CACHE)
    start = time.perf_counter()
    with stage_timers(stages), threadpool_limits(1):
        verdicts = [same for task in tasks for same in check_pool.checked(task, cache)]
    total = time.perf_counter() - start
    print(f"{len(pairs)} candidate pairs over {len(sources)} photos of {len(candidates)} "
          f"(near, {data_dir})")
    print(f"checked in {total:.1f} s: {1000 * total / max(1, len(pairs)):.1f} ms a pair, "
          f"{sum(v is True for v in verdicts)} the same photo, "
          f"{sum(v is None for v in verdicts)} unreadable")
    for label, seconds in sorted(stages.items(), key=lambda item: -sum(item[1])):
        spent = sum(seconds)
        print(f"  {label:44s} {spent:7.1f} s {100 * spent / total:5.1f} %  "
              f"{len(seconds):6d} calls, {1000 * spent / max(1, len(seconds)):6.2f} ms each")
    print_footprints([cache.get(key) for key in {s.key for s in sources.values()}])


def print_footprints(views: list[pair_check.PairView | None]) -> None:
    """What the checked photos' features weigh in memory, as a worker's cache keeps them."""
    weights = sorted(view.footprint() for view in views if view is not None)
    if not weights:
        return
    closer = sum(view is not None and view.closer_read for view in views)
    print(f"features kept: {len(weights)} photos, mean {statistics.mean(weights) / 1024:.0f} KB, "
          f"p95 {weights[int(0.95 * (len(weights) - 1))] / 1024:.0f} KB, "
          f"max {weights[-1] / 1024:.0f} KB; {closer} read their file for a closer look")


if __name__ == "__main__":
    raise SystemExit(main())
