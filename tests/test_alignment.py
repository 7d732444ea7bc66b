"""The photometric check of a match: a moved subject is another shot, an edit in the margins
is not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageEnhance

from photofinder.core.duplicates.alignment import MIN_AGREEMENT, AlignView, agreement
from tests.support.textured import textured


def view(image: Image.Image) -> AlignView:
    return AlignView.of(image, image.size)


def resize(a: Image.Image, b: Image.Image) -> npt.NDArray[np.float64]:
    return np.diag([b.width / a.width, b.height / a.height, 1.0])


def both_ways(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    return agreement(view(a), view(b), resize(a, b)), agreement(view(b), view(a), resize(b, a))


def test_a_subject_reaching_in_from_the_border_is_another_shot() -> None:
    original = textured(4, (640, 480))
    other_shot = original.copy()  # someone stepped in: new content from the bottom edge up
    other_shot.paste(textured(9, (130, 260)), (250, 220))
    assert both_ways(original, other_shot) == (0.0, 0.0)


def test_edits_in_the_margins_are_the_same_photo() -> None:
    original = textured(4, (640, 480))
    stamped = original.copy()  # a caption box near the top, not touching the border
    draw = ImageDraw.Draw(stamped)
    draw.rectangle((110, 42, 530, 78), fill="white")
    draw.text((320, 60), "Holiday 2026 — the lake", fill="black", anchor="mm", font_size=28)
    assert min(both_ways(original, stamped)) >= MIN_AGREEMENT


def test_a_brightened_copy_whose_faint_sky_clips_to_white_is_the_same_photo() -> None:
    ground = np.asarray(textured(4, (480, 640)), np.float64)
    rows, cols = np.mgrid[0:320, 0:480]
    sky = 215 + 25 * rows / 320 + 6 * np.sin(cols / 9) * np.sin(rows / 11)  # faint clouds
    pixels = ground.copy()
    pixels[:320] = sky[..., None]
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    brightened = ImageEnhance.Brightness(photo).enhance(1.25)  # the sky clips to flat white
    assert min(both_ways(photo, brightened)) >= MIN_AGREEMENT


def banner(photo: Image.Image, top: int, height: int, text: str) -> Image.Image:
    """A white banner with a line of text, blended half into the photo (a watermark)."""
    opaque = photo.copy()
    draw = ImageDraw.Draw(opaque)
    draw.rectangle((0, top, photo.width, top + height), fill="white")
    draw.text((photo.width / 2, top + height / 2), text, fill="black", anchor="mm",
              font_size=round(height * 0.6))
    return Image.blend(photo, opaque, 0.5)


def test_a_watermark_band_across_the_middle_is_the_same_photo() -> None:
    original = textured(4, (640, 480))
    marked = banner(original, 200, 90, "summer holiday best day ever")
    assert min(both_ways(original, marked)) >= MIN_AGREEMENT


def test_a_caption_bar_over_the_bottom_fifth_is_the_same_photo() -> None:
    original = textured(5, (640, 480))
    captioned = original.copy()
    draw = ImageDraw.Draw(captioned)
    draw.rectangle((0, 384, 640, 480), fill="white")
    draw.text((320, 432), "happy birthday", fill="black", anchor="mm", font_size=58)
    assert min(both_ways(original, captioned)) >= MIN_AGREEMENT


def test_a_crop_keeping_a_quarter_lines_up_with_its_original() -> None:
    original = textured(6, (640, 480))
    crop = original.crop((310, 205, 610, 430))  # a little under a quarter of the area
    into = np.array([[1.0, 0.0, -310.0], [0.0, 1.0, -205.0], [0.0, 0.0, 1.0]])
    there = agreement(view(original), view(crop), into)
    back = agreement(view(crop), view(original), np.linalg.inv(into))
    assert min(there, back) >= MIN_AGREEMENT


def test_another_shot_stays_another_shot_under_a_banner() -> None:
    original = textured(4, (640, 480))
    other_shot = original.copy()
    other_shot.paste(textured(9, (130, 200)), (250, 40))  # a subject moved, above the band
    marked = banner(other_shot, 300, 80, "best day ever")
    assert both_ways(original, marked) == (0.0, 0.0)
