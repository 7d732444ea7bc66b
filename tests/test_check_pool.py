"""Duplicate pair checks on all cores: the worker processes give the verdicts the checks give in
one process, a worker that dies costs nothing but time, and the order pairs are checked in keeps
a photo's pairs together."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from photofinder.core.duplicates.check_pool import (
    FEATURES_KEPT,
    CheckPool,
    kept_per_worker,
    tasks_of,
)
from photofinder.core.duplicates.pair_check import PhotoSource
from photofinder.core.duplicates.pair_order import local_order
from tests.support.dying_task import die
from tests.support.pair_sources import saved_source
from tests.support.textured import textured
from tests.support.views_kept_task import views_kept


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[list[tuple[PhotoSource, PhotoSource]], list[bool]]:
    """Pairs of two pictures with a resized copy each and another shot of one."""
    pictures = [textured(seed, (640, 480)) for seed in (4, 7)]
    photos = []
    for number, picture in enumerate(pictures):
        photos.append(saved_source(f"p{number}.jpg", picture, tmp_path))
        photos.append(saved_source(f"p{number}_small.jpg", picture.resize((400, 300)), tmp_path))
    moved = pictures[0].copy()
    moved.paste(pictures[0].crop((260, 180, 380, 300)).rotate(90), (300, 200))
    photos.append(saved_source("p0_moved.jpg", moved, tmp_path))
    same = {("p0.jpg", "p0_small.jpg"), ("p1.jpg", "p1_small.jpg")}
    checked = list(itertools.combinations(photos, 2))
    return checked, [(a.key, b.key) in same for a, b in checked]


@pytest.mark.slow
def test_worker_processes_give_the_verdicts_of_one_process(
    pairs: tuple[list[tuple[PhotoSource, PhotoSource]], list[bool]],
) -> None:
    checked, expected = pairs
    with CheckPool(workers=1) as here:
        assert here.check(tasks_of(checked, size=3)) == expected
    with CheckPool(workers=2, in_process_below=0) as pool:
        assert pool.check(tasks_of(checked, size=3)) == expected
        assert pool.check(tasks_of(checked[::-1], size=4)) == expected[::-1]  # runs swap


@pytest.mark.slow
def test_a_worker_that_dies_leaves_the_checks_to_this_process(
    pairs: tuple[list[tuple[PhotoSource, PhotoSource]], list[bool]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    checked, expected = pairs
    with CheckPool(workers=2, in_process_below=0, task=die) as pool:
        assert pool.check(tasks_of(checked, size=3)) == expected
        assert pool.check(tasks_of(checked, size=3)) == expected  # no worker started again
    assert "checking duplicate pairs in one process" in caplog.text


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_one_bound_on_kept_features(
    pairs: tuple[list[tuple[PhotoSource, PhotoSource]], list[bool]], workers: int
) -> None:
    checked, _ = pairs
    with CheckPool(workers=workers, in_process_below=0, task=views_kept) as pool:
        answers = pool.check(tasks_of(checked[:1]))  # one task: one worker answers
        assert pool.worker_calls == 1  # from a worker, not this process
    assert len(answers) == kept_per_worker(workers) == FEATURES_KEPT // workers


def test_features_kept_in_this_process_are_bounded(
    pairs: tuple[list[tuple[PhotoSource, PhotoSource]], list[bool]],
) -> None:
    checked, expected = pairs
    with CheckPool(workers=1, cache_size=2) as pool:
        assert pool.check(tasks_of(checked, size=2)) == expected
        assert len(pool.cached) <= 2


def test_tasks_carry_each_photo_once() -> None:
    photos = [PhotoSource(f"k{n}", f"/p{n}.jpg", (4, 3), b"") for n in range(4)]
    tasks = tasks_of([(photos[0], photos[1]), (photos[0], photos[2]), (photos[3], photos[1])], 2)
    assert [[s.key for s in sources] for sources, _ in tasks] == [["k0", "k1", "k2"], ["k3", "k1"]]
    assert [keys for _, keys in tasks] == [[("k0", "k1"), ("k0", "k2")], [("k3", "k1")]]


def test_pairs_are_checked_component_by_component_and_photo_by_photo() -> None:
    pairs = [(5, 9), (1, 2), (2, 3), (1, 3), (5, 6), (3, 4), (7, 8)]
    assert local_order(pairs) == [(1, 2), (1, 3), (2, 3), (3, 4), (5, 6), (5, 9), (7, 8)]
    assert local_order(reversed(pairs)) == local_order(pairs)
    assert sorted(local_order(pairs + pairs)) == sorted(pairs)
