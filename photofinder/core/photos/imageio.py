"""One robust read per photo: hash, metadata, a reduced RGB image and a thumbnail."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from photofinder.core.errors import (
    EmptyFileError,
    FileReadError,
    FileTooLargeError,
    FileVanishedError,
    ImageTooLargeError,
    NotAnImageError,
    NotARegularFileError,
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
# Pillow warns above MAX_IMAGE_PIXELS (turned into an error below) and refuses above twice that.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
WORKING_SIDE = 256
THUMBNAIL_SIDE = 256

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
_ORIENTATION = 274
_MAKE = 271
_MODEL = 272

# Never block on a FIFO, never follow a final symbolic link (Windows has neither flag, and
# needs O_BINARY for bytes as they are).
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)
_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"
_RESTART_MARKERS = frozenset(bytes((0xFF, 0xD0 + n)) for n in range(8))
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_FRAME_MARKERS = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC),
                            *range(0xCD, 0xD0)})
# Entropy-coded bits (no 0xFF byte, so no marker) unlike the zero bits libjpeg puts in place
# of missing data (any one of them can decode to the same pixels as zeros, rarely all three);
# a complete scan never reads them.
_FILLERS = (
    hashlib.sha512(b"photofinder filler").digest().replace(b"\xff", b"\x7f"),
    b"\xaa" * 64,
    b"\x55" * 64,
)

_FILE_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISDIR, "folder"),
)

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
    """Read a whole regular file once, turning OS failures into typed reasons.

    Anything but a regular file (a FIFO, a device, a symbolic link) is refused before it is
    opened, and again on the open descriptor, so a file swapped in between cannot block."""
    try:
        _require_regular_file(path, os.lstat(path))
        descriptor = os.open(path, _OPEN_FLAGS)
        try:
            info = os.fstat(descriptor)
            _require_regular_file(path, info)
            if info.st_size > MAX_FILE_BYTES:
                raise FileTooLargeError(str(path), f"{info.st_size / 2**20:.0f} MiB")
            with io.FileIO(descriptor, "rb", closefd=False) as file:
                data = file.readall()
        finally:
            os.close(descriptor)
    except FileNotFoundError as exc:
        raise FileVanishedError(str(path)) from exc
    except PermissionError as exc:
        raise PermissionDeniedError(str(path)) from exc
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileVanishedError(str(path)) from exc
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link swapped in after the lstat
            raise NotARegularFileError(str(path), "symbolic link") from exc
        raise FileReadError(str(path), exc.strerror or str(exc)) from exc
    if not data:
        raise EmptyFileError(str(path))
    return data


def _require_regular_file(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise NotAnImageError(str(path), "a folder")
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFileError(str(path), file_kind(info.st_mode))


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
        return _decode_pillow(data, name, digest)
    except TruncatedImageError:
        if not _lacks_only_end_marker(data):
            raise
    return _decode_pillow(data + _JPEG_END, name, digest)


def _decode_pillow(data: bytes, name: str, digest: str) -> DecodedPhoto:
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


def _lacks_only_end_marker(data: bytes) -> bool:
    """A JPEG whose image data is whole and only the 2-byte end marker (FFD9) is missing.

    Every scan must be there, and the last one whole: Pillow decodes a JPEG cut anywhere
    once an end marker is appended (the lost part turns grey), so the last scan counts as
    whole only when filler bits put before the marker change no pixel; a complete scan
    never reads them, a cut one decodes them as image data."""
    if not data.startswith(_JPEG_START) or data.endswith(_JPEG_END):
        return False
    scans = _JpegScans.read(data)
    if not scans.complete() or data[-2:] in _RESTART_MARKERS:
        return False
    # A final 0xFF would make the filler's first byte a marker: 00 stuffs it as image data.
    stuffing = b"\x00" if data.endswith(b"\xff") else b""
    leads = [stuffing]
    if scans.restart_interval:  # a cut between two intervals must go on into the next one
        leads.append(stuffing + bytes((0xFF, 0xD0 + scans.restarts_in_last % 8)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            marked = _pixel_digest(data + _JPEG_END)
            return all(
                marked == _pixel_digest(data + lead + filler + _JPEG_END)
                for lead in leads
                for filler in _FILLERS
            )
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        return False


@dataclass
class _JpegScans:
    """Which coefficient bits the scans of a JPEG carry, and the restarts of its last scan."""

    components: set[int] = field(default_factory=set)
    # (component, coefficient) -> the lowest successive-approximation bit a scan carried
    lowest_bit: dict[tuple[int, int], int] = field(default_factory=dict)
    restart_interval: int = 0
    restarts_in_last: int = 0

    @classmethod
    def read(cls, data: bytes) -> _JpegScans:
        scans, position, interval = cls(), 2, 0
        while position + 4 <= len(data) and data[position] == 0xFF:
            marker = data[position + 1]
            if marker == 0xFF or marker in _STANDALONE_MARKERS:
                position += 1 if marker == 0xFF else 2
                continue
            end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
            if end > len(data):
                break  # a segment cut short
            segment = data[position + 4 : end]
            if marker == 0xDD:  # DRI: the restart interval of the scans that follow
                interval = int.from_bytes(segment[:2], "big")
            elif marker in _FRAME_MARKERS:
                scans.components = {segment[6 + 3 * i] for i in range(segment[5])}
            elif marker == 0xDA:
                scans._add_scan(segment, interval)
                end, scans.restarts_in_last = _skip_scan_data(data, end)
            position = end
        return scans

    def _add_scan(self, header: bytes, interval: int) -> None:
        count = header[0]
        first, last, bits = header[1 + 2 * count : 4 + 2 * count]
        for component in header[1 : 1 + 2 * count : 2]:
            for coefficient in range(first, last + 1):
                key = (component, coefficient)
                self.lowest_bit[key] = min(self.lowest_bit.get(key, 99), bits & 0x0F)
        self.restart_interval = interval

    def complete(self) -> bool:
        """Whether every coefficient of every component is there to its last bit."""
        return bool(self.components) and all(
            self.lowest_bit.get((component, coefficient)) == 0
            for component in self.components
            for coefficient in range(64)
        )


def _skip_scan_data(data: bytes, position: int) -> tuple[int, int]:
    """Where the entropy-coded data starting at `position` ends, and its restart markers."""
    restarts = 0
    while (found := data.find(b"\xff", position)) != -1 and found + 1 < len(data):
        follower = data[found + 1]
        if follower == 0xFF:  # fill byte
            position = found + 1
        elif follower == 0x00 or data[found : found + 2] in _RESTART_MARKERS:
            restarts += follower != 0x00
            position = found + 2
        else:
            return found, restarts
    return len(data), restarts


def _pixel_digest(data: bytes) -> str:
    """A hash of the pixels of an image decoded at full size."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return content_hash(image.tobytes())


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


def file_kind(mode: int) -> str:
    """The type of a file that is not a regular file, in words ("FIFO", "socket")."""
    return next((name for test, name in _FILE_KINDS if test(mode)), "unknown file type")


def is_photo_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in PHOTO_SUFFIXES
