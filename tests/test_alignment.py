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
