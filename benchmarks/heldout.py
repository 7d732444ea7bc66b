"""The held-out protocol: copy finding and class retrieval on classes nothing was tuned on.

caltech101-dev is split by class (benchmarks/heldout_split.txt: 17 classes to tune on, 17
held out). From one half, a seeded sample of originals gets every family of edit
(photofinder.core.evaluation.edits); further photos of the same classes are distractors
(Caltech's series bring other shots of the same scene with them). Everything goes through the
real pipeline (`Library.update` with the chosen method) in a temporary data folder:

1. originals + distractors are indexed; each edited copy (not in the library yet) is searched
   for with plain search and precise search (`verify=True`): rank-1 = its original;
2. class mAP@100 and P@10 over the indexed photos of the half (relevant = same class);
3. the copies are indexed too and `duplicates` runs at *near*: duplicate recall per edit (the
   copy is in its original's group), pair recall and pair precision (a pair is right when both
   photos are one picture: an original and its copies, or photos the data set holds twice as
   listed in benchmarks/caltech101_dev_same_pictures.txt, as in benchmarks.duplicates).

Report figures of the held-out half only; tune on `--half tuning`.
    python -m benchmarks.heldout [--half heldout|tuning] [--originals 60] [--distractors 300]
        [--method M] [--seed 0] [--edits KIND,KIND] [--show-misses] [--plain-only]
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.duplicates import SAME_PICTURES, pair_scores, same_pictures
from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.embedders import DEFAULT_METHOD
from photofinder.core.evaluation.edits import EDIT_KINDS, make_edited_set
from photofinder.core.library import Library
from photofinder.core.search.knn import SearchHit

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data" / "caltech101-dev"
SPLIT = Path(__file__).with_name("heldout_split.txt")
SPLIT_RECIPE_SEED = "photofinder-heldout-split-1"
HALVES = ("tuning", "heldout")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
SEARCH_BATCH = 16
SEARCH_DEPTH = 20
MAP_DEPTH = 100


def split_by_recipe(classes: Sequence[str]) -> dict[str, list[str]]:
    """The split as it was made: sorted names, seeded shuffle, first half to tune on."""
    shuffled = sorted(classes)
    random.Random(SPLIT_RECIPE_SEED).shuffle(shuffled)
    middle = len(shuffled) // 2
    return {"tuning": sorted(shuffled[:middle]), "heldout": sorted(shuffled[middle:])}


def read_split(listing: Path = SPLIT) -> dict[str, list[str]]:
    """The written-down split: half name → its class folders."""
    halves: dict[str, list[str]] = {half: [] for half in HALVES}
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            half, name = line.split()
            halves[half].append(name)
    return halves


def half_photos(data: Path, classes: Sequence[str]) -> list[str]:
    """The photos of those classes as sorted ``class/file`` names."""
    return sorted(
        f"{name}/{path.name}"
        for name in classes
        for path in (data / name).iterdir()
        if path.suffix.lower() in PHOTO_SUFFIXES
    )


def pick(photos: Sequence[str], originals: int, distractors: int, seed: int
         ) -> tuple[list[str], list[str]]:
    """A seeded draw of originals, then of distractors among the rest."""
    drawn = random.Random(seed).sample(list(photos), min(len(photos), originals + distractors))
    return sorted(drawn[:originals]), sorted(drawn[originals:])


def map_and_precision_at(
    vectors: npt.NDArray[np.float32], labels: Sequence[str], depth: int = MAP_DEPTH, k: int = 10
) -> tuple[float, float]:
    """Class mAP@depth (AP over the first ``depth`` neighbours, divided by min(relevant,
    depth)) and P@k; each photo queries the others, relevant = same label."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :depth]
    label_array = np.asarray(labels)
    relevant = label_array[order] == label_array[:, None]
    counts = np.array([(label_array == label).sum() - 1 for label in labels])
    precision = np.cumsum(relevant, axis=1) / np.arange(1, relevant.shape[1] + 1)
    aps = (precision * relevant).sum(axis=1) / np.maximum(np.minimum(counts, depth), 1)
    return float(aps.mean()), float(relevant[:, :k].mean())


@dataclass(frozen=True)
class Copy:
    """One edited copy: where it is, the library path of its original, the edit."""

    path: str
    original: str
    kind: str


def rank1(results: Sequence[Sequence[SearchHit]], copies: Sequence[Copy],
          picture_of: dict[str, str]) -> dict[str, tuple[list[bool], list[bool]]]:
    """Per edit: (rank 1 is the original, rank 1 is the original's picture) for each copy."""
    table: dict[str, tuple[list[bool], list[bool]]] = {}
    for hits, copy in zip(results, copies, strict=True):
        top = hits[0].path if hits else ""
        strict, aware = table.setdefault(copy.kind, ([], []))
        strict.append(top == copy.original)
        aware.append(picture_of.get(top, top) == picture_of.get(copy.original, copy.original))
    return table


