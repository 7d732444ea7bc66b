"""Duplicate finding: pair precision/recall per strictness, and grouping time at 100k photos.

Quality: the Caltech-101 dev set plus near-duplicate copies of some of its photos (crops,
rotations, mirror, JPEG, scaling, colour, caption) are indexed together; the true pairs are
(original, copy) and (copy, copy) of the same original. The data set holds some pictures
more than once (caltech101_dev_same_pictures.txt, judged by eye): a found pair of those
counts as right, not as a false positive.
Scale: 100,000 synthetic vectors with planted near-duplicate clusters, whose candidate pairs
are verified with real photo pairs (so the geometric check costs what it really costs).
    python -m benchmarks.duplicates [--originals 150] [--items 100000] [--skip-scale]
        [--seed 0] [--show-wrong]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.quality import DEFAULT_DATA, labelled_paths
from photofinder.core.duplicates.candidates import record_neighbours
from photofinder.core.duplicates.grouping import DuplicateSearch, Strictness, find_duplicates
from photofinder.core.duplicates.review import geometric_confirmer
from photofinder.core.embedders.base import l2_normalise
from photofinder.core.evaluation.neardup import make_neardup_set
from photofinder.core.library import Library
from photofinder.core.storage.catalog import FileRecord, PhotoMetadata

SAME_PICTURES = Path(__file__).with_name("caltech101_dev_same_pictures.txt")


def same_pictures(listing: Path) -> list[list[str]]:
    """Sets of data-set photos (folder/file) that are one picture, as listed by hand."""
    lines = listing.read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.startswith("#")]


def pair_scores(
    groups: list[set[str]], truth: set[frozenset[str]], picture_of: dict[str, str]
) -> tuple[float, float, int]:
    """Pair precision (a pair is right when both photos are one picture: a generated copy and
    its original, or photos the data set itself holds twice) and recall of the generated pairs."""
    found = {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}
    right = sum(len({picture_of.get(x, x) for x in pair}) == 1 for pair in found)
    precision = right / len(found) if found else 1.0
    return precision, len(found & truth) / len(truth), len(found)


def wrong_groups(
    groups: list[set[str]], picture_of: dict[str, str], root: Path
) -> list[str]:
    """Groups holding more than one picture, each as its pictures: a name relative to the
    library (the first photo of each) and how many of the group's photos show it."""
    lines = []
    for group in groups:
        pictures: dict[str, list[str]] = {}
        for path in sorted(group):
            pictures.setdefault(picture_of.get(path, path), []).append(path)
        if len(pictures) > 1:
            lines.append(", ".join(f"{Path(members[0]).relative_to(root)} ×{len(members)}"
                                   for members in pictures.values()))
    return lines


def quality(data: Path, originals: int, seed: int, show_wrong: bool = False) -> None:
    photos = labelled_paths(data)
    with tempfile.TemporaryDirectory() as scratch:
        library_dir = Path(scratch) / "library"
        shutil.copytree(data, library_dir / "caltech", ignore=shutil.ignore_patterns("*.md"))
        copies = make_neardup_set(photos, library_dir / "copies", originals, seed)
        truth: set[frozenset[str]] = set()
        by_original: dict[str, list[str]] = {}
        for query, original, _ in copies:
            inside = library_dir / "caltech" / original.relative_to(data)
            by_original.setdefault(str(inside.resolve()), []).append(str(query.resolve()))
        for source, dups in by_original.items():
            members = [source, *dups]
            truth.update(frozenset(p) for p in itertools.combinations(members, 2))
        kind_of = {str(q.resolve()): k for q, _, k in copies}
        picture_of: dict[str, str] = {}
        for number, names in enumerate(same_pictures(SAME_PICTURES)):
            for name in names:
                picture_of[str((library_dir / "caltech" / name).resolve())] = f"picture {number}"
        for source, dups in by_original.items():
            for path in [source, *dups]:
                picture_of[path] = picture_of.get(source, source)
        with Library(Path(scratch) / "data", device="cpu") as library:
            library.add_roots([library_dir])
            started = time.perf_counter()
            report = library.update()
            print(f"indexed {report.embedded} photos ({len(copies)} near-duplicate copies of "
                  f"{originals} originals among {len(photos)} photos) in "
                  f"{time.perf_counter() - started:.0f} s")
            for strictness in Strictness:
                started = time.perf_counter()
                groups = [set(g.paths) for g in library.duplicates(strictness)]
                elapsed = time.perf_counter() - started
                precision, recall, found = pair_scores(groups, truth, picture_of)
                print(f"{strictness.value:8s}: {len(groups)} groups, {found} pairs, pair "
                      f"precision {precision:.3f}, recall {recall:.3f} ({elapsed:.1f} s)")
                if strictness is Strictness.NEAR:
                    if show_wrong:
                        for line in wrong_groups(groups, picture_of, library_dir.resolve()):
                            print(f"  wrong group: {line}")
                    grouped = {p for g in groups for p in g}
                    per_kind = {
                        kind: np.mean([q in grouped for q, k in kind_of.items() if k == kind])
                        for kind in dict.fromkeys(kind_of.values())
                    }
                    print("  copies found per kind: "
                          + ", ".join(f"{k} {v:.2f}" for k, v in per_kind.items()))


