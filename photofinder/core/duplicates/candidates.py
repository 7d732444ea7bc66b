"""Where duplicate candidates come from, never from all pairs: byte-identical files (content
hash), each photo's close neighbours in the vector index (recorded while indexing), and photos
whose layout matches another's turned or mirrored (photofinder.core.photos.layout_hash)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from photofinder.core.photos import layout_hash
from photofinder.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.vector_index import VectorIndex

Pair = tuple[int, int]
# Close neighbours recorded per photo. A photo with many copies fills ten places with its milder
# copies, and a blurred or strongly cropped copy then finds none of them: with 20 edited copies
# of each photo (the tuning half of benchmarks/heldout_split.txt) 10 neighbours at 0.72 kept
# 0.80 of the copy pairs, 20 at 0.6 keep 0.91 (0.68 of the quarter crops, 0.88 of strong blur).
NEIGHBOURS = 20
VECTORS_PER_SEARCH = 8192  # newly indexed vectors searched at a time when recording
# A layout hash has a bit per low DCT coefficient but the mean: its distances are out of this.
LAYOUT_BITS = layout_hash.LOW * layout_hash.LOW - 1
RECORD_EF = 128  # hnswlib search width when recording neighbours (interactive search: 64)
LOWEST_CANDIDATE = 0.6  # the similarity worth a closer look at any strictness
# Pairs scored at a time: both photos' vectors of every pair at once were 1.5 GB at 100,000
# photos (733,676 pairs of 256 floats, twice).
PAIRS_PER_SCORING = 16384


def ordered(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def exact_pairs(copies: Iterable[Sequence[int]]) -> dict[Pair, float]:
    """Byte-identical files as pairs: each group of copies linked to its first member."""
    pairs: dict[Pair, float] = {}
    for group in copies:
        for other in group[1:]:
            pairs[ordered(group[0], other)] = 1.0
    return pairs


def record_neighbours(
    index: VectorIndex,
    catalog: Catalog,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> int:
    """Record each newly indexed photo's close neighbours as candidate pairs (run after
    indexing; finding duplicates then reads them instead of searching the whole index).
    Returns how many photos were searched. A photo indexed later finds its earlier neighbours
    itself, with a wider search than interactive queries."""
    key = index.key
    done = catalog.neighbours_seq(key.method, key.version)
    latest = catalog.max_vector_seq(key.method, key.version)
    if latest <= done:
        return 0
    searched = 0
    for ids, vectors in catalog.vectors_since(key.method, key.version, done, key.dim,
                                             VECTORS_PER_SEARCH):
        if cancel is not None:
            cancel.checkpoint()  # what is recorded stays; the mark is not moved
        progress(Progress("finding close pairs", searched, latest - done))
        labels, scores = index.query(vectors, NEIGHBOURS + 1, ef=RECORD_EF)
        rows, cols = np.nonzero((scores >= LOWEST_CANDIDATE) & (labels != ids[:, None]))
        pairs = {ordered(int(ids[r]), int(labels[r, c])) for r, c in zip(rows, cols, strict=True)}
        catalog.add_neighbours(key.method, key.version, pairs)
        searched += len(ids)
    catalog.set_neighbours_seq(key.method, key.version, latest)  # after the pairs: crash-safe
    return searched


def neighbour_pairs(index: VectorIndex, catalog: Catalog, threshold: float) -> dict[Pair, float]:
    """Recorded neighbour pairs, scored by their current vectors, with similarity >= threshold
    (recording first what indexing has not yet recorded)."""
    record_neighbours(index, catalog)
    key = index.key
    recorded = catalog.neighbours(key.method, key.version)
    pairs = [p for p in recorded if p[0] in index and p[1] in index]
    if not pairs:
        return {}
    ends = np.array(pairs, np.int64)
    ids = np.unique(ends)
    vectors = index.vectors(ids.tolist())
    rows = np.searchsorted(ids, ends)
    scores = np.empty(len(pairs), np.float32)
    for start in range(0, len(pairs), PAIRS_PER_SCORING):
        part = rows[start : start + PAIRS_PER_SCORING]
        scores[start : start + len(part)] = np.einsum(
            "ij,ij->i", vectors[part[:, 0]], vectors[part[:, 1]])
    return {p: float(s) for p, s in zip(pairs, scores.tolist(), strict=True) if s >= threshold}


def turned_pairs(catalog: Catalog) -> dict[Pair, float]:
    """Pairs where one photo, rotated by 90°/180° or mirrored, has the other's layout (which
    the embedding does not see as similar), scored by layout similarity. Photos catalogued
    before layout hashes existed get theirs from the stored thumbnail first."""
    missing = catalog.ids_without_layout_hash()
    if missing:
        catalog.set_layout_hashes(_hashes_from_thumbnails(catalog, missing))
    ids, hashes = catalog.layout_hashes()
    found = layout_hash.turned_pairs(ids, np.asarray(hashes, np.uint64))
    return {pair: 1.0 - distance / LAYOUT_BITS for pair, distance in found.items()}


def _hashes_from_thumbnails(catalog: Catalog, ids: list[int]) -> dict[int, int]:
    hashes = {}
    for file_id in ids:
        thumbnail = catalog.thumbnail(file_id)
        if not thumbnail:
            continue
        try:
            with Image.open(io.BytesIO(thumbnail)) as image:
                hashes[file_id] = layout_hash.layout_hash(image)
        except OSError:
            continue
    return hashes
