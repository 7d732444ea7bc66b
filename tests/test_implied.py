"""Pairs inside a set of photos already confirmed as one photo are implied, not checked: copies
of one photo cost about a check each, pairs of different photos are all checked."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from photofinder.core.duplicates.implied import FOREST_WAVES, PhotoSets, check_in_waves

Pair = tuple[int, int]


def checker(
    same_photo: dict[int, str],
) -> tuple[list[list[Pair]], Callable[[list[Pair]], list[bool]]]:
    """A check that knows each photo's picture, and the waves it was asked."""
    asked: list[list[Pair]] = []

    def check(pairs: list[Pair]) -> list[bool]:
        asked.append(list(pairs))
        return [same_photo[a] == same_photo[b] for a, b in pairs]

    return asked, check


def test_copies_of_one_photo_are_checked_once_each() -> None:
    copies = range(1, 22)  # a photo and 20 copies, every pair a candidate
    pairs = {p: 0.9 for p in itertools.combinations(copies, 2)}
    asked, check = checker(dict.fromkeys(copies, "a"))
    verdicts, implied = check_in_waves(pairs, (), check)
    assert len(asked) == 1 and len(verdicts) == 20 and all(verdicts.values())
    assert implied == set(pairs) - set(verdicts)


def test_pairs_of_different_photos_are_all_checked() -> None:
    pictures = {1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}
    pairs = {p: 0.7 for p in itertools.combinations(pictures, 2)}
    asked, check = checker(pictures)
    verdicts, implied = check_in_waves(pairs, (), check)
    same = {p for p in pairs if pictures[p[0]] == pictures[p[1]]}
    assert {p for p, ok in verdicts.items() if ok} == same
    assert set(verdicts) | implied == set(pairs) and not implied & set(verdicts)
    assert len(asked) <= FOREST_WAVES + 1
    assert sum(len(wave) for wave in asked) == len(verdicts)  # each pair at most once


def test_exact_copies_imply_their_pairs_and_the_most_similar_pairs_come_first() -> None:
    pictures = dict.fromkeys((1, 2, 3), "a")
    pairs = {(1, 3): 0.8, (2, 3): 0.95}
    asked, check = checker(pictures)
    verdicts, implied = check_in_waves(pairs, [(1, 2)], check)
    assert asked == [[(2, 3)]] and implied == {(1, 3)} and verdicts == {(2, 3): True}


def test_a_failed_pair_leaves_the_others_to_be_checked() -> None:
    # 1–2 fails (a checker miss), 1–3 and 2–3 pass: 1–2 is implied by neither wave order
    # alone, so what it says is the check's, and the group still forms through 3.
    verdict = {(1, 2): False, (1, 3): True, (2, 3): True}
    asked: list[list[Pair]] = []

    def check(pairs: list[Pair]) -> list[bool]:
        asked.append(list(pairs))
        return [verdict[p] for p in pairs]

    verdicts, implied = check_in_waves({(1, 2): 0.99, (1, 3): 0.9, (2, 3): 0.8}, (), check)
    assert verdicts == {(1, 2): False, (1, 3): True, (2, 3): True} and not implied


def test_photo_sets_join_and_find() -> None:
    sets = PhotoSets()
    assert sets.join(3, 4) and sets.join(4, 5) and not sets.join(3, 5)
    copied = sets.copy()
    copied.join(1, 3)
    assert sets.find(5) == 3 and copied.find(5) == 1 and sets.find(1) == 1
