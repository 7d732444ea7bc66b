"""The held-out protocol: the written-down class split, and each edit family doing what it says."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from benchmarks.duplicates import pair_scores
from benchmarks.heldout import (
    Copy,
    grouped_with_original,
    map_and_precision_at,
    pick,
    read_split,
    split_by_recipe,
    truth_pairs,
)
from photofinder.core.evaluation import edits
from photofinder.core.evaluation.neardup import KINDS, make_neardup_set

W, H = 300, 200


def photo() -> Image.Image:
    """A 300×200 picture with structure everywhere: a colour ramp, shapes, a checkered corner."""
    x = np.linspace(0, 255, W, dtype=np.float32)[None, :].repeat(H, 0)
    y = np.linspace(0, 255, H, dtype=np.float32)[:, None].repeat(W, 1)
    rgb = np.stack([x, y, 255 - (x + y) / 2], axis=2).astype(np.uint8)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 30, 140, 130), fill=(250, 20, 20))
    draw.rectangle((180, 100, 260, 180), fill=(20, 20, 240))
    for i in range(0, 60, 10):
        for j in range(0, 60, 10):
            if (i + j) % 20 == 0:
                draw.rectangle((i, H - 60 + j, i + 9, H - 51 + j), fill=(255, 255, 255))
    return img


def apply(kind: str, seed: int = 0) -> Image.Image:
    """The edit ``kind`` of the test photo."""
    return edits.EDITS[kind](photo(), edits.edit_rng("c/p.jpg", kind, seed))


def pixels(img: Image.Image) -> np.ndarray:
    """The image as a float array."""
    return np.asarray(img.convert("RGB"), dtype=np.float32)


def test_the_written_split_is_the_recipe_and_halves_share_no_class() -> None:
    halves = read_split()
    tuning, heldout = set(halves["tuning"]), set(halves["heldout"])
    assert len(tuning) == len(heldout) == 17
    assert not tuning & heldout
    assert split_by_recipe(sorted(tuning | heldout)) == halves


def test_originals_and_distractors_are_drawn_apart_and_repeatably() -> None:
    photos = [f"c{i % 3}/{i:03d}.jpg" for i in range(50)]
    originals, distractors = pick(photos, 10, 30, seed=4)
    assert len(originals) == 10 and len(distractors) == 30
    assert not set(originals) & set(distractors)
    assert pick(photos, 10, 30, seed=4) == (originals, distractors)
    assert pick(photos, 10, 30, seed=5) != (originals, distractors)


@pytest.mark.parametrize(("kind", "area"), [("crop_half", 0.5), ("crop_quarter", 0.25)])
def test_crops_keep_the_stated_share_of_the_area_from_the_photo(kind: str, area: float) -> None:
    out = apply(kind)
    assert out.width * out.height / (W * H) == pytest.approx(area, rel=0.03)
    source = pixels(photo())
    found = [
        (x, y)
        for y in range(H - out.height + 1)
        for x in range(W - out.width + 1)
        if np.array_equal(source[y, x : x + 4], pixels(out)[0, :4])
        and np.array_equal(source[y : y + out.height, x : x + out.width], pixels(out))
    ]
    assert found, "the crop is a window of the photo"


def test_blur_is_strong_and_keeps_the_size() -> None:
    out = apply("blur")
    assert out.size == (W, H)
    def detail(img: Image.Image) -> float:
        return float(np.abs(np.diff(pixels(img), n=2, axis=1)).mean())

    assert detail(out) < 0.3 * detail(photo())


def test_downscale_is_a_quarter_of_each_side() -> None:
    assert apply("downscale_quarter").size == (W // 4, H // 4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rotate90_is_a_quarter_turn_either_way(seed: int) -> None:
    out = apply("rotate90", seed)
    turns = (photo().transpose(Image.Transpose.ROTATE_90),
             photo().transpose(Image.Transpose.ROTATE_270))
    assert any(np.array_equal(pixels(out), pixels(t)) for t in turns)


def test_rotate180_and_mirror_are_exact() -> None:
    flipped = photo().transpose(Image.Transpose.ROTATE_180)
    assert np.array_equal(pixels(apply("rotate180")), pixels(flipped))
    mirrored = photo().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert np.array_equal(pixels(apply("mirror")), pixels(mirrored))


def test_small_rotation_leaves_no_fill_corners_and_is_tilted() -> None:
    out = apply("rotate_small")
    assert out.width < W and out.height < H
    corners = pixels(out)[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners.sum(axis=1) > 0).all(), "no black fill in the corners"


def test_strong_jpeg_loses_detail_but_keeps_the_size() -> None:
    out = apply("jpeg_strong")
    assert out.size == (W, H)
    error = np.abs(pixels(out) - pixels(photo())).mean()
    assert error > 2.0


def test_brightness_moves_the_mean_by_the_factor() -> None:
    dark = photo().point(lambda v: round(v * 0.6))  # nothing clips at ×1.6
    out = edits.brightness(dark, edits.edit_rng("c/p.jpg", "brightness", 0))
    ratio = pixels(out).mean() / pixels(dark).mean()
    assert ratio == pytest.approx(1.6, rel=0.02) or ratio == pytest.approx(1 / 1.6, rel=0.02)


def test_contrast_halves_the_spread() -> None:
    def grey(img: Image.Image) -> np.ndarray:
        return pixels(img.convert("L"))

    assert grey(apply("contrast")).std() == pytest.approx(0.5 * grey(photo()).std(), rel=0.05)


def test_saturation_changes_colourfulness_and_greyscale_removes_it() -> None:
    def colourfulness(img: Image.Image) -> float:
        rgb = pixels(img)
        return float((rgb.max(axis=2) - rgb.min(axis=2)).mean())

    assert abs(colourfulness(apply("saturation")) - colourfulness(photo())) > 20
    grey = pixels(apply("greyscale"))
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_aspect_stretches_one_side_by_1_4() -> None:
    out = apply("aspect")
    assert out.size in {(round(W * 1.4), H), (W, round(H * 1.4))}


@pytest.mark.parametrize(("kind", "rows", "colour"), [
    ("caption_bottom", slice(H - 40, H), 255.0),
    ("caption_top", slice(0, 20), 0.0),
])
def test_caption_bars_cover_their_rows_in_their_colour(kind: str, rows: slice, colour: float
                                                       ) -> None:
    out = pixels(apply(kind))
    bar = out[rows]
    assert (bar == colour).mean() > 0.8, "a solid bar, with some text on it"
    outside = slice(0, H - 40) if kind == "caption_bottom" else slice(30, H)
    assert np.abs(out[outside] - pixels(photo())[outside]).max() == 0


def test_watermark_is_a_see_through_band_in_the_middle_rows() -> None:
    out, source = pixels(apply("watermark")), pixels(photo())
    changed_rows = np.flatnonzero(np.abs(out - source).max(axis=(1, 2)) > 0)
    assert changed_rows.min() >= 0.2 * H - 1 and changed_rows.max() <= 0.8 * H
    assert 0.12 * H - 1 <= len(changed_rows) <= 0.25 * H + 1
    band = out[changed_rows]
    assert not np.isin(band, (0.0, 255.0)).all(), "the picture shows through"


@pytest.mark.parametrize("seed", [0, 1])
def test_border_frames_the_whole_photo(seed: int) -> None:
    out = apply("border", seed)
    width = (out.width - W) // 2
    assert width >= 0.05 * H - 1 and out.height - H == 2 * width
    edge = pixels(out)[:width].reshape(-1, 3)
    assert (edge == edge[0]).all()
    inner = out.crop((width, width, width + W, width + H))
    assert ImageChops.difference(inner, photo()).getbbox() is None


def test_combined_edits_change_size_colour_and_add_a_bar() -> None:
    cropped = apply("crop_colour_jpeg")
    assert 0.45 <= cropped.width * cropped.height / (W * H) <= 0.75
    shrunk = apply("shrink_caption_blur")
    assert shrunk.size == (W // 2, H // 2)
    bar = pixels(shrunk)[-12:-3]
    assert (bar > 200).mean() > 0.6, "the white caption bar survives the light blur"


@pytest.mark.parametrize("kind", edits.EDIT_KINDS)
def test_each_edit_depends_on_photo_edit_and_seed_only(kind: str) -> None:
    assert np.array_equal(pixels(apply(kind, 3)), pixels(apply(kind, 3)))
    assert apply(kind).mode == "RGB"


def test_edited_set_files_are_the_same_on_a_rerun(tmp_path: Path) -> None:
    source = tmp_path / "p.jpg"
    photo().save(source, quality=95)
    first = edits.make_edited_set([("c/p.jpg", source)], tmp_path / "a", seed=0)
    second = edits.make_edited_set([("c/p.jpg", source)], tmp_path / "b", seed=0)
    assert [k for _, _, k in first] == list(edits.EDIT_KINDS)
    for (a, _, _), (b, _, _) in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    other = edits.make_edited_set([("c/p.jpg", source)], tmp_path / "c", seed=1,
                                  kinds=["crop_quarter"])
    assert other[0][0].read_bytes() != first[1][0].read_bytes()


def test_the_older_generator_is_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "p.jpg"
    photo().save(source, quality=95)
    made = make_neardup_set([source], tmp_path / "nd", 1, seed=0)
    with Image.open(next(q for q, _, k in made if k == "crop")) as crop:
        crop_width = crop.width
    rng = random.Random("0:0:crop")
    area, ratio = rng.uniform(0.5, 0.7), rng.uniform(0.85, 1.15)
    width = round(W * min(1.0, area**0.5 * ratio))
    assert [k for _, _, k in made] == list(KINDS) and crop_width == width


def test_class_map_at_depth_counts_only_the_first_neighbours() -> None:
    vectors = np.eye(4, dtype=np.float32)[[0, 0, 1, 1, 2]] + 0.01
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    mean_ap, p1 = map_and_precision_at(vectors, ["a", "a", "b", "b", "c"], depth=4, k=1)
    assert p1 == pytest.approx(4 / 5)
    assert mean_ap == pytest.approx(4 / 5)  # the lone "c" has no relevant photo: AP 0
    shuffled = np.eye(5, dtype=np.float32)
    mean_ap, _ = map_and_precision_at(shuffled, ["a", "a", "b", "b", "c"], depth=1)
    assert mean_ap < 0.5


def test_duplicate_recall_needs_the_copy_in_its_originals_group() -> None:
    copies = [Copy("c1", "o1", "blur"), Copy("c2", "o1", "border"), Copy("c3", "o2", "blur")]
    groups = [{"o1", "c1"}, {"c2", "c3"}]
    found = grouped_with_original(groups, copies)
    assert found == {"blur": [True, False], "border": [False]}
    precision, recall, pairs = pair_scores(groups, truth_pairs(copies),
                                           {"c1": "o1", "c2": "o1", "c3": "o2"})
    assert (precision, recall, pairs) == (0.5, 1 / 4, 2)
