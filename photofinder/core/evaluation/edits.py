"""Every family of edit people make to a photo, for an honest copy-detection protocol
(`benchmarks.heldout`): strong crops, blur, downscale, rotations, mirror, strong JPEG, colour,
aspect changes, caption and watermark bars, borders, and combinations.

Each family is a named function ``(image, rng) -> image``; :data:`EDITS` maps the name to it.
:func:`make_edited_set` applies families to originals and writes JPEG files (quality
:data:`SAVE_QUALITY`); each result depends only on (the photo's name, the family, the seed).
The older, milder generator (`neardup`) stays as it is: its benchmarks rely on its output.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from photofinder.core.evaluation.neardup import load_original, rotate_small

Edit = Callable[[Image.Image, random.Random], Image.Image]
Colour = tuple[int, int, int]

SAVE_QUALITY = 90
BLUR_RADIUS_AT_300PX = 3.0  # Gaussian radius for a photo whose short side is 300 px
STRONG_JPEG_QUALITY = (8, 15)
ASPECT_STRETCH = 1.4
BRIGHTNESS_FACTOR = 1.6
CONTRAST_FACTOR = 0.5
SATURATION_FACTORS = (0.3, 2.0)

_WORDS = (
    "summer", "holiday", "best", "day", "ever", "with", "friends", "family", "trip",
    "look", "at", "this", "amazing", "view", "happy", "birthday", "weekend", "memories",
    "2019", "2023", "lol", "wow", "love", "it", "new", "old", "home", "road",
)  # fmt: skip


def crop_to_area(img: Image.Image, rng: random.Random, area: float) -> Image.Image:
    """Keep ``area`` of the picture (aspect jitter ±15 %) at a random position."""
    w, h = img.size
    ratio = rng.uniform(0.85, 1.15)
    fw = min(1.0, math.sqrt(area) * ratio)
    fh = min(1.0, area / fw)
    fw = min(1.0, area / fh)
    cw, ch = max(1, round(w * fw)), max(1, round(h * fh))
    left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((left, top, left + cw, top + ch))


def crop_half(img: Image.Image, rng: random.Random) -> Image.Image:
    """Keep half of the area."""
    return crop_to_area(img, rng, 0.5)


def crop_quarter(img: Image.Image, rng: random.Random) -> Image.Image:
    """Keep a quarter of the area."""
    return crop_to_area(img, rng, 0.25)


def blur(img: Image.Image, rng: random.Random) -> Image.Image:
    """Strong Gaussian blur: radius 3 at 300 px on the short side, in proportion otherwise."""
    del rng
    radius = BLUR_RADIUS_AT_300PX * min(img.size) / 300.0
    return img.filter(ImageFilter.GaussianBlur(radius))


def downscale_quarter(img: Image.Image, rng: random.Random) -> Image.Image:
    """Each side to a quarter of its length."""
    del rng
    w, h = img.size
    return img.resize((max(1, round(w / 4)), max(1, round(h / 4))), Image.Resampling.BICUBIC)


def rotate90(img: Image.Image, rng: random.Random) -> Image.Image:
    """A quarter turn, clockwise or counter-clockwise."""
    return img.transpose(rng.choice((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)))


def rotate180(img: Image.Image, rng: random.Random) -> Image.Image:
    """Upside down."""
    del rng
    return img.transpose(Image.Transpose.ROTATE_180)


def mirror(img: Image.Image, rng: random.Random) -> Image.Image:
    """Left and right swapped."""
    del rng
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def reencode(img: Image.Image, quality: int) -> Image.Image:
    """The image after a JPEG round trip at ``quality``."""
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def jpeg_strong(img: Image.Image, rng: random.Random) -> Image.Image:
    """Re-encoded at JPEG quality 8–15."""
    return reencode(img, rng.randint(*STRONG_JPEG_QUALITY))


def brightness(img: Image.Image, rng: random.Random) -> Image.Image:
    """Brightness ×1.6 or ÷1.6."""
    factor = BRIGHTNESS_FACTOR if rng.random() < 0.5 else 1.0 / BRIGHTNESS_FACTOR
    return ImageEnhance.Brightness(img).enhance(factor)


def contrast(img: Image.Image, rng: random.Random) -> Image.Image:
    """Contrast halved."""
    del rng
    return ImageEnhance.Contrast(img).enhance(CONTRAST_FACTOR)


def saturation(img: Image.Image, rng: random.Random) -> Image.Image:
    """Saturation ×0.3 or ×2."""
    return ImageEnhance.Color(img).enhance(rng.choice(SATURATION_FACTORS))


def greyscale(img: Image.Image, rng: random.Random) -> Image.Image:
    """Black and white (stored as RGB)."""
    del rng
    return img.convert("L").convert("RGB")


def aspect(img: Image.Image, rng: random.Random) -> Image.Image:
    """Width or height stretched by 1.4 (a photo squeezed into another frame)."""
    w, h = img.size
    if rng.random() < 0.5:
        return img.resize((round(w * ASPECT_STRETCH), h), Image.Resampling.BICUBIC)
    return img.resize((w, round(h * ASPECT_STRETCH)), Image.Resampling.BICUBIC)


def _words(rng: random.Random) -> str:
    """A short caption."""
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 5)))


def bar(img: Image.Image, rng: random.Random, top: int, height: int, fill: Colour) -> Image.Image:
    """A solid bar of ``height`` rows from row ``top``, carrying a line of text."""
    out = img.copy()
    w = out.width
    ink = (0, 0, 0) if sum(fill) > 3 * 128 else (255, 255, 255)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, top, w - 1, top + height - 1), fill=fill)
    font = ImageFont.load_default(size=max(6, round(height * 0.6)))
    draw.text((w / 2, top + height / 2), _words(rng), fill=ink, font=font, anchor="mm")
    return out


def caption_bottom(img: Image.Image, rng: random.Random) -> Image.Image:
    """A white caption bar over the bottom fifth."""
    height = max(1, round(img.height * 0.2))
    return bar(img, rng, img.height - height, height, (255, 255, 255))


def caption_top(img: Image.Image, rng: random.Random) -> Image.Image:
    """A black caption bar over the top 10–15 %."""
    height = max(1, round(img.height * rng.uniform(0.10, 0.15)))
    return bar(img, rng, 0, height, (0, 0, 0))


def watermark(img: Image.Image, rng: random.Random) -> Image.Image:
    """A half-transparent band of 12–25 % of the height with text, anywhere from the top
    third to the bottom third."""
    height = max(1, round(img.height * rng.uniform(0.12, 0.25)))
    top = rng.randint(round(img.height * 0.2), max(0, round(img.height * 0.8) - height))
    fill = rng.choice(((255, 255, 255), (0, 0, 0)))
    opaque = bar(img, rng, top, height, fill)
    return Image.blend(img, opaque, 0.5)


def border(img: Image.Image, rng: random.Random) -> Image.Image:
    """A solid frame around the photo, 5–12 % of the short side wide."""
    width = max(1, round(min(img.size) * rng.uniform(0.05, 0.12)))
    fill = rng.choice(((255, 255, 255), (0, 0, 0), (128, 96, 64)))
    return ImageOps.expand(img, border=width, fill=fill)


def crop_colour_jpeg(img: Image.Image, rng: random.Random) -> Image.Image:
    """Half-to-0.7 area crop, brighter or darker and more or less saturated, JPEG q25–40."""
    out = crop_to_area(img, rng, rng.uniform(0.5, 0.7))
    out = ImageEnhance.Brightness(out).enhance(rng.choice((0.75, 1.3)))
    out = ImageEnhance.Color(out).enhance(rng.choice((0.6, 1.5)))
    return reencode(out, rng.randint(25, 40))


def shrink_caption_blur(img: Image.Image, rng: random.Random) -> Image.Image:
    """Sides halved, a caption bar of 15 % at the bottom, a light blur (radius 1 at 300 px)."""
    w, h = img.size
    out = img.resize((max(1, round(w / 2)), max(1, round(h / 2))), Image.Resampling.BICUBIC)
    height = max(1, round(out.height * 0.15))
    out = bar(out, rng, out.height - height, height, (255, 255, 255))
    return out.filter(ImageFilter.GaussianBlur(min(img.size) / 300.0))


EDITS: dict[str, Edit] = {
    "crop_half": crop_half,
    "crop_quarter": crop_quarter,
    "blur": blur,
    "downscale_quarter": downscale_quarter,
    "rotate90": rotate90,
    "rotate180": rotate180,
    "rotate_small": rotate_small,
    "mirror": mirror,
    "jpeg_strong": jpeg_strong,
    "brightness": brightness,
    "contrast": contrast,
    "saturation": saturation,
    "greyscale": greyscale,
    "aspect": aspect,
    "caption_bottom": caption_bottom,
    "caption_top": caption_top,
    "watermark": watermark,
    "border": border,
    "crop_colour_jpeg": crop_colour_jpeg,
    "shrink_caption_blur": shrink_caption_blur,
}
EDIT_KINDS: tuple[str, ...] = tuple(EDITS)


def edit_rng(name: str, kind: str, seed: int) -> random.Random:
    """The random source of one edit of one photo: a function of those three only."""
    return random.Random(f"{seed}:{name}:{kind}")


def make_edited_set(
    originals: Sequence[tuple[str, Path]],
    out_dir: Path,
    seed: int,
    kinds: Sequence[str] = EDIT_KINDS,
) -> list[tuple[Path, Path, str]]:
    """Write every kind of edit of every ``(name, path)`` original into ``out_dir``.

    ``name`` identifies the photo (e.g. ``class/file.jpg``) and seeds its edits. Returns
    ``(copy_path, original_path, kind)`` in the order of ``originals`` then ``kinds``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result: list[tuple[Path, Path, str]] = []
    for number, (name, path) in enumerate(originals):
        base = load_original(path)
        for kind in kinds:
            edited = EDITS[kind](base, edit_rng(name, kind, seed))
            copy_path = out_dir / f"{number:04d}_{kind}.jpg"
            edited.save(copy_path, format="JPEG", quality=SAVE_QUALITY)
            result.append((copy_path, path, kind))
    return result
