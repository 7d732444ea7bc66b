"""The order pairs are checked in: photo by photo through the candidate graph, so that
consecutive pairs share their photos and each worker computes a photo's features about once
(photofinder.core.duplicates.check_pool). The order changes what is computed when, never a
verdict."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

Pair = tuple[int, int]


def local_order(pairs: Iterable[Pair]) -> list[Pair]:
    """The pairs, each once, component by component of the graph they make (smallest photo
    number first), and inside one in breadth-first order of the photos from its smallest: a
    pair comes with the first of its photos reached, so neighbours stay together even in one
    large component. Ties go to the smaller number: the order is a function of the pairs."""
    links: dict[int, list[int]] = {}
    unique = set(pairs)
    for a, b in unique:
        links.setdefault(a, []).append(b)
        links.setdefault(b, []).append(a)
    ordered: list[Pair] = []
    seen: set[int] = set()
    emitted: set[Pair] = set()
    for start in sorted(links):
        if start in seen:
            continue
        seen.add(start)
        queue = deque([start])
        while queue:
            photo = queue.popleft()
            for other in sorted(links[photo]):
                pair = (photo, other) if (photo, other) in unique else (other, photo)
                if pair not in emitted:
                    emitted.add(pair)
                    ordered.append(pair)
                if other not in seen:
                    seen.add(other)
                    queue.append(other)
    return ordered
