"""Which precise-search hits are worth checking with keypoints: the embedding-score floor.

Precise search checks its best RERANK_TOP candidates with keypoints (a photo's SIFT and two
matchings each); most of them are photos like the query, not copies of it. This study runs
precise search with every candidate checked on one half of the held-out protocol
(benchmarks.heldout: a half's originals, every edit of them as queries, distractors), keeps
each candidate's cosine score and inlier count, and replays the re-ranking for each floor:
candidates under it are left unchecked, in search order. It prints, per floor, precise rank-1
(the original first) and the share of candidates checked. Choose the floor on the tuning half,
report it on the held-out half.
    python -m benchmarks.verify_floor [--half tuning|heldout] [--originals 20]
        [--distractors 300] [--floors 0,0.3,0.4,...] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.heldout import DEFAULT_DATA, HALVES, Copy, half_photos, pick, read_split
from photofinder.core.evaluation.edits import EDIT_KINDS, make_edited_set
from photofinder.core.library import Library
from photofinder.core.matching import verify as checks

DEFAULT_FLOORS = "0,0.3,0.4,0.45,0.5,0.55,0.6,0.65,0.7"


@dataclass(frozen=True)
class Checked:
    """One query's candidates in search order: (is its original, cosine score, inliers)."""

    kind: str
    candidates: list[tuple[bool, float, int]]


def replay(query: Checked, floor: float) -> tuple[bool, int]:
    """Whether the original comes first when only candidates scoring `floor` or more are
    checked (rerank's order: verified by inliers, then the rest in search order), and how
    many were checked."""
    checked = [c for c in query.candidates if c[1] >= floor]
    verified = sorted((c for c in checked if c[2] >= checks.MIN_INLIERS), key=lambda c: -c[2])
    rest = [c for c in query.candidates if c not in verified]
    ranked = [*verified, *rest]
    return bool(ranked and ranked[0][0]), len(checked)


def measure(args: argparse.Namespace) -> list[Checked]:
    """Precise search for each copy of the half's originals, every candidate checked."""
    classes = read_split()[args.half]
    originals, distractors = pick(half_photos(args.data, classes), args.originals,
                                  args.distractors, args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        library_dir = Path(scratch) / "library"
        for name in [*originals, *distractors]:
            (library_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.data / name, library_dir / name)
        made = make_edited_set([(n, library_dir / n) for n in originals],
                               Path(scratch) / "copies", args.seed, list(EDIT_KINDS))
        copies = [Copy(str(p.resolve()), str(o.resolve()), k) for p, o, k in made]
        with Library(Path(scratch) / "data", device=args.device) as lib:
            lib.info = dataclasses.replace(lib.info, copy_floor=None)  # check every candidate
            lib.add_roots([library_dir])
            lib.update()
            paths = [Path(c.path) for c in copies]
            results = [hits for _, hits in lib.iter_search_files(
                paths, k=checks.RERANK_TOP, verify=True)]
    queries = []
    for copy, hits in zip(copies, results, strict=True):
        by_search_order = sorted(hits, key=lambda h: -h.score)
        queries.append(Checked(copy.kind, [(h.path == copy.original, h.score, h.inliers or 0)
                                           for h in by_search_order]))
    return queries


def print_table(queries: Sequence[Checked], floors: Sequence[float]) -> None:
    print(f"{'floor':>6s} {'precise r1':>11s} {'checked':>8s}  worst edit")
    for floor in floors:
        outcomes = [(q.kind, *replay(q, floor)) for q in queries]
        first = sum(o[1] for o in outcomes) / len(outcomes)
        checked = sum(o[2] for o in outcomes) / sum(len(q.candidates) for q in queries)
        by_kind: dict[str, list[bool]] = {}
        for kind, right, _ in outcomes:
            by_kind.setdefault(kind, []).append(right)
        worst = min(by_kind, key=lambda k: sum(by_kind[k]) / len(by_kind[k]))
        worst_share = sum(by_kind[worst]) / len(by_kind[worst])
        print(f"{floor:6.2f} {first:11.3f} {checked:8.3f}  {worst} {worst_share:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--half", choices=HALVES, default="tuning")
    parser.add_argument("--originals", type=int, default=20)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--floors", default=DEFAULT_FLOORS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    queries = measure(args)
    print(f"half {args.half}: {len(queries)} queries, {checks.RERANK_TOP} candidates each")
    print_table(queries, [float(f) for f in args.floors.split(",")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
