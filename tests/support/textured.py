"""Generated photos with texture (many corners and blobs) for keypoint tests: distinct per
seed, deterministic. `tests.support.photos.scene` is too smooth for keypoint detectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def textured(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """Overlapping random rectangles, ellipses, polygons and lines over a colour gradient."""
    rng = np.random.default_rng(10_000 + seed)
    width, height = size
    base = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    image = Image.fromarray(base, "RGB").resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(220):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        extent = float(rng.uniform(0.01, 0.12)) * max(size)
        box = (x, y, x + extent * float(rng.uniform(0.3, 1.0)), y + extent)
        shape = int(rng.integers(0, 4))
        if shape == 0:
            draw.rectangle(box, fill=colour)
        elif shape == 1:
            draw.ellipse(box, fill=colour)
        elif shape == 2:
            points = [(x + float(dx), y + float(dy))
                      for dx, dy in rng.uniform(-extent, extent, (5, 2))]
            draw.polygon(points, fill=colour)
        else:
            end = (x + float(rng.uniform(-extent, extent)), y + float(rng.uniform(-extent, extent)))
            draw.line([(x, y), end], fill=colour, width=int(rng.integers(1, 6)))
    return image.filter(ImageFilter.GaussianBlur(0.7))


def write_textured(path: Path, seed: int, size: tuple[int, int] = (800, 600)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    textured(seed, size).save(path, "JPEG", quality=90)
    return path


def save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, "JPEG", quality=90)
    return path
