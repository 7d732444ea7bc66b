"""Deterministic near-duplicates of photos (crops, rotations, re-encodes, edits) for
measuring retrieval: used by `photofinder compare` and the benchmarks.

Each kind of change is a named function ``(image, rng) -> image``; :data:`TRANSFORMS` maps
the kind name to it. :func:`make_neardup_set` applies every kind to each of a seeded sample
of originals and writes the results as JPEG files (quality :data:`SAVE_QUALITY`).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Transform = Callable[[Image.Image, random.Random], Image.Image]

SAVE_QUALITY = 90

_WORDS = (
    "summer", "holiday", "best", "day", "ever", "with", "friends", "family", "trip",
    "look", "at", "this", "amazing", "view", "happy", "birthday", "weekend", "memories",
    "2019", "2023", "lol", "wow", "love", "it", "new", "old", "home", "road",
)  # fmt: skip


def crop(img: Image.Image, rng: random.Random) -> Image.Image:
    """Keep a random 50–70 % of the area (aspect jitter ±15 %) at a random position."""
    w, h = img.size
    area = rng.uniform(0.5, 0.7)
    ratio = rng.uniform(0.85, 1.15)
    fw = min(1.0, math.sqrt(area) * ratio)
    fh = min(1.0, area / fw)
    cw, ch = max(1, round(w * fw)), max(1, round(h * fh))
    left = rng.randint(0, w - cw)
    top = rng.randint(0, h - ch)
    return img.crop((left, top, left + cw, top + ch))


def rotate90(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rotate by 90° clockwise or counter-clockwise (a photo saved without EXIF fix-up)."""
    op = rng.choice((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270))
    return img.transpose(op)


def _inscribed_size(w: int, h: int, angle_rad: float) -> tuple[float, float]:
    """Largest axis-aligned rectangle inside a ``w``×``h`` rectangle rotated by the angle."""
    long_side, short_side = (w, h) if w >= h else (h, w)
    sin_a, cos_a = abs(math.sin(angle_rad)), abs(math.cos(angle_rad))
    if short_side <= 2.0 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * short_side
        return (x / sin_a, x / cos_a) if w >= h else (x / cos_a, x / sin_a)
    cos_2a = cos_a * cos_a - sin_a * sin_a
    return (w * cos_a - h * sin_a) / cos_2a, (h * cos_a - w * sin_a) / cos_2a


def rotate_small(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rotate by ±5–15° and crop to the largest inscribed rectangle (no fill borders)."""
    angle = rng.uniform(5.0, 15.0) * rng.choice((-1.0, 1.0))
    w, h = img.size
    rotated = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    iw, ih = _inscribed_size(w, h, math.radians(angle))
    rw, rh = rotated.size
    iw, ih = max(1.0, math.floor(iw)), max(1.0, math.floor(ih))
    left, top = (rw - iw) / 2.0, (rh - ih) / 2.0
    return rotated.crop((round(left), round(top), round(left + iw), round(top + ih)))


def mirror(img: Image.Image, rng: random.Random) -> Image.Image:
    """Horizontal flip."""
    del rng
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def jpeg(img: Image.Image, rng: random.Random) -> Image.Image:
    """Re-encode as JPEG at quality 10–20 (returned decoded, artefacts baked in)."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=rng.randint(10, 20))
    buf.seek(0)
    with Image.open(buf) as decoded:
        return decoded.convert("RGB")


def scale(img: Image.Image, rng: random.Random) -> Image.Image:
    """Downscale each side to 25–40 % of its size."""
    factor = rng.uniform(0.25, 0.40)
    w, h = img.size
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return img.resize(size, Image.Resampling.BICUBIC)


def _factor(rng: random.Random, low: float, high: float) -> float:
    """A multiplicative change of magnitude in [low, high], randomly up or down."""
    magnitude = rng.uniform(low, high)
    return 1.0 + magnitude if rng.random() < 0.5 else 1.0 / (1.0 + magnitude)


def color(img: Image.Image, rng: random.Random) -> Image.Image:
    """Hue shift ±8–20/256 of the circle, then saturation, brightness and contrast changes."""
    hsv = img.convert("HSV")
    hue, sat, val = hsv.split()
    shift = rng.randint(8, 20) * rng.choice((-1, 1))
    hue = hue.point(lambda v: (v + shift) % 256)
    out = Image.merge("HSV", (hue, sat, val)).convert("RGB")
    out = ImageEnhance.Color(out).enhance(_factor(rng, 0.3, 0.7))
    out = ImageEnhance.Brightness(out).enhance(_factor(rng, 0.1, 0.3))
    return ImageEnhance.Contrast(out).enhance(_factor(rng, 0.1, 0.3))


def caption(img: Image.Image, rng: random.Random) -> Image.Image:
    """Cover the top or bottom 10–15 % with a solid bar carrying a line of text."""
    out = img.copy()
    w, h = out.size
    bar_h = max(1, round(h * rng.uniform(0.10, 0.15)))
    top = 0 if rng.random() < 0.5 else h - bar_h
    dark = rng.random() < 0.5
    bar_colour = (0, 0, 0) if dark else (255, 255, 255)
    text_colour = (255, 255, 255) if dark else (0, 0, 0)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, top, w, top + bar_h - 1), fill=bar_colour)
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 5)))
    font = ImageFont.load_default(size=max(6, round(bar_h * 0.6)))
    draw.text((w / 2, top + bar_h / 2), text, fill=text_colour, font=font, anchor="mm")
    return out


TRANSFORMS: dict[str, Transform] = {
    "crop": crop,
    "rotate90": rotate90,
    "rotate_small": rotate_small,
    "mirror": mirror,
    "jpeg": jpeg,
    "scale": scale,
    "color": color,
    "caption": caption,
}
KINDS: tuple[str, ...] = tuple(TRANSFORMS)


def load_original(path: Path) -> Image.Image:
    """Full-resolution decode with EXIF orientation applied, as RGB."""
    with Image.open(path) as img:
        return ImageOps.exif_transpose(img).convert("RGB")


def make_neardup_set(
    originals: list[Path],
    out_dir: Path,
    n_originals: int,
    seed: int,
    kinds: Sequence[str] = KINDS,
) -> list[tuple[Path, Path, str]]:
    """Write near-duplicates of ``n_originals`` seeded picks from ``originals``.

    Every kind in ``kinds`` is applied to every picked original. Returns
    ``(query_path, original_path, kind)`` triples in a deterministic order. The same
    inputs give byte-identical files (the per-image RNG is seeded from seed, index, kind).
    """
    picked = random.Random(seed).sample(sorted(originals), min(n_originals, len(originals)))
    out_dir.mkdir(parents=True, exist_ok=True)
    result: list[tuple[Path, Path, str]] = []
    for index, original in enumerate(picked):
        base = load_original(original)
        for kind in kinds:
            rng = random.Random(f"{seed}:{index}:{kind}")
            query = TRANSFORMS[kind](base, rng)
            query_path = out_dir / f"{index:04d}_{kind}.jpg"
            query.save(query_path, format="JPEG", quality=SAVE_QUALITY)
            result.append((query_path, original, kind))
    return result
