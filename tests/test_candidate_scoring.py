"""Neighbour pairs are scored by their current vectors in bounded memory: at 100,000 photos
both photos' vectors of every pair at once were 1.5 GB."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from photofinder.core.duplicates import candidates

DIM = 512


@dataclass(frozen=True)
class _Key:
    method: str = "m"
    version: str = "1"


class _Index:
    key = _Key()

    def __init__(self, vectors: npt.NDArray[np.float32]) -> None:
        self._vectors = vectors

    def __contains__(self, label: int) -> bool:
        return 0 <= label < len(self._vectors)

    def vectors(self, labels: Sequence[int]) -> npt.NDArray[np.float32]:
        return self._vectors[list(labels)]


class _Catalog:
    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        self._pairs = pairs

    def neighbours(self, method: str, version: str) -> list[tuple[int, int]]:
        return self._pairs


def test_pairs_are_scored_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2_000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pairs = sorted({candidates.ordered(int(a), int(b))
                    for a, b in rng.integers(0, 2_000, (20_500, 2)) if a != b})
    monkeypatch.setattr(candidates, "record_neighbours", lambda index, catalog: 0)
    monkeypatch.setattr(candidates, "PAIRS_PER_SCORING", 1024, raising=False)
    index, catalog = _Index(vectors), _Catalog(pairs)
    tracemalloc.start()
    try:
        scored = candidates.neighbour_pairs(index, catalog, -1.0)  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    every_pair_at_once = 2 * len(pairs) * DIM * 4  # 80 MB
    assert peak < every_pair_at_once / 4
    expected = {p: float(vectors[p[0]] @ vectors[p[1]]) for p in pairs}
    assert scored.keys() == expected.keys()
    assert list(scored.values()) == pytest.approx(list(expected.values()), abs=1e-5)
    assert candidates.neighbour_pairs(index, catalog, 0.05) == {  # type: ignore[arg-type]
        p: s for p, s in scored.items() if s >= 0.05}
