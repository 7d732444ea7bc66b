"""Keypoints: original-image coordinates, overlay rendering, the cache, the type listing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.core.matching import keypoints
from tests.support.textured import save, textured, write_textured


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    keypoints.clear_caches()
    yield
    keypoints.clear_caches()


def test_keypoints_are_in_original_image_coordinates(tmp_path: Path) -> None:
    path = write_textured(tmp_path / "big.jpg", 1, (2400, 1800))
    found = keypoints.detect_file(path)
    assert found.kind == "SIFT"
    assert found.count > 100
    assert found.original_size == (2400, 1800)
    assert max(found.working_size) <= keypoints.WORKING_MAX_SIDE  # detected reduced
    points = found.points()
    assert points.shape == (found.count, 2)
    assert (points >= 0).all() and (points[:, 0] <= 2400).all() and (points[:, 1] <= 1800).all()
    assert points[:, 0].max() > 0.8 * 2400 and points[:, 1].max() > 0.8 * 1800
    # the same photo detected at full size puts keypoints in the same places
    reference = keypoints.detect_image(textured(1, (640, 480)), original_size=(2400, 1800))
    nearest = np.linalg.norm(points[:, None, :] - reference.points()[None, :, :], axis=2)
    assert np.median(nearest.min(axis=1)) < 2400 / 640 * 2


def test_orb_keypoints_and_mirrored_points_map_back(tmp_path: Path) -> None:
    image = textured(2)
    orb = keypoints.detect_image(image, "orb")
    assert orb.kind == "ORB" and orb.count > 100 and orb.descriptors.shape[1] == 32
    plain = keypoints.detect_image(image)
    mirrored = keypoints.detect_image(image, mirrored=True)
    assert mirrored.mirrored
    # keypoints of the mirror image, mapped back, land on the plain image's keypoints
    distance = np.linalg.norm(mirrored.points()[:, None] - plain.points()[None], axis=2)
    assert np.median(distance.min(axis=1)) < 2.0


@pytest.mark.parametrize("size", [(320, 240), (301, 187)])
def test_mirrored_sift_keypoints_are_those_of_the_mirror_image(size: tuple[int, int]) -> None:
    image = textured(3, size)
    derived = keypoints.mirror_of(keypoints.detect_image(image))
    # what detection on the mirror image itself gives (keypoints in its own coordinates)
    mirror = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    detected = keypoints.detect_image(mirror, "SIFT")
    near = np.linalg.norm(detected.xy[:, None] - derived.xy[None], axis=2)
    turn = np.abs((detected.angles[:, None] - derived.angles[None] + 180) % 360 - 180)
    cost = near + 100 * (turn > 1)
    partner = cost.argmin(axis=1)
    same = cost[np.arange(detected.count), partner] < 0.1
    assert same.mean() > 0.7  # most keypoints are found at the same place and angle ...
    gaps = np.linalg.norm(detected.descriptors[same].astype(float)
                          - derived.descriptors[partner[same]].astype(float), axis=1)
    assert np.median(gaps) < 20  # ... with the same descriptor (norms are ≈ 512)
    shift = np.array([derived.scale[0] * 0.5, 0.0], np.float32)  # OpenCV's half pixel
    assert np.allclose(derived.points(), keypoints.detect_image(image).points() + shift,
                       atol=1e-3)


def test_only_plain_sift_keypoints_are_mirrored() -> None:
    orb = keypoints.detect_image(textured(2), "ORB")
    with pytest.raises(ValueError, match="SIFT"):
        keypoints.mirror_of(orb)
    with pytest.raises(ValueError, match="SIFT"):
        keypoints.mirror_of(keypoints.detect_image(textured(2), mirrored=True))


def test_keypoint_types_list_surf_as_unavailable() -> None:
    by_name = {t.name: t for t in keypoints.KEYPOINT_TYPES}
    assert by_name["SIFT"].available and by_name["ORB"].available
    assert not by_name["SURF"].available
    assert "patented" in by_name["SURF"].reason and "SIFT or ORB" in by_name["SURF"].reason
    with pytest.raises(ValueError, match="patented"):
        keypoints.detect_image(textured(1), "SURF")
    with pytest.raises(ValueError, match="unknown"):
        keypoints.keypoint_type("KAZE")


def test_overlay_has_display_size_and_shows_keypoints(tmp_path: Path) -> None:
    path = write_textured(tmp_path / "photo.jpg", 3, (1600, 1200))
    overlay = keypoints.render_overlay(path, "SIFT", display_side=800)
    assert overlay.image.mode == "RGB"
    assert overlay.image.size == (800, 600)
    assert overlay.keypoints.count > 100
    plain = Image.open(path).convert("RGB").resize((800, 600), Image.Resampling.BICUBIC)
    changed = np.abs(np.asarray(overlay.image, np.int16) - np.asarray(plain, np.int16)).max(2)
    assert (changed > 60).mean() > 0.01  # circles and strokes drawn


def test_cache_returns_the_same_result_until_the_file_changes(tmp_path: Path) -> None:
    path = write_textured(tmp_path / "photo.jpg", 4)
    first = keypoints.detect_file(path)
    assert keypoints.detect_file(path) is first
    assert keypoints.detect_file(path, "ORB") is not first
    overlay = keypoints.render_overlay(path)
    assert keypoints.render_overlay(path) is overlay  # toggling back is instant
    assert overlay.keypoints is first  # the overlay reuses detected keypoints
    save(textured(5), path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert keypoints.detect_file(path) is not first
