"""Groups of near-duplicate photos from nearest-neighbour pairs and exact content hashes."""

from __future__ import annotations

from dataclasses import dataclass

from photofinder.core.catalog import Catalog
from photofinder.core.vector_index import VectorIndex

DEFAULT_THRESHOLD = 0.90
NEIGHBOURS = 8


@dataclass(frozen=True)
class DuplicateGroup:
    file_ids: list[int]
    paths: list[str]
    min_score: float  # the weakest similarity that joined this group (1.0 for exact copies)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def find_duplicates(
    index: VectorIndex, catalog: Catalog, threshold: float = DEFAULT_THRESHOLD
) -> list[DuplicateGroup]:
    """Photos whose similarity to a neighbour is at least `threshold`, plus identical files.

    Candidate pairs come from each photo's nearest neighbours in the index, never all pairs."""
    union = _UnionFind()
    weakest: dict[tuple[int, int], float] = {}
    for group in catalog.hash_groups():
        for other in group[1:]:
            union.union(group[0], other)
            weakest[(group[0], other)] = 1.0
    key = index.key
    for ids, vectors in catalog.vectors_since(key.method, key.version, 0, key.dim):
        labels, scores = index.query(vectors, NEIGHBOURS + 1)
        for source, row_labels, row_scores in zip(ids, labels, scores, strict=True):
            for label, score in zip(row_labels, row_scores, strict=True):
                if int(label) != int(source) and score >= threshold:
                    union.union(int(source), int(label))
                    pair = (min(int(source), int(label)), max(int(source), int(label)))
                    weakest[pair] = float(score)
    members: dict[int, list[int]] = {}
    for item in list(union.parent):
        members.setdefault(union.find(item), []).append(item)
    group_weakest: dict[int, float] = {}
    for (a, _), score in weakest.items():
        root = union.find(a)
        group_weakest[root] = min(score, group_weakest.get(root, 1.0))
    records = catalog.files_by_ids(i for group in members.values() for i in group)
    groups: list[DuplicateGroup] = []
    for root, group in members.items():
        members_ids = sorted(i for i in group if i in records)
        if len(members_ids) >= 2:
            paths = [records[i].path for i in members_ids]
            groups.append(DuplicateGroup(members_ids, paths, group_weakest.get(root, 1.0)))
    groups.sort(key=lambda g: (-len(g.file_ids), g.paths[0]))
    return groups
