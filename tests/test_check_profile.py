"""The check profile (benchmarks.check_profile) times the stages of real pair checks and leaves
the checker as it found it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchmarks.check_profile import Stages, stage_timers
from photofinder.core.duplicates import check_pool, pair_check
from photofinder.core.duplicates.check_pool import checked, tasks_of
from photofinder.core.lru import LRUCache
from photofinder.core.matching import stored_keypoints, verify
from tests.support.pair_sources import saved_source
from tests.support.textured import textured


def test_stages_of_a_keypoint_check_are_timed_and_the_checker_restored(tmp_path: Path) -> None:
    picture = textured(3, (640, 480))
    crop = picture.crop((80, 60, 560, 420))  # another shape: only keypoints can line it up
    pair = (saved_source("a.jpg", picture, tmp_path),
            saved_source("b.jpg", crop, tmp_path))
    def current() -> tuple[object, ...]:
        return (vars(check_pool)["photo_view"], stored_keypoints.thumbnail_keypoints,
                stored_keypoints.decode, verify.verify_sets, vars(pair_check)["_lines_up"])

    originals = current()
    stages: Stages = defaultdict(list)
    with stage_timers(stages):
        verdicts = checked(tasks_of([pair])[0], LRUCache(8))
    assert verdicts == [True]
    assert len(stages["views (thumbnail decode, grey at check side)"]) == 2
    assert len(stages["SIFT detection"]) == 2  # nothing stored for these two photos
    assert stages["matching + transform fit"]
    assert all(seconds >= 0 for timings in stages.values() for seconds in timings)
    assert current() == originals
