"""Duplicates and search at real scale: a library of real photo content
(benchmarks.scale_library) indexed by the pipeline. `--keep DIR` writes the set there and
reuses (or completes, after an interruption) what is already there.

Each phase runs in its own process, so each peak memory is its own (ru_maxrss of the process,
and of its children if any): indexing (`Library.update`), duplicate search at each strictness
(first and second run, then once more in a new process), plain search (latency of single
queries, then 200 streamed) and precise search (`verify=True`, 200 streamed). Pair scores: a
found pair is what the plan made it: identical, edited (a copy), scene (another shot), "shared
crop" (two pictures whose tiles crop one photo at overlapping places: made so by chance, not
planted) or unrelated. Precision counts as right: identical pairs (exact); identical and edited
(near); all three (similar). Recall is over the planted pairs those kinds make.
    python -m benchmarks.scale [--photos 100000] [--keep DIR] [--data-dir D] [--seed 0]
        [--workers N] [--skip-search]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.heldout import DEFAULT_DATA
from benchmarks.scale_library import (
    QUERIES,
    RELATIONS,
    Plan,
    Source,
    generate,
    query_path,
    read_sources,
)
from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.library import Library

LATENCY_QUERIES = 100
SEARCH_DEPTH = 20
KIB_PER_MIB = 1024
RIGHT_KINDS = {
    Strictness.EXACT: {"identical"},
    Strictness.NEAR: {"identical", "edited"},
    Strictness.SIMILAR: {"identical", "edited", "scene"},
}


# --- measured phases (each in its own process) -------------------------------------------------
@dataclass(frozen=True)
class Peak:
    """ru_maxrss of a process and of its children, in MiB."""

    own: float
    children: float

    def __str__(self) -> str:
        return f"{self.own:.0f} MB (children {self.children:.0f} MB)"


def peak_now() -> Peak:
    """This process's peak memory so far, and its children's."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / KIB_PER_MIB
    return Peak(own, children)


@dataclass(frozen=True)
class IndexResult:
    """What indexing did, in how long, at what peak memory."""

    seconds: float
    scanned: int
    embedded: int
    copied: int
    failed: int
    peak: Peak


def index_phase(folder: Path, data_dir: Path, device: str) -> IndexResult:
    """Index the library folder through `Library.update`."""
    with Library(data_dir, device=device) as library:
        library.add_roots([folder / "library"])
        started = time.perf_counter()
        report = library.update()
        seconds = time.perf_counter() - started
    return IndexResult(seconds, report.scanned, report.embedded, report.copied, report.failed,
                       peak_now())


@dataclass(frozen=True)
class DuplicateResult:
    """One strictness: both runs' times, whether they agree, and the scores of the first."""

    strictness: Strictness
    first_seconds: float
    second_seconds: float
    same: bool
    groups: int
    relations: dict[str, int]
    precision: float
    lenient_precision: float
    recall: float


def found_pairs(groups: Sequence[Sequence[str]], plan: Plan) -> set[tuple[int, int]]:
    """Every pair of file indices within one group."""
    pairs: set[tuple[int, int]] = set()
    for group in groups:
        indices = sorted(plan.index_of(path) for path in group)
        pairs.update(itertools.combinations(indices, 2))
    return pairs


def score(strictness: Strictness, pairs: set[tuple[int, int]], plan: Plan
          ) -> tuple[dict[str, int], float, float, float]:
    """How many found pairs are of each relation; pair precision, the same counting shared
    crops as right, and recall."""
    relations = dict.fromkeys(RELATIONS, 0)
    for a, b in pairs:
        relations[plan.relation(a, b)] += 1
    right = RIGHT_KINDS[strictness]
    planted = plan.planted_pairs(right)
    total = max(len(pairs), 1)
    precision = sum(relations[k] for k in right) / total if pairs else 1.0
    lenient = (sum(relations[k] for k in right) + relations["shared crop"]) / total
    recall = len(pairs & planted) / len(planted) if planted else 1.0
    return relations, precision, lenient if pairs else 1.0, recall


def duplicates_phase(folder: Path, data_dir: Path, device: str, sources: list[Source],
                     photos: int, seed: int) -> Peak:
    """Each strictness twice in a row, near first (the default), on the indexed library, each
    printed as it is done (at 100,000 photos it takes time); the phase's peak memory."""
    plan = Plan(sources, photos, seed)
    with Library(data_dir, device=device) as library:
        for strictness in (Strictness.NEAR, Strictness.SIMILAR, Strictness.EXACT):
            runs = []
            for _ in range(2):
                started = time.perf_counter()
                groups = [g.paths for g in library.duplicates(strictness)]
                runs.append((groups, time.perf_counter() - started))
            (first, first_seconds), (second, second_seconds) = runs
            same = {frozenset(g) for g in first} == {frozenset(g) for g in second}
            relations, precision, lenient, recall = score(strictness, found_pairs(first, plan),
                                                          plan)
            print_duplicate_result(DuplicateResult(
                strictness, first_seconds, second_seconds, same, len(first), relations,
                precision, lenient, recall))
    return peak_now()


def reopened_phase(data_dir: Path, device: str) -> list[tuple[Strictness, float, int]]:
    """Each strictness once more in a new process, as a later `photofinder duplicates` or the
    app started again: (strictness, seconds from opening the library to its groups, groups)."""
    runs = []
    for strictness in (Strictness.NEAR, Strictness.SIMILAR, Strictness.EXACT):
        started = time.perf_counter()
        with Library(data_dir, device=device) as library:
            groups = library.duplicates(strictness)
        runs.append((strictness, time.perf_counter() - started, len(groups)))
    return runs


