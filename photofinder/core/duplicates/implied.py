"""Check each photo's place in a group, not every pair: two photos that each are the same
photo as a third are one photo too, so a candidate pair inside a set already confirmed as one
photo needs no check of its own. Pairs are checked in waves, each wave a spanning forest (by
similarity) of the sets confirmed so far; what a wave confirms joins sets, and the pairs then
inside a set are implied. Among copies of one photo this checks about one pair per photo where
checking every candidate pair checks them all (a photo with 20 copies: 20 pairs, not 210); the
group checks that follow (grouping.consistent_groups) still turn away a photo that got in by a
wrong verdict. Pairs of photos that are not copies are each checked, as before."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

Pair = tuple[int, int]
# Forest waves before one last wave of every pair left: between two sets that are not one
# photo each wave checks one pair, and most pairs left after a few are such pairs.
FOREST_WAVES = 2


class PhotoSets:
    """Disjoint sets of photos (union-find with path halving)."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, photo: int) -> int:
        parent = self._parent
        parent.setdefault(photo, photo)
        while parent[photo] != photo:
            parent[photo] = parent[parent[photo]]
            photo = parent[photo]
        return photo

    def join(self, a: int, b: int) -> bool:
        """Join the sets of `a` and `b`; False when they were one already."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return False
        self._parent[max(root_a, root_b)] = min(root_a, root_b)
        return True

    def copy(self) -> PhotoSets:
        copied = PhotoSets()
        copied._parent = dict(self._parent)
        return copied


def check_in_waves(
    pairs: dict[Pair, float],
    confirmed: Iterable[Pair],
    check: Callable[[list[Pair]], list[bool]],
) -> tuple[dict[Pair, bool], set[Pair]]:
    """(verdicts of the pairs checked, pairs implied) for `pairs`, given pairs already
    `confirmed` as one photo (exact copies). Most similar pairs first; ties by the pair."""
    sets = PhotoSets()
    for a, b in confirmed:
        sets.join(a, b)
    waiting = sorted(pairs, key=lambda p: (-pairs[p], p))
    verdicts: dict[Pair, bool] = {}
    implied: set[Pair] = set()
    for number in itertools.count():
        if not waiting:
            break
        planned = sets.copy()
        wave: list[Pair] = []
        later: list[Pair] = []
        for pair in waiting:
            if sets.find(pair[0]) == sets.find(pair[1]):
                implied.add(pair)
            elif number == FOREST_WAVES or planned.join(*pair):
                wave.append(pair)
            else:
                later.append(pair)
        for pair, same in zip(wave, check(wave) if wave else [], strict=True):
            verdicts[pair] = same
            if same:
                sets.join(*pair)
        waiting = later
    return verdicts, implied
