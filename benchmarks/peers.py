"""PhotoFinder against the duplicate finders users would pick instead, in one run on one library.

A seeded sample of caltech101-dev originals, each with every edit of
photofinder.core.evaluation.edits (or the `--edits` kinds), among distractors, is written to a
temporary folder. Each tool then finds duplicates in that folder from scratch:

- PhotoFinder through the real pipeline (`Library.update`, then `duplicates` at *near*), with
  indexing and the duplicate search also timed apart, a second `duplicates` run and a change of
  strictness (*similar*) right after;
- imagededup PHash (hashing and finding) at its default distance and at distance 4;
- Czkawka (Python bindings) at its default similarity level and at level 5;
- findimagedupes (Debian) at its default threshold (90 %).

Pair precision and recall are scored as in benchmarks.heldout: the true pairs are (original,
copy) and (copy, copy) of one original; a found pair is right when both photos are one picture
(a copy and its original, or photos the data set holds twice, benchmarks/
caltech101_dev_same_pictures.txt). Grouping tools (PhotoFinder, Czkawka, findimagedupes) are
scored on every pair within a group; PHash lists each photo's duplicates, so its pairs are the
listed ones. Times are also given as a ratio to PHash's (default distance, from scratch): the
ratios are the figures to compare, absolute times vary with the machine. A tool that is not
installed is named and skipped (`pip install photofinder[bench]`; `apt-get install
findimagedupes`).
    python -m benchmarks.peers [--originals 60] [--distractors 300] [--edits KIND,KIND]
        [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import logging
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.duplicates import pair_scores
from benchmarks.heldout import DEFAULT_DATA, Copy, half_photos, pick, pictures, truth_pairs
from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.evaluation.edits import EDIT_KINDS, make_edited_set
from photofinder.core.library import Library

STRICT_PHASH_DISTANCE = 4
STRICT_CZKAWKA_LEVEL = 5

Groups = list[set[str]]


@dataclass(frozen=True)
class Row:
    """One line of the table: what ran, how long it took, what it found (None: not scored)."""

    label: str
    seconds: float
    groups: Groups | None


@dataclass(frozen=True)
class Truth:
    """What a tool should find: the true pairs, and each photo's picture."""

    pairs: set[frozenset[str]]
    picture_of: dict[str, str]


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    """The step's result and the seconds it took."""
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def build_library(data: Path, folder: Path, args: argparse.Namespace) -> tuple[list[Copy], int]:
    """Copy the sampled originals and distractors into `folder`/caltech, write the edited
    copies into `folder`/copies; the copies and the number of distractors."""
    classes = sorted(p.name for p in data.iterdir() if p.is_dir())
    originals, distractors = pick(half_photos(data, classes), args.originals,
                                  args.distractors, args.seed)
    for name in [*originals, *distractors]:
        (folder / "caltech" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, folder / "caltech" / name)
    kinds = args.edits.split(",") if args.edits else list(EDIT_KINDS)
    made = make_edited_set([(n, folder / "caltech" / n) for n in originals],
                           folder / "copies", args.seed, kinds)
    return [Copy(str(p.resolve()), str(o.resolve()), k) for p, o, k in made], len(distractors)


def photofinder_rows(folder: Path, data_dir: Path, device: str) -> list[Row]:
    """Index and find duplicates from scratch, then again, then at another strictness."""
    with Library(data_dir, device=device) as library:
        library.add_roots([folder])
        _, indexing = timed(library.update)

        def near() -> Groups:
            return [set(g.paths) for g in library.duplicates(Strictness.NEAR)]

        def similar() -> Groups:
            return [set(g.paths) for g in library.duplicates(Strictness.SIMILAR)]

        first, first_seconds = timed(near)
        second, second_seconds = timed(near)
        other, other_seconds = timed(similar)
    return [
        Row("PhotoFinder index + duplicates (near), from scratch", indexing + first_seconds,
            first),
        Row("  index", indexing, None),
        Row("  duplicates (near)", first_seconds, first),
        Row("  duplicates (near), second run", second_seconds, second),
        Row("  duplicates (similar), right after", other_seconds, other),
    ]


