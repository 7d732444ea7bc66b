"""Duplicate groups: exact copies by content hash, near-duplicates and similar shots from the
index's nearest neighbours (never all pairs), confirmed, then grouped without chaining."""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core import layout_hash
from photofinder.core.catalog import Catalog, FileRecord
from photofinder.core.imageio import RAW_SUFFIXES
from photofinder.core.keepers import DEFAULT_RULES, KeeperChoice, suggest_keeper
from photofinder.core.progress import Progress, ProgressCallback, ignore_progress
from photofinder.core.vector_index import VectorIndex

Pair = tuple[int, int]
Confirm = Callable[[list[tuple[FileRecord, FileRecord]]], list[bool]]
NEIGHBOURS = 10
RECORD_EF = 128  # hnswlib search width when recording neighbours (interactive search: 64)


class Strictness(StrEnum):
    EXACT = "exact"  # byte-identical files only
    NEAR = "near"  # the same photo: resized, re-encoded, cropped, rotated, mirrored, edited
    SIMILAR = "similar"  # also different shots of one scene (bursts, series)


@dataclass(frozen=True)
class Thresholds:
    candidate: float  # cosine similarity that makes a pair worth a closer look
    accept: float  # at or above this a pair counts without a geometric check ...
    checked: bool  # ... unless there is one at hand and the strictness says every pair passes


THRESHOLDS = {
    Strictness.NEAR: Thresholds(candidate=0.72, accept=0.985, checked=True),
    # Everything near finds, and any pair this similar unchecked (bursts, series).
    Strictness.SIMILAR: Thresholds(candidate=0.72, accept=0.86, checked=False),
}
DEFAULT_STRICTNESS = Strictness.NEAR


@dataclass(frozen=True)
class DuplicateGroup:
    records: list[FileRecord]
    min_score: float  # weakest similarity inside (exact copies 1.0; turned copies: of layout)
    keeper: KeeperChoice

    @property
    def file_ids(self) -> list[int]:
        return [r.id for r in self.records]

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.records]

    @property
    def keeper_record(self) -> FileRecord:
        return next(r for r in self.records if r.id == self.keeper.keeper_id)

    @property
    def reclaimable_bytes(self) -> int:
        removable = set(self.keeper.removable)
        return sum(r.size for r in self.records if r.id in removable)


