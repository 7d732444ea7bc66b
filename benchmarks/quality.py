"""Retrieval quality of the shipped pipeline on a folder-labelled photo set.

Indexes the set through `Library` (the same code path as `photofinder index`), then reports
class-level mAP and precision@10, rank-1 recall of generated near-duplicates per kind of
change, and what the duplicate threshold means (pair precision/recall at each value).
    python -m benchmarks.quality [--data ../shared/data/caltech101-dev] [--originals 150]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.neardup import make_neardup_set
from benchmarks.retrieval_metrics import class_map_and_precision, neardup_recall_at_1
from photofinder.core.embedders.base import embed_images
from photofinder.core.embedders.training import labelled_photos
from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.library import Library
from photofinder.core.photos.imageio import decode_file

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "caltech101-dev"


def labelled_paths(folder: Path) -> list[Path]:
    """The photos of a folder-labelled set (the label is a photo's folder), sorted."""
    return [path for path, _ in labelled_photos(folder)]


def threshold_table(
    dup_scores: np.ndarray, distractor_scores: np.ndarray, thresholds: list[float]
) -> list[tuple[float, float, float]]:
    """(threshold, pair precision, pair recall): duplicates above it vs distractors above it."""
    rows = []
    for threshold in thresholds:
        true = int((dup_scores >= threshold).sum())
        false = int((distractor_scores >= threshold).sum())
        precision = true / (true + false) if true + false else 1.0
        rows.append((threshold, precision, true / len(dup_scores)))
    return rows


def neardup_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every near-duplicate benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--originals", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def index_timed(lib: Library, folder: Path) -> tuple[IndexReport, float]:
    """Index `folder` with the model already loaded; the report and the seconds it took."""
    lib.embedder()
    lib.add_roots([folder])
    started = time.perf_counter()
    report = lib.update()
    return report, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = neardup_arguments(__doc__).parse_args(argv)
    photos = labelled_paths(args.data)
    with (
        tempfile.TemporaryDirectory() as scratch,
        Library(Path(scratch) / "d", device="cpu") as lib,
    ):
        report, elapsed = index_timed(lib, args.data)
        print(
            f"indexed {report.embedded} photos of {len({p.parent for p in photos})} classes "
            f"in {elapsed:.1f} s ({report.photos_per_s:.1f} photos/s), "
            f"method {lib.info.name} {lib.info.version} ({lib.info.dim}-d)"
        )
        stored = [lib.catalog.file_by_path(str(p.resolve())) for p in photos]
        vectors = [
            lib.catalog.vector(r.id, lib.info.name, lib.info.version) if r else None for r in stored
        ]
        photos = [p for p, v in zip(photos, vectors, strict=True) if v is not None]
        gallery = np.stack([v for v in vectors if v is not None])
        labels = [p.parent.name for p in photos]
        map_all, p10 = class_map_and_precision(gallery, labels)
        print(f"class-level mAP {map_all:.4f}, precision@10 {p10:.4f}")

        triples = make_neardup_set(photos, Path(scratch) / "nd", args.originals, args.seed)
        row_of = {p: i for i, p in enumerate(photos)}
        queries = []
        for start in range(0, len(triples), 64):
            chunk = triples[start : start + 64]
            images = [decode_file(q).image for q, _, _ in chunk]
            queries.append(embed_images(lib.embedder(), images))
        query_vectors = np.concatenate(queries)
        kinds = [k for _, _, k in triples]
        targets = [row_of[o] for _, o, _ in triples]
        recall = neardup_recall_at_1(query_vectors, kinds, targets, gallery)
        print(
            f"near-duplicates: {len(triples)} queries ({args.originals} originals × "
            f"{len(set(kinds))} kinds), gallery {len(gallery)} photos"
        )
        print("rank-1 recall: " + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))

        similarity = query_vectors @ gallery.T
        dup_scores = similarity[np.arange(len(targets)), targets]
        similarity[np.arange(len(targets)), targets] = -1.0
        nearest_other = similarity.max(axis=1)
        print("duplicate threshold (cosine similarity) → pair precision / recall of near-dups:")
        for threshold, precision, rec in threshold_table(
            dup_scores, nearest_other, [0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
        ):
            print(f"  ≥ {threshold:.2f}: precision {precision:.3f}, recall {rec:.3f}")
        by_kind = {
            k: float(np.median(dup_scores[np.array(kinds) == k])) for k in dict.fromkeys(kinds)
        }
        print(
            "median similarity to the original: "
            + ", ".join(f"{k} {v:.3f}" for k, v in by_kind.items())
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
