"""Photos as the duplicate checks read them, saved in a folder for the tests."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from photofinder.core.duplicates.pair_check import PhotoSource


def saved_source(name: str, image: Image.Image, folder: Path) -> PhotoSource:
    """`image` saved as `folder/name`, with a 256-px JPEG thumbnail as the catalogue keeps."""
    image.save(folder / name, quality=92)
    thumbnail = image.copy()
    thumbnail.thumbnail((256, 256))
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=90)
    return PhotoSource(name, str(folder / name), image.size, buffer.getvalue())
