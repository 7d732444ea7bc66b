"""Precise search: rank-1 recall of near-duplicates with and without keypoint verification.

Indexes a folder-labelled photo set through `Library` (the whole set is the gallery, so every
photo but the original is a distractor), generates near-duplicate queries of a seeded sample
of originals (benchmarks.neardup), and searches for each with plain search and with
`verify=True` (rotation/mirror query expansion + SIFT re-ranking of the top 20). Reports rank-1
recall per kind of change, how often the original is among the verified candidates, and the
cost per verified pair and per re-ranked top-20 search.
    python -m benchmarks.verification [--data ../shared/data/caltech101-dev] [--originals 150]
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.neardup import make_neardup_set
from benchmarks.quality import index_timed, labelled_paths, neardup_arguments
from photofinder.core.library import Library
from photofinder.core.matching import keypoints, verify
from photofinder.core.search.knn import SearchHit

BATCH = 16
COPY_RMS = 6.0  # grey 32×32 RMS difference (of 255) below which two gallery photos are copies


def gallery_copies(lib: Library, paths: Sequence[str]) -> dict[str, set[str]]:
    """Photos the data set itself holds twice (re-encoded copies): path → its copies. A query
    whose rank 1 is a copy of its original counts as found in the copy-aware recall."""
    signatures = []
    for path in paths:
        record = lib.catalog.file_by_path(path)
        jpeg = lib.catalog.thumbnail(record.id) if record else None
        if jpeg is None:
            signatures.append(np.full(1024, np.nan, np.float32))
            continue
        with Image.open(io.BytesIO(jpeg)) as thumb:
            small = thumb.convert("L").resize((32, 32), Image.Resampling.BILINEAR)
        signatures.append(np.asarray(small, np.float32).ravel())
    grid = np.nan_to_num(np.stack(signatures), nan=-1e4)
    squares = (grid * grid).sum(axis=1)
    distance = squares[:, None] + squares[None, :] - 2.0 * grid @ grid.T
    close = np.argwhere(distance < COPY_RMS**2 * grid.shape[1])
    copies: dict[str, set[str]] = {}
    for i, j in close:
        if i != j:
            copies.setdefault(paths[i], set()).add(paths[j])
    return copies


def recall_table(correct: dict[str, list[bool]]) -> str:
    parts = [f"{kind} {sum(v) / len(v):.3f}" for kind, v in correct.items()]
    every = [c for v in correct.values() for c in v]
    return ", ".join([*parts, f"all {sum(every) / len(every):.4f} ({sum(every)}/{len(every)})"])


def timed_searches(
    lib: Library, queries: Sequence[Path], k: int, precise: bool
) -> tuple[list[list[SearchHit]], float]:
    results: list[list[SearchHit]] = []
    started = time.perf_counter()
    for start in range(0, len(queries), BATCH):
        results.extend(lib.search_files(queries[start : start + BATCH], k=k, verify=precise))
    return results, (time.perf_counter() - started) / max(1, len(queries))


def costs(lib: Library, queries: Sequence[Path], plain: list[list[SearchHit]]) -> None:
    """Cost of one verified pair and one top-20 re-rank, cold (features not cached: thumbnail
    decode + SIFT) and warm (cached descriptors)."""
    sample = list(range(0, len(queries), max(1, len(queries) // 40)))[:40]
    prepared = [verify.query_features(queries[i]) for i in sample]
    tops = [plain[i][: verify.RERANK_TOP] for i in sample]
    for label in ("cold", "warm"):
        if label == "cold":
            keypoints.clear_caches()
        started = time.perf_counter()
        for query, hits in zip(prepared, tops, strict=True):
            features = verify.catalog_features(lib.catalog, hits)
            verify.rerank(query, hits, features=features)
        per_search = (time.perf_counter() - started) / len(sample)
        print(f"re-rank of a top-{verify.RERANK_TOP} search ({label} cache, "
              f"{verify.default_workers()} threads): {per_search * 1000:.0f} ms")
    features = verify.catalog_features(lib.catalog, tops[0])
    gallery = [features(hit) for hit in tops[0]]
    started = time.perf_counter()
    pairs = 0
    for query in prepared:
        for target in gallery:
            verify.verify_query(query, target)
            pairs += 1
    per_pair = (time.perf_counter() - started) / pairs
    jpeg = lib.catalog.thumbnail(tops[0][0].file_id) or b""
    started = time.perf_counter()
    for _ in range(20):
        with Image.open(io.BytesIO(jpeg)) as thumb:
            keypoints.detect_image(thumb.convert("RGB"))
    per_detect = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    for i in sample[:20]:
        verify.query_features(Image.open(queries[i]).convert("RGB"))
    per_query = (time.perf_counter() - started) / min(20, len(sample))
    print(f"verified pair (match + RANSAC, plain and mirrored query, 1 thread): "
          f"{per_pair * 1000:.1f} ms; SIFT on a stored thumbnail {per_detect * 1000:.1f} ms; "
          f"query SIFT plain + mirror {per_query * 1000:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    args = neardup_arguments(__doc__).parse_args(argv)
    photos = labelled_paths(args.data)
    with (
        tempfile.TemporaryDirectory() as scratch,
        Library(Path(scratch) / "d", device="cpu") as lib,
    ):
        report, elapsed = index_timed(lib, args.data)
        print(f"indexed {report.embedded} photos in {elapsed:.1f} s, "
              f"method {lib.info.name} {lib.info.version}; gallery = all {len(lib.index)} photos")
        triples = make_neardup_set(photos, Path(scratch) / "nd", args.originals, args.seed)
        queries = [q for q, _, _ in triples]
        targets = [str(o.resolve()) for _, o, _ in triples]
        kinds = [k for _, _, k in triples]
        print(f"{len(triples)} near-duplicate queries ({args.originals} originals × "
              f"{len(set(kinds))} kinds), seed {args.seed}")

        plain, plain_s = timed_searches(lib, queries, verify.RERANK_TOP, precise=False)
        keypoints.clear_caches()
        precise, precise_s = timed_searches(lib, queries, verify.RERANK_TOP, precise=True)

        copies = gallery_copies(lib, [str(p.resolve()) for p in photos])
        with_copies = sum(1 for t in set(targets) if t in copies)
        print(f"the data set holds re-encoded copies of {len(copies)} photos "
              f"({with_copies} of the {args.originals} originals)")

        def table(results: list[list[SearchHit]], depth: int, aware: bool = False) -> str:
            correct: dict[str, list[bool]] = {}
            for hits, target, kind in zip(results, targets, kinds, strict=True):
                found = {target, *copies.get(target, ())} if aware else {target}
                correct.setdefault(kind, []).append(bool(found & {h.path for h in hits[:depth]}))
            return recall_table(correct)

        print(f"plain search   rank-1 recall: {table(plain, 1)}")
        print(f"  copy-aware   rank-1 recall: {table(plain, 1, True)}")
        print(f"plain search  recall@20     : {table(plain, 20)}")
        print(f"--verify       rank-1 recall: {table(precise, 1)}")
        print(f"  copy-aware   rank-1 recall: {table(precise, 1, True)}")
        print(f"--verify candidates recall@20 (expansion): {table(precise, 20)}")
        verified = [
            isinstance(h[0], verify.VerifiedHit) and h[0].verified and h[0].path == t
            for h, t in zip(precise, targets, strict=True)
        ]
        print(f"rank-1 is the original and verified (≥ {verify.MIN_INLIERS} inliers): "
              f"{sum(verified)}/{len(verified)}")
        inliers = [h[0].inliers or 0 for h in precise if isinstance(h[0], verify.VerifiedHit)]
        print(f"median inliers of rank 1: {statistics.median(inliers):.0f}")
        failures = [
            (kind, q.name, [(Path(h.path).name, h.inliers) for h in hits[:3]])
            for hits, target, kind, q in zip(precise, targets, kinds, queries, strict=True)
            if not hits or hits[0].path != target
        ]
        for failure in failures[:15]:
            print(f"  miss: {failure}")
        print(f"search time per query: plain {plain_s * 1000:.0f} ms, --verify "
              f"{precise_s * 1000:.0f} ms (5-variant embedding + query SIFT + re-rank, "
              f"cold feature cache at start)")
        costs(lib, queries, plain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