def scale(items: int, data: Path, real_originals: int) -> None:
    """Synthetic vectors with planted clusters; each candidate pair is checked on a real
    photo pair (thumbnail keypoints + alignment), so verification costs what it really costs."""
    rng = np.random.default_rng(3)
    photos = labelled_paths(data)
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        real = make_neardup_set(photos, scratch_dir / "real", real_originals, 1)
        stand_in = Library(scratch_dir / "real-data", device="cpu")
        stand_in.add_roots([scratch_dir / "real", data])
        stand_in.update()
        real_pairs = []
        for query, original, _ in real:
            q = stand_in.catalog.file_by_path(str(query.resolve()))
            o = stand_in.catalog.file_by_path(str(original.resolve()))
            if q is not None and o is not None:
                real_pairs.append((o, q))
        library = Library(scratch_dir / "d")
        key = library.index.key
        catalog = library.catalog
        root = catalog.add_root(scratch_dir / "synthetic")
        base = l2_normalise(rng.standard_normal((items, key.dim)).astype(np.float32))
        planted = rng.choice(items, size=items // 50, replace=False)  # 2 % have a copy
        sources = rng.choice(np.setdiff1d(np.arange(items), planted), size=len(planted))
        vectors = base.copy()
        noise = l2_normalise(rng.standard_normal((len(planted), key.dim)).astype(np.float32))
        vectors[planted] = l2_normalise(base[sources] + 0.3 * noise)  # similarity ≈ 0.96
        started = time.perf_counter()
        with catalog.transaction():
            for i, vector in enumerate(vectors):
                path = str(scratch_dir / "synthetic" / f"{i:06d}.jpg")
                file_id = catalog.upsert_seen(root.id, path, 1, 1)
                layout = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
                catalog.mark_ok(
                    file_id, PhotoMetadata(f"h{i}", 10, 10, "JPEG", None, None, layout), b""
                )
                catalog.put_vector(file_id, key.method, key.version, vector)
        library.index.sync(catalog)
        print(f"{items} synthetic photos catalogued and indexed in "
              f"{time.perf_counter() - started:.0f} s ({len(planted)} planted copies); "
              f"{len(real_pairs)} real photo pairs stand in for the candidates")
        started = time.perf_counter()
        record_neighbours(library.index, catalog)  # the last step of Library.update
        print(f"close pairs recorded as indexing does: {time.perf_counter() - started:.1f} s "
              f"({(time.perf_counter() - started) / items * 1000:.2f} ms per photo)")
        real_confirm = geometric_confirmer(stand_in.catalog)
        verified: list[int] = []

        def confirm(candidates: list[tuple[FileRecord, FileRecord]]) -> Sequence[bool | None]:
            first = sum(verified)  # candidates come in chunks: each stands in for another pair
            verified.append(len(candidates))
            stand_ins = range(first, first + len(candidates))
            return real_confirm([real_pairs[i % len(real_pairs)] for i in stand_ins])

        started = time.perf_counter()
        groups = find_duplicates(library.index, catalog,
                                 DuplicateSearch(Strictness.NEAR, confirm=confirm))
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"grouped {items} photos in {elapsed:.1f} s: {len(groups)} groups, "
              f"{sum(verified)} candidate pairs verified on real photo pairs; "
              f"peak memory of the whole run {peak:.0f} MB")
        library.close()
        stand_in.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--originals", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--real-originals", type=int, default=300)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--show-wrong", action="store_true",
                        help="list the near-duplicate groups that hold more than one picture")
    args = parser.parse_args(argv)
    if not args.skip_quality:
        quality(args.data, args.originals, args.seed, args.show_wrong)
    if not args.skip_scale:
        scale(args.items, args.data, args.real_originals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
