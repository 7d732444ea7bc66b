"""One read per photo: formats, orientation, odd modes and every kind of bad file."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from photofinder.core.errors import (
    EmptyFileError,
    FileVanishedError,
    ImageTooLargeError,
    NotAnImageError,
    PermissionDeniedError,
    TruncatedImageError,
)
from photofinder.core.photos import imageio
from photofinder.core.photos.imageio import content_hash, decode_bytes, decode_file
from tests.support.photos import jpeg_bytes, scene, write_jpeg


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def mean_colour(image: Image.Image) -> tuple[float, float, float]:
    red, green, blue = np.asarray(image, np.float64).reshape(-1, 3).mean(axis=0)
    return float(red), float(green), float(blue)


def test_large_jpeg_decodes_reduced_with_full_size_metadata() -> None:
    data = jpeg_bytes(1, (4000, 3000))
    photo = decode_bytes(data, "big.jpg")
    assert (photo.width, photo.height) == (4000, 3000)
    assert photo.format == "JPEG"
    assert min(photo.image.size) >= imageio.WORKING_SIDE
    assert max(photo.image.size) <= 4 * imageio.WORKING_SIDE
    assert photo.content_hash == content_hash(data)


def test_exif_orientation_is_applied() -> None:
    wide = Image.new("RGB", (600, 300), (200, 30, 30))
    exif = Image.Exif()
    exif[274] = 6  # rotate 90° clockwise to display
    exif.get_ifd(0x8769)[36867] = "2021:07:04 10:11:12"
    photo = decode_bytes(encode(wide, "JPEG", exif=exif), "rotated.jpg")
    assert (photo.width, photo.height) == (300, 600)
    assert photo.image.height > photo.image.width
    assert photo.captured_at == "2021-07-04T10:11:12"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "BMP", "GIF", "AVIF"])
def test_common_formats(fmt: str) -> None:
    image = Image.new("RGB", (320, 240), (10, 120, 240))
    photo = decode_bytes(encode(image, fmt), f"x.{fmt.lower()}")
    assert photo.format == fmt
    assert photo.image.mode == "RGB"
    assert np.allclose(mean_colour(photo.image), (10, 120, 240), atol=8)


def test_heic() -> None:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(scene(3, (320, 240))).save(buffer, quality=90)
    photo = decode_bytes(buffer.getvalue(), "phone.heic")
    assert photo.format == "HEIF"
    assert (photo.width, photo.height) == (320, 240)


def test_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (100, 100), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    photo = decode_bytes(buffer.getvalue(), "anim.gif")
    red, _, blue = mean_colour(photo.image)
    assert red > 200 and blue < 50


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (256, 1))
    photo = decode_bytes(encode(Image.fromarray(ramp), "PNG"), "deep.png")
    pixels = np.asarray(photo.image)
    assert pixels[0, 0, 0] < 5 and pixels[0, -1, 0] > 250
    assert 100 < pixels[0, 128, 0] < 156  # mid-grey stays mid-grey


def test_cmyk_jpeg_comes_out_rgb() -> None:
    cmyk = Image.new("CMYK", (200, 200), (0, 255, 255, 0))  # pure red in CMYK
    photo = decode_bytes(encode(cmyk, "JPEG"), "print.jpg")
    red, green, blue = mean_colour(photo.image)
    assert red > 200 and green < 60 and blue < 60


def test_transparency_is_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    palette = rgba.convert("P")
    palette.info["transparency"] = 0
    for image in (rgba, palette):
        photo = decode_bytes(encode(image, "PNG"), "clear.png")
        assert min(mean_colour(photo.image)) > 250


def test_mislabelled_file_is_read_by_content(tmp_path: Path) -> None:
    path = tmp_path / "actually_png.jpg"
    path.write_bytes(encode(Image.new("RGB", (64, 64), (0, 255, 0)), "PNG"))
    assert decode_file(path).format == "PNG"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyFileError),
        (b"this is a text file, not a photo", NotAnImageError),
        (jpeg_bytes(5)[:3000], TruncatedImageError),
    ],
)
def test_bad_files_raise_typed_errors_with_reasons(
    tmp_path: Path, content: bytes, error: type[Exception]
) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        decode_file(path)
    assert str(path) in str(caught.value)


def test_pixel_limit_guards_against_decompression_bombs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imageio, "MAX_PIXELS", 100 * 100)
    with pytest.raises(ImageTooLargeError, match="200×200"):
        decode_bytes(encode(Image.new("RGB", (200, 200)), "PNG"), "bomb.png")


def test_vanished_and_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileVanishedError):
        decode_file(tmp_path / "gone.jpg")
    locked = write_jpeg(tmp_path / "locked.jpg", 1)

    real_open = os.open

    def refuse(path: Path, *args: Any, **kwargs: Any) -> int:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # tests run as root, who reads anything
    with pytest.raises(PermissionDeniedError, match="permission denied"):
        decode_file(locked)


def test_thumbnail_is_small_jpeg() -> None:
    photo = decode_bytes(jpeg_bytes(2, (1600, 1200)), "t.jpg")
    thumb = Image.open(io.BytesIO(photo.thumbnail_jpeg()))
    assert thumb.format == "JPEG" and max(thumb.size) == imageio.THUMBNAIL_SIDE


def test_camera_raw_is_read(tmp_path: Path) -> None:
    import tifffile

    mosaic = (np.random.default_rng(0).random((200, 300, 3)) * 4000).astype(np.uint16)
    dng_tags = [(50706, "B", 4, (1, 4, 0, 0), True), (50708, "s", 0, "Test Camera", True)]
    path = tmp_path / "IMG_0001.DNG"
    tifffile.imwrite(path, mosaic, photometric=34892, extratags=dng_tags)
    photo = decode_file(path)
    assert (photo.format, photo.width, photo.height) == ("DNG", 300, 200)
    assert photo.image.mode == "RGB" and photo.image.size == (300, 200)


def test_broken_raw_has_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.nef"
    path.write_bytes(b"not really a nikon file" * 10)
    with pytest.raises(TruncatedImageError, match="camera RAW"):
        decode_file(path)


def test_camera_make_and_model() -> None:
    exif = Image.Exif()
    exif[271], exif[272] = "Canon", "Canon EOS 5D"
    photo = decode_bytes(encode(scene(1, (64, 48)), "JPEG", exif=exif), "c.jpg")
    assert photo.camera == "Canon EOS 5D"