def share(values: Sequence[bool]) -> str:
    """The share of true values, three decimals."""
    return f"{sum(values) / len(values):.3f}" if values else "-"


def search_all(lib: Library, copies: Sequence[Copy], precise: bool) -> list[list[SearchHit]]:
    """Search for every copy, in batches."""
    results: list[list[SearchHit]] = []
    for start in range(0, len(copies), SEARCH_BATCH):
        batch = [Path(c.path) for c in copies[start : start + SEARCH_BATCH]]
        results.extend(lib.search_files(batch, k=SEARCH_DEPTH, verify=precise))
    return results


def pictures(library_dir: Path, copies: Sequence[Copy]) -> dict[str, str]:
    """Path → picture id for photos that are one picture (data-set duplicates, copies)."""
    picture_of: dict[str, str] = {}
    for number, names in enumerate(same_pictures(SAME_PICTURES)):
        for name in names:
            picture_of[str((library_dir / name).resolve())] = f"picture {number}"
    for copy in copies:
        picture_of[copy.path] = picture_of.setdefault(copy.original, copy.original)
    return picture_of


def truth_pairs(copies: Sequence[Copy]) -> set[frozenset[str]]:
    """(original, copy) and (copy, copy) pairs of one original."""
    members: dict[str, list[str]] = {}
    for copy in copies:
        members.setdefault(copy.original, [copy.original]).append(copy.path)
    return {frozenset(p) for group in members.values() for p in itertools.combinations(group, 2)}


def grouped_with_original(groups: Sequence[set[str]], copies: Sequence[Copy]
                          ) -> dict[str, list[bool]]:
    """Per edit: whether each copy is in one duplicate group with its original."""
    group_of = {path: number for number, group in enumerate(groups) for path in group}
    found: dict[str, list[bool]] = {}
    for copy in copies:
        together = copy.path in group_of and group_of.get(copy.original) == group_of[copy.path]
        found.setdefault(copy.kind, []).append(together)
    return found


def print_table(searches: dict[str, dict[str, tuple[list[bool], list[bool]]]],
                duplicates: dict[str, list[bool]]) -> None:
    """Per edit and all together: plain rank-1, precise rank-1, duplicate recall."""
    print(f"{'edit':22s} {'copies':>6s} {'plain r1':>9s} {'precise r1':>11s} {'dup recall':>11s}")
    plain, precise = searches["plain"], searches.get("precise", {})
    for kind in duplicates:
        print(f"{kind:22s} {len(duplicates[kind]):6d} {share(plain[kind][0]):>9s} "
              f"{share(precise.get(kind, ([], []))[0]):>11s} {share(duplicates[kind]):>11s}")

    def every(table: dict[str, tuple[list[bool], list[bool]]], aware: int) -> list[bool]:
        return [c for pair in table.values() for c in pair[aware]]

    flat = [c for v in duplicates.values() for c in v]
    print(f"{'all':22s} {len(flat):6d} {share(every(plain, 0)):>9s} "
          f"{share(every(precise, 0)):>11s} {share(flat):>11s}")
    print(f"{'all, listed same':22s} {'':6s} {share(every(plain, 1)):>9s} "
          f"{share(every(precise, 1)):>11s}   (rank 1 is a photo the data set holds twice)")


def run(args: argparse.Namespace) -> None:
    """Build the half's library, search, group, print."""
    classes = read_split()[args.half]
    originals, distractors = pick(half_photos(args.data, classes), args.originals,
                                  args.distractors, args.seed)
    kinds = args.edits.split(",") if args.edits else list(EDIT_KINDS)
    print(f"half {args.half}: {len(classes)} classes ({', '.join(classes)})")
    with tempfile.TemporaryDirectory() as scratch:
        library_dir = Path(scratch) / "library" / "caltech"
        for name in [*originals, *distractors]:
            (library_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.data / name, library_dir / name)
        started = time.perf_counter()
        made = make_edited_set([(n, library_dir / n) for n in originals],
                               Path(scratch) / "copies", args.seed, kinds)
        copies = [Copy(str(p.resolve()), str(o.resolve()), k) for p, o, k in made]
        print(f"{len(originals)} originals × {len(kinds)} edits = {len(copies)} copies "
              f"({time.perf_counter() - started:.0f} s), {len(distractors)} distractors")
        picture_of = pictures(library_dir, copies)
        with Library(Path(scratch) / "data", method=args.method, device=args.device) as lib:
            lib.add_roots([library_dir])
            started = time.perf_counter()
            report = lib.update()
            print(f"indexed {report.embedded} photos with {lib.info.name} {lib.info.version} "
                  f"in {time.perf_counter() - started:.0f} s")
            class_retrieval(lib, [*originals, *distractors], library_dir)
            searches = {}
            kinds_of_search = (("plain", False),) if args.plain_only else (
                ("plain", False), ("precise", True))
            for label, precise in kinds_of_search:
                started = time.perf_counter()
                results = search_all(lib, copies, precise)
                searches[label] = rank1(results, copies, picture_of)
                print(f"{label} search of {len(copies)} copies: "
                      f"{time.perf_counter() - started:.0f} s")
                if args.show_misses:
                    show_misses(label, results, copies)
            lib.add_roots([Path(scratch) / "copies"])
            started = time.perf_counter()
            lib.update()
            groups = [set(g.paths) for g in lib.duplicates(Strictness.NEAR)]
            print(f"copies indexed and duplicates found at near in "
                  f"{time.perf_counter() - started:.0f} s: {len(groups)} groups")
        precision, recall, found = pair_scores(groups, truth_pairs(copies), picture_of)
        print_table(searches, grouped_with_original(groups, copies))
        print(f"duplicates (near): {found} pairs, pair precision {precision:.3f}, "
              f"pair recall {recall:.3f}")