@dataclass(frozen=True)
class SearchResult:
    """A search phase: the first query's time, single-query latencies, the streamed run's
    time, the share of queries whose rank 1 is their picture, and peak memory."""

    first_seconds: float
    latencies: list[float]
    streamed_seconds: float
    rank1: float
    peak: Peak


def search_phase(folder: Path, data_dir: Path, verify: bool, device: str,
                 sources: list[Source], photos: int, seed: int) -> SearchResult:
    """Plain search: one query to load the model, LATENCY_QUERIES one at a time, then all
    QUERIES streamed; precise search (`verify`): all QUERIES streamed."""
    plan = Plan(sources, photos, seed)
    queries = [query_path(folder, n) for n in range(QUERIES)]
    wanted = [str((folder / "library" / plan.name(b)).resolve()) for b in plan.query_bases]
    first_seconds, latencies = 0.0, []
    with Library(data_dir, device=device) as library:
        if not verify:
            started = time.perf_counter()
            library.search_files(queries[:1], k=SEARCH_DEPTH)
            first_seconds = time.perf_counter() - started
            for query in queries[:LATENCY_QUERIES]:
                started = time.perf_counter()
                library.search_files([query], k=SEARCH_DEPTH)
                latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        right = [bool(hits) and hits[0].path == target for (_, hits), target in zip(
            library.iter_search_files(queries, k=SEARCH_DEPTH, verify=verify), wanted,
            strict=True)]
        streamed = time.perf_counter() - started
    return SearchResult(first_seconds, latencies, streamed, sum(right) / len(right),
                        peak_now())


def in_own_process(function: Any, *args: Any) -> Any:
    """Run a phase in a fresh process, so that its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        return executor.submit(function, *args).result()


# --- report ------------------------------------------------------------------------------------
def print_index(result: IndexResult) -> None:
    """The indexing line."""
    if result.embedded + result.copied == 0 and result.failed == 0:
        print(f"index: {result.scanned} files, all indexed already (--data-dir reused): "
              f"{result.seconds:.1f} s")
        return
    print(f"index: {result.scanned} files in {result.seconds:.1f} s "
          f"({result.scanned / max(result.seconds, 1e-9):.1f} photos/s): {result.embedded} "
          f"embedded, {result.copied} taken over from a catalogued identical file, "
          f"{result.failed} failed; "
          f"peak memory {result.peak}")


def print_duplicate_result(result: DuplicateResult) -> None:
    """One strictness: both times, the groups, the pairs by relation, precision, recall."""
    pairs = sum(result.relations.values())
    breakdown = ", ".join(f"{k} {v}" for k, v in result.relations.items())
    print(f"duplicates {result.strictness.value}: first run {result.first_seconds:.1f} s, "
          f"second run {result.second_seconds:.2f} s "
          f"({'same groups' if result.same else 'OTHER GROUPS'})")
    print(f"  {result.groups} groups, {pairs} pairs ({breakdown}): pair precision "
          f"{result.precision:.3f} ({result.lenient_precision:.3f} counting shared crops "
          f"as right), recall {result.recall:.3f}", flush=True)


def print_search(plain: SearchResult, precise: SearchResult) -> None:
    """Plain latency and streamed time; precise time per query; their peaks."""
    median = statistics.median(plain.latencies) * 1000
    print(f"plain search: first query {plain.first_seconds:.2f} s (loads the model), median "
          f"of {len(plain.latencies)} single queries {median:.0f} ms; {QUERIES} queries "
          f"streamed {plain.streamed_seconds:.1f} s, rank 1 is the copied picture "
          f"{plain.rank1:.3f}; peak memory {plain.peak}")
    print(f"precise search (verify): {QUERIES} queries {precise.streamed_seconds:.1f} s "
          f"({precise.streamed_seconds / QUERIES * 1000:.0f} ms per query), rank 1 "
          f"{precise.rank1:.3f}; peak memory {precise.peak}")


def run(args: argparse.Namespace, folder: Path, data_dir: Path) -> None:
    """Generate (or complete) the set, then run and print every phase."""
    sources = read_sources(args.data)
    plan = Plan(sources, args.photos, args.seed)
    generate(folder, plan, args.data, args.workers)
    print_index(in_own_process(index_phase, folder, data_dir, args.device))
    peak = in_own_process(duplicates_phase, folder, data_dir, args.device, sources,
                          args.photos, args.seed)
    print(f"duplicate search peak memory {peak}")
    reopened = in_own_process(reopened_phase, data_dir, args.device)
    print("duplicates again in a new process (library opened, groups given): " + ", ".join(
        f"{strictness.value} {seconds:.2f} s ({groups} groups)"
        for strictness, seconds, groups in reopened), flush=True)
    if not args.skip_search:
        plain = in_own_process(search_phase, folder, data_dir, False, args.device, sources,
                               args.photos, args.seed)
        precise = in_own_process(search_phase, folder, data_dir, True, args.device, sources,
                                 args.photos, args.seed)
        print_search(plain, precise)
    print(f"whole run: peak memory {peak_now()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the generated set here and reuse what is already there")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="PhotoFinder's data folder (default: a fresh temporary one)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = (args.keep or Path(scratch) / "set").resolve()
        run(args, folder, (args.data_dir or Path(scratch) / "data").resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