def phash_rows(folder: Path) -> list[Row]:
    """imagededup PHash: hash every photo once, find at the default and a strict distance."""
    methods = importlib.import_module("imagededup.methods")
    hasher = methods.PHash(verbose=False)
    default = inspect.signature(hasher.find_duplicates).parameters["max_distance_threshold"]
    logging.disable(logging.INFO)  # imagededup logs every step at INFO whatever `verbose` says
    try:
        encodings, hashing = timed(
            lambda: hasher.encode_images(image_dir=folder, recursive=True))
        rows = []
        for distance in (default.default, STRICT_PHASH_DISTANCE):
            with warnings.catch_warnings():  # "num_enc_workers has no effect" with encodings
                warnings.simplefilter("ignore", RuntimeWarning)
                found, finding = timed(functools.partial(
                    hasher.find_duplicates, encoding_map=encodings,
                    max_distance_threshold=distance))
            pairs = [{str((folder / a).resolve()), str((folder / b).resolve())}
                     for a, dups in found.items() for b in dups]
            note = " (default)" if distance == default.default else ""
            rows.append(Row(f"imagededup PHash, distance {distance}{note}, from scratch",
                            hashing + finding, pairs))
    finally:
        logging.disable(logging.NOTSET)
    return rows


def czkawka_rows(folder: Path) -> list[Row]:
    """Czkawka's bindings at the default similarity level and a strict one, each from scratch."""
    module = importlib.import_module("czkawka")

    def run(level: int | None) -> Groups:
        finder = module.ImageSimilarity()
        finder.set_directories([folder])
        if level is not None:
            finder.set_similarity(level)
        return [{str(Path(p).resolve()) for p in group} for group in finder.find_similar()]

    default, default_seconds = timed(lambda: run(None))
    strict, strict_seconds = timed(lambda: run(STRICT_CZKAWKA_LEVEL))
    return [Row("Czkawka, default level, from scratch", default_seconds, default),
            Row(f"Czkawka, level {STRICT_CZKAWKA_LEVEL}, from scratch", strict_seconds, strict)]


def findimagedupes_rows(folder: Path) -> list[Row]:
    """findimagedupes at its default threshold: one line of paths per group (no spaces in the
    generated library's names, so splitting on whitespace is exact)."""
    output, seconds = timed(lambda: subprocess.run(
        ["findimagedupes", "--recurse", "--quiet", str(folder)],
        check=True, capture_output=True, text=True).stdout)
    groups = [{str(Path(p).resolve()) for p in line.split()} for line in output.splitlines()]
    return [Row("findimagedupes, default threshold (90 %), from scratch", seconds,
                [g for g in groups if len(g) > 1])]


def peer_rows(folder: Path) -> list[Row]:
    """Every peer that is installed; one line for each that is not."""
    rows: list[Row] = []
    peers: Sequence[tuple[str, Callable[[Path], list[Row]], str]] = (
        ("imagededup", phash_rows, "pip install imagededup"),
        ("czkawka", czkawka_rows, "pip install czkawka"),
        ("findimagedupes", findimagedupes_rows, "apt-get install findimagedupes"),
    )
    for name, rows_of, install in peers:
        try:
            rows.extend(rows_of(folder))
        except (ImportError, FileNotFoundError) as missing:
            print(f"{name}: skipped, not installed ({install}): {missing}")
    return rows


def print_table(rows: Sequence[Row], truth: Truth) -> None:
    """Time, ratio to PHash's from-scratch time, pairs, pair precision and recall per row."""
    reference = next((r.seconds for r in rows if r.label.startswith("imagededup PHash")), None)
    print(f"{'':56s} {'time s':>7s} {'× PHash':>8s} {'pairs':>6s} {'precision':>9s} "
          f"{'recall':>6s}")
    for row in rows:
        ratio = f"{row.seconds / reference:8.2f}" if reference else f"{'-':>8s}"
        scores = f"{'':6s} {'':9s} {'':6s}"
        if row.groups is not None:
            precision, recall, found = pair_scores(row.groups, truth.pairs, truth.picture_of)
            scores = f"{found:6d} {precision:9.3f} {recall:6.3f}"
        print(f"{row.label:56s} {row.seconds:7.1f} {ratio} {scores}")


def run(args: argparse.Namespace) -> None:
    """Build the library, run every tool on it, print the table."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch).resolve() / "library"
        started = time.perf_counter()
        copies, distractors = build_library(args.data, folder, args)
        kinds = len({c.kind for c in copies})
        print(f"library: {args.originals} originals × {kinds} edits = {len(copies)} copies, "
              f"{distractors} distractors, {args.originals + len(copies) + distractors} photos "
              f"(written in {time.perf_counter() - started:.0f} s)")
        truth = Truth(truth_pairs(copies), pictures(folder / "caltech", copies))
        print(f"{len(truth.pairs)} true pairs")
        rows = photofinder_rows(folder, Path(scratch) / "data", args.device)
        rows.extend(peer_rows(folder))
        print_table(rows, truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--edits", default="", help="comma-separated edit kinds (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