def class_retrieval(lib: Library, names: Sequence[str], library_dir: Path) -> None:
    """Print class mAP@100 and P@10 over the indexed real photos of the half: of the stored
    vectors alone, of the search a user gets (each photo's "Find similar"), and of the plain
    baseline (EfficientNet-Lite0 average-pooled, no projection) on the same photos."""
    vectors, labels, ids, paths = [], [], [], []
    for name in names:
        record = lib.catalog.file_by_path(str((library_dir / name).resolve()))
        vector = lib.catalog.vector(record.id, lib.info.name, lib.info.version) if record else None
        if record is not None and vector is not None:
            vectors.append(vector)
            labels.append(name.split("/")[0])
            ids.append(record.id)
            paths.append(library_dir / name)
    mean_ap, p10 = map_and_precision_at(np.stack(vectors).astype(np.float32), labels)
    print(f"class retrieval over {len(labels)} photos: mAP@{MAP_DEPTH} {mean_ap:.3f}, "
          f"P@10 {p10:.3f} (stored vectors)")
    label_of = dict(zip(ids, labels, strict=True))
    rankings = [[label_of.get(h.file_id) == label for h in lib.search_file_id(i, k=MAP_DEPTH)]
                for i, label in zip(ids, labels, strict=True)]
    mean_ap, p10 = ranked_map(rankings, labels)
    print(f"class retrieval through search: mAP@{MAP_DEPTH} {mean_ap:.3f}, P@10 {p10:.3f}")
    baseline = plain_pooled(paths)
    mean_ap, p10 = map_and_precision_at(baseline, labels)
    print(f"class retrieval, plain average-pooled EfficientNet-Lite0: mAP@{MAP_DEPTH} "
          f"{mean_ap:.3f}, P@10 {p10:.3f}")


def ranked_map(rankings: Sequence[Sequence[bool]], labels: Sequence[str], k: int = 10
               ) -> tuple[float, float]:
    """mAP@MAP_DEPTH and P@k of given rankings (relevant or not per rank), as
    map_and_precision_at computes them."""
    counts = {label: labels.count(label) - 1 for label in set(labels)}
    aps, precisions = [], []
    for relevant, label in zip(rankings, labels, strict=True):
        hits = np.asarray(relevant[:MAP_DEPTH], bool)
        precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        aps.append(float((precision * hits).sum()) / max(min(counts[label], MAP_DEPTH), 1))
        precisions.append(float(hits[:k].mean()) if len(hits) else 0.0)
    return float(np.mean(aps)), float(np.mean(precisions))


def plain_pooled(paths: Sequence[Path]) -> npt.NDArray[np.float32]:
    """The baseline: Lite0's feature map average-pooled and L2-normalised."""
    from benchmarks.descriptor_features import Trunk
    from photofinder.core.photos.imageio import decode_file

    trunk = Trunk("lite0", Path(tempfile.gettempdir()) / "photofinder-benchmark-trunks")
    pooled = []
    for start in range(0, len(paths), 64):
        images = [decode_file(p).image for p in paths[start : start + 64]]
        pooled.append(np.asarray(trunk.maps(images), np.float32).mean(axis=(2, 3)))
    features = np.concatenate(pooled)
    return np.asarray(features / np.linalg.norm(features, axis=1, keepdims=True), np.float32)


def show_misses(label: str, results: Sequence[Sequence[SearchHit]], copies: Sequence[Copy]
                ) -> None:
    """Each copy whose rank 1 is not its original, with what came first."""
    for hits, copy in zip(results, copies, strict=True):
        if not hits or hits[0].path != copy.original:
            top = "/".join(Path(hits[0].path).parts[-2:]) if hits else "nothing"
            print(f"  {label} miss: {Path(copy.path).name} ← "
                  f"{'/'.join(Path(copy.original).parts[-2:])}, rank 1 {top}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--half", choices=HALVES, default="heldout")
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--method", default=DEFAULT_METHOD)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--edits", default="", help="comma-separated edit kinds (default all)")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--plain-only", action="store_true",
                        help="skip precise search (a quick look; not for reported figures)")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
