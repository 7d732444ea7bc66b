"""One robust read per photo: hash, metadata, a reduced RGB image and a thumbnail."""

from __future__ import annotations

import errno
import hashlib
import io
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from photofinder.core.errors import (
    EmptyFileError,
    FileTooLargeError,
    FileVanishedError,
    ImageTooLargeError,
    NotAnImageError,
    PermissionDeniedError,
    PhotoReadError,
    TruncatedImageError,
)

RAW_SUFFIXES = frozenset(
    {".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw"}
)
PHOTO_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif",
     ".heic", ".heif", ".hif", ".avif"}
) | RAW_SUFFIXES
MAX_FILE_BYTES = 1 << 30
MAX_PIXELS = 200_000_000
WORKING_SIDE = 256
THUMBNAIL_SIDE = 256

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
_ORIENTATION = 274
_MAKE = 271
_MODEL = 272

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


@dataclass(frozen=True)
class DecodedPhoto:
    """The result of one read: identity, metadata and pixels at working size."""

    content_hash: str
    width: int
    height: int
    format: str
    captured_at: str | None
    camera: str | None
    image: Image.Image  # RGB, EXIF-oriented, shorter side >= WORKING_SIDE when the photo allows

    def thumbnail_jpeg(self, side: int = THUMBNAIL_SIDE, quality: int = 85) -> bytes:
        thumb = self.image.copy()
        thumb.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=quality, optimize=True)
        return buffer.getvalue()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_file_bytes(path: Path) -> bytes:
    """Read a whole file once, turning OS failures into typed reasons."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileTooLargeError(str(path), f"{size / 2**20:.0f} MiB")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FileVanishedError(str(path)) from exc
    except PermissionError as exc:
        raise PermissionDeniedError(str(path)) from exc
    except IsADirectoryError as exc:
        raise NotAnImageError(str(path), "a folder") from exc
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileVanishedError(str(path)) from exc
        raise PhotoReadError(str(path), exc.strerror or str(exc)) from exc
    if not data:
        raise EmptyFileError(str(path))
    return data


def decode_file(path: Path) -> DecodedPhoto:
    return decode_bytes(read_file_bytes(path), str(path))


def decode_bytes(data: bytes, name: str = "<image>") -> DecodedPhoto:
    """Decode an image held in memory; every failure is a PhotoReadError with a reason."""
    if not data:
        raise EmptyFileError(name)
    digest = content_hash(data)
    if Path(name).suffix.lower() in RAW_SUFFIXES:
        return _decode_raw(data, name, digest)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _open(data, name)
            fmt = (image.format or "unknown").upper()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageTooLargeError(name, f"{width}×{height}")
            exif = image.getexif()
            orientation = int(exif.get(_ORIENTATION, 1) or 1)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            captured = _capture_time(exif)
            camera = _camera(exif)
            if fmt == "JPEG":
                image.draft("RGB", _draft_size(image.size))
            image.load()
            working = _to_rgb(ImageOps.exif_transpose(image))
    except PhotoReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(name, str(exc).split(".")[0]) from exc
    except UnidentifiedImageError as exc:
        raise NotAnImageError(name) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as exc:
        raise TruncatedImageError(name, str(exc) or type(exc).__name__) from exc
    working = _shrink(working)
    return DecodedPhoto(digest, width, height, fmt, captured, camera, working)


def _decode_raw(data: bytes, name: str, digest: str) -> DecodedPhoto:
    """Camera RAW through LibRaw: the embedded JPEG preview when there is one, else a
    half-size demosaic."""
    import rawpy

    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            width, height = raw.sizes.width, raw.sizes.height
            if raw.sizes.flip in (5, 6):
                width, height = height, width
            preview = _raw_preview(raw)
            if preview is None:
                preview = Image.fromarray(raw.postprocess(half_size=True, use_camera_wb=True))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise TruncatedImageError(name, f"camera RAW: {exc}") from exc
    exif = preview.getexif()
    working = _shrink(_to_rgb(ImageOps.exif_transpose(preview)))
    fmt = Path(name).suffix.lstrip(".").upper()
    return DecodedPhoto(digest, width, height, fmt, _capture_time(exif), _camera(exif), working)


def _raw_preview(raw: Any) -> Image.Image | None:
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        image = Image.open(io.BytesIO(thumb.data))
        image.draft("RGB", _draft_size(image.size))
        return image
    return Image.fromarray(thumb.data)


def _open(data: bytes, name: str) -> Image.Image:
    if _looks_like_heif(data):
        _register_heif()
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        _register_heif()
        image = Image.open(io.BytesIO(data))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    return image


def _looks_like_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in {
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"
    }


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """The request that makes DCT scaling keep the shorter side at WORKING_SIDE or more."""
    width, height = size
    scale = WORKING_SIDE / max(1, min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(image: Image.Image) -> Image.Image:
    """Keep memory small: the working copy needs no more than twice the working side."""
    limit = WORKING_SIDE * 2
    if min(image.size) > limit:
        scale = limit / min(image.size)
        new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB: 16-bit and float scaled, alpha flattened on white, CMYK converted."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or array.max() > 255 else 255.0
        if mode == "F":
            top = max(float(array.max()), 1.0) if array.max() > 1.0 else 1.0
        grey = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode != "RGB":
        return image.convert("RGB")
    return image


def _capture_time(exif: Image.Exif) -> str | None:
    """EXIF DateTimeOriginal (or DateTime) as ISO 8601, None when absent or malformed."""
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _camera(exif: Image.Exif) -> str | None:
    """EXIF make and model, e.g. "Apple iPhone 13"; the make is dropped when the model has it."""
    make = str(exif.get(_MAKE) or "").strip("\x00 ")
    model = str(exif.get(_MODEL) or "").strip("\x00 ")
    if model.lower().startswith(make.lower().split(" ")[0]) and make:
        make = ""
    return " ".join(part for part in (make, model) if part) or None


def is_photo_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in PHOTO_SUFFIXES
