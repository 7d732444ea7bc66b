"""The pair check: a copy lies within its original (or holds it whole); two pictures that only
share a part are not one photo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from photofinder.core.duplicates.pair_check import PairView, PhotoSource, photo_view, same_photo
from photofinder.core.matching import keypoints
from tests.support.textured import textured


def view_of(image: Image.Image, path: Path) -> PairView | None:
    image.save(path, quality=92)
    return photo_view(PhotoSource(path.name, str(path), image.size, None))


def test_two_views_of_one_scene_panned_apart_are_other_pictures(tmp_path: Path) -> None:
    scene = textured(3, (1200, 600))
    left = scene.crop((0, 0, 800, 600))
    right = scene.crop((240, 0, 1040, 600))  # each shows 30 % the other lacks
    assert same_photo(view_of(left, tmp_path / "left.jpg"),
                      view_of(right, tmp_path / "right.jpg")) is False


def test_a_crop_lies_within_its_original(tmp_path: Path) -> None:
    original = textured(6, (800, 600))
    crop = original.crop((150, 100, 650, 475))
    assert same_photo(view_of(original, tmp_path / "original.jpg"),
                      view_of(crop, tmp_path / "crop.jpg")) is True


def test_a_collage_holding_a_photo_whole_is_matched_with_it(tmp_path: Path) -> None:
    photo = textured(7, (400, 300))
    collage = Image.new("RGB", (800, 600), "white")
    collage.paste(textured(8, (400, 300)), (0, 0))
    collage.paste(photo, (400, 300))
    assert same_photo(view_of(photo, tmp_path / "photo.jpg"),
                      view_of(collage, tmp_path / "collage.jpg")) is True


def test_a_resized_copy_is_the_same_photo(tmp_path: Path) -> None:
    original = textured(9, (800, 600))
    assert same_photo(view_of(original, tmp_path / "original.jpg"),
                      view_of(original.resize((400, 300)), tmp_path / "small.jpg")) is True


def test_a_mirrored_crop_is_found_with_one_detection_per_photo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = textured(10, (800, 600))
    copy = original.crop((100, 60, 700, 540)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    other = textured(11, (800, 600))
    views = [view_of(image, tmp_path / f"{name}.jpg")
             for name, image in (("original", original), ("copy", copy), ("other", other))]
    detections: list[int] = []
    detector = keypoints._detector

    def counted(kind: str, limit: int) -> Any:
        detections.append(1)
        return detector(kind, limit)

    monkeypatch.setattr(keypoints, "_detector", counted)
    assert same_photo(views[1], views[0]) is True
    assert same_photo(views[2], views[0]) is False  # the mirror image is tried, and fails
    assert len(detections) == 3  # each photo's keypoints once; mirror images' are derived


def test_a_views_footprint_counts_what_it_has_read(tmp_path: Path) -> None:
    view = view_of(textured(12, (800, 600)), tmp_path / "photo.jpg")
    assert view is not None
    first = view.footprint()
    assert first >= view.align.grey.nbytes and not view.closer_read
    view.keypoints()
    with_keypoints = view.footprint()
    assert with_keypoints > first
    closer = view.closer()
    assert view.closer_read and closer is not None
    assert view.footprint() == with_keypoints + closer.grey.nbytes