def ordered(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def exact_pairs(catalog: Catalog) -> dict[Pair, float]:
    pairs: dict[Pair, float] = {}
    for group in catalog.hash_groups():
        for other in group[1:]:
            pairs[ordered(group[0], other)] = 1.0
    return pairs


def record_neighbours(
    index: VectorIndex, catalog: Catalog, progress: ProgressCallback = ignore_progress
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
    lowest = min(t.candidate for t in THRESHOLDS.values())
    searched = 0
    for ids, vectors in catalog.vectors_since(key.method, key.version, done, key.dim, 8192):
        progress(Progress("finding close pairs", searched, latest - done))
        labels, scores = index.query(vectors, NEIGHBOURS + 1, ef=RECORD_EF)
        rows, cols = np.nonzero((scores >= lowest) & (labels != ids[:, None]))
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
    ids = sorted({i for pair in pairs for i in pair})
    row_of = {file_id: row for row, file_id in enumerate(ids)}
    vectors = index.vectors(ids)
    a = vectors[[row_of[p[0]] for p in pairs]]
    b = vectors[[row_of[p[1]] for p in pairs]]
    scores = np.einsum("ij,ij->i", a, b)
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
    return {pair: 1.0 - distance / 63 for pair, distance in found.items()}


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


def raw_jpeg_siblings(a: FileRecord, b: FileRecord) -> bool:
    """A RAW file and the JPEG (or HEIC) beside it with the same name are one photo."""
    pa, pb = Path(a.path), Path(b.path)
    raw_count = (pa.suffix.lower() in RAW_SUFFIXES) + (pb.suffix.lower() in RAW_SUFFIXES)
    return raw_count == 1 and pa.parent == pb.parent and pa.stem.lower() == pb.stem.lower()


def star_groups(
    pairs: dict[Pair, float], looser: dict[Pair, float] | None = None
) -> list[tuple[list[int], float]]:
    """Group around centres: the photo with the most confirmed links takes its unassigned
    neighbours, and so on. A group never grows through a neighbour of a neighbour, so a
    series of close pairs cannot chain unrelated photos together. `looser` links (similar
    shots) come second: they add photos to the groups of `pairs` through their centres and
    group the rest, so the groups of `pairs` stay whole."""
    groups = _stars(pairs)
    if not looser:
        return groups
    assigned = {member for members, _ in groups for member in members}
    group_of_centre = {members[0]: number for number, (members, _) in enumerate(groups)}
    for (a, b), score in sorted(looser.items(), key=lambda item: -item[1]):
        for centre, other in ((a, b), (b, a)):
            if centre in group_of_centre and other not in assigned:
                members, weakest = groups[group_of_centre[centre]]
                groups[group_of_centre[centre]] = ([*members, other], min(weakest, score))
                assigned.add(other)
    rest = {p: s for p, s in looser.items() if p[0] not in assigned and p[1] not in assigned}
    return groups + _stars(rest)


def _stars(pairs: dict[Pair, float]) -> list[tuple[list[int], float]]:
    links: dict[int, dict[int, float]] = {}
    for (a, b), score in pairs.items():
        links.setdefault(a, {})[b] = score
        links.setdefault(b, {})[a] = score
    assigned: set[int] = set()
    groups: list[tuple[list[int], float]] = []
    heap = [(-len(links[n]), n) for n in links]
    heapq.heapify(heap)
    while heap:
        negative_degree, centre = heapq.heappop(heap)
        if centre in assigned:
            continue
        members = [m for m in links[centre] if m not in assigned]
        if len(members) != -negative_degree:  # neighbours were taken since: re-queue
            if members:
                heapq.heappush(heap, (-len(members), centre))
            continue
        assigned.update([centre, *members])
        groups.append(([centre, *members], min(links[centre][m] for m in members)))
    return groups


def find_duplicates(
    index: VectorIndex,
    catalog: Catalog,
    strictness: Strictness = DEFAULT_STRICTNESS,
    confirm: Confirm | None = None,
    dismissed: Callable[[Iterable[tuple[str, str]]], set[tuple[str, str]]] | None = None,
    rules: Sequence[str] = DEFAULT_RULES,
    preferred_folders: Sequence[str] = (),
    reference_folders: Sequence[str] = (),
) -> list[DuplicateGroup]:
    """Duplicate groups, largest reclaimable space first, each with a suggested keeper.

    `confirm` checks near-duplicate candidates geometrically (without it the `accept`
    similarity decides); `dismissed` returns the content-hash pairs the user marked as not
    duplicates, which never group again."""
    pairs = exact_pairs(catalog)
    exact = set(pairs)
    turned: dict[Pair, float] = {}
    if strictness is not Strictness.EXACT:
        limits = THRESHOLDS[strictness]
        candidates = neighbour_pairs(index, catalog, limits.candidate)
        pairs.update({p: s for p, s in candidates.items() if p not in pairs})
        turned = {p: s for p, s in turned_pairs(catalog).items() if p not in pairs}
        pairs.update(turned)
    records = catalog.files_by_ids({i for pair in pairs for i in pair})
    pairs = {
        p: s for p, s in pairs.items()
        if p[0] in records and p[1] in records
        and not raw_jpeg_siblings(records[p[0]], records[p[1]])
    }
    if dismissed is not None:
        hash_of = {p: _hash_pair(records[p[0]], records[p[1]]) for p in pairs}
        gone = dismissed(hash_of.values())
        pairs = {p: s for p, s in pairs.items() if hash_of[p] not in gone}
    looser: dict[Pair, float] = {}
    if strictness is not Strictness.EXACT:
        pairs, looser = _confirmed(
            pairs, records, THRESHOLDS[strictness], confirm, exact, set(turned)
        )
    groups = []
    for ids, weakest in star_groups(pairs, looser):
        members = sorted((records[i] for i in ids), key=lambda r: r.path)
        keeper = suggest_keeper(members, rules, preferred_folders, reference_folders)
        groups.append(DuplicateGroup(members, weakest, keeper))
    groups.sort(key=lambda g: (-g.reclaimable_bytes, g.paths[0]))
    return groups


def _hash_pair(a: FileRecord, b: FileRecord) -> tuple[str, str]:
    ha, hb = a.content_hash or f"id:{a.id}", b.content_hash or f"id:{b.id}"
    return (ha, hb) if ha <= hb else (hb, ha)


def _confirmed(
    pairs: dict[Pair, float],
    records: dict[int, FileRecord],
    limits: Thresholds,
    confirm: Confirm | None,
    exact: set[Pair],
    turned: set[Pair],
) -> tuple[dict[Pair, float], dict[Pair, float]]:
    """(same photo, similar only). With a check at hand: exact copies and the pairs passing
    it are the same photo; a pair failing it still counts as similar at or above `accept`
    unless the strictness is `checked`. Without one: the pairs at or above `accept` are the
    same photo (turned copies, judged by layout alone, never are)."""
    same = {p: s for p, s in pairs.items() if p in exact}
    if confirm is None:
        same.update({p: s for p, s in pairs.items() if s >= limits.accept and p not in turned})
        return same, {}
    doubtful = [p for p in pairs if p not in same]
    if not doubtful:
        return same, {}
    verdicts = confirm([(records[a], records[b]) for a, b in doubtful])
    failed = []
    for pair, ok in zip(doubtful, verdicts, strict=True):
        if ok:
            same[pair] = pairs[pair]
        else:
            failed.append(pair)
    if limits.checked:
        return same, {}
    return same, {p: pairs[p] for p in failed if pairs[p] >= limits.accept and p not in turned}
