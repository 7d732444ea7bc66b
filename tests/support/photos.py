"""Generated test photos: distinct, deterministic, in any format a test needs."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth, photo-like picture (blurred blobs of colour) that differs for each seed."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small, "RGB").resize(size, Image.Resampling.BICUBIC)
    pixels = np.asarray(image).astype(np.int16)
    noise = rng.integers(-6, 7, pixels.shape, dtype=np.int16)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), "RGB")


def write_jpeg(path: Path, seed: int, size: tuple[int, int] = (640, 480), **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(seed, size).save(path, "JPEG", quality=90, **save)
    return path


def jpeg_bytes(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    scene(seed, size).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_library(folder: Path, count: int, start_seed: int = 0) -> list[Path]:
    return [write_jpeg(folder / f"photo_{i:03d}.jpg", start_seed + i) for i in range(count)]


def make_library_with_copies(folder: Path) -> Path:
    """Eight photos, an identical file of the first, a smaller copy of the second and a
    medium, more compressed copy of the third."""
    make_library(folder, 8)
    shutil.copy(folder / "photo_000.jpg", folder / "exact_copy.jpg")
    scene(1, (640, 480)).resize((320, 240)).save(folder / "small_copy.jpg", quality=80)
    scene(2, (640, 480)).resize((480, 360)).save(folder / "medium_copy.jpg", quality=70)
    return folder
