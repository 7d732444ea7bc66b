"""What a decode worker does with one file: read once, then reuse, or decode and prepare."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photofinder.core.embedders.base import FloatArray
from photofinder.core.errors import FileVanishedError, PhotoReadError
from photofinder.core.matching import stored_keypoints
from photofinder.core.photos.imageio import content_hash, decode_bytes, read_file_bytes
from photofinder.core.photos.layout_hash import layout_hash
from photofinder.core.storage.catalog import PhotoMetadata


@dataclass(frozen=True)
class Decoded:
    file_id: int
    meta: PhotoMetadata
    thumbnail: bytes
    keypoints: tuple[str, bytes] | None  # (version, bytes): stored_keypoints of the thumbnail
    pixels: FloatArray


@dataclass(frozen=True)
class SameContent:
    """The bytes equal a catalogued photo's: a move (`moved`) or an exact copy."""

    file_id: int
    source_id: int
    moved: bool


@dataclass(frozen=True)
class Failed:
    file_id: int
    reason: str
    vanished: bool
    transient: bool = False  # the reason may go away (permission, I/O error, memory): retry


ReadOutcome = Decoded | SameContent | Failed


@dataclass(frozen=True)
class ReadContext:
    """Snapshots taken before the run, read by the workers (never mutated while they run)."""

    missing_by_hash: Mapping[str, int]  # photos that disappeared from their old path
    embedded_by_hash: Mapping[str, int]  # photos that already have a vector for this method
    prepare: Callable[[Image.Image], FloatArray]


def read_one(file_id: int, path: str, context: ReadContext) -> ReadOutcome:
    try:
        data = read_file_bytes(Path(path))
        digest = content_hash(data)
        if digest in context.missing_by_hash:
            return SameContent(file_id, context.missing_by_hash[digest], moved=True)
        source = context.embedded_by_hash.get(digest)
        if source is not None and source != file_id:
            return SameContent(file_id, source, moved=False)
        photo = decode_bytes(data, path)
        meta = PhotoMetadata(
            photo.content_hash, photo.width, photo.height, photo.format, photo.captured_at,
            photo.camera, layout_hash(photo.image),
        )
        thumbnail = photo.thumbnail_jpeg()
        keypoints = stored_keypoints.stored_form(thumbnail, (photo.width, photo.height))
        return Decoded(file_id, meta, thumbnail,
                       None if keypoints is None else (stored_keypoints.STORED_VERSION, keypoints),
                       context.prepare(photo.image))
    except FileVanishedError as exc:
        return Failed(file_id, exc.full_reason, vanished=True)
    except PhotoReadError as exc:
        return Failed(file_id, exc.full_reason, vanished=False, transient=exc.transient)
    except MemoryError:
        return Failed(
            file_id, "not enough memory to decode this image", vanished=False, transient=True
        )
