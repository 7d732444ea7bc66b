"""Keypoints detected once per photo, while it is indexed, and kept in the catalogue beside
its thumbnail: the duplicate check and precise search read them instead of detecting again.

They are the thumbnail's strongest CONFIRM_LIMIT SIFT keypoints at CONFIRM_SIDE, exactly as
the duplicate check detects them, stored losslessly (so a check on stored keypoints gives the
verdict a check on detected ones gives). A stored set is known by STORED_VERSION: sets stored
under another, or damaged ones, are ignored and the keypoints detected again."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from photofinder.core.matching.keypoints import KeypointSet, detect_image

CONFIRM_KEYPOINTS = "SIFT"
# SIFT on the thumbnail at this side (256: twice the time, same duplicate verdicts).
CONFIRM_SIDE = 192
# The strongest this many (of 230-280 at 192 px): each keypoint is 152 bytes of catalogue;
# the verdicts stay those of every keypoint (docs/benchmarks.md, checker version 8).
CONFIRM_LIMIT = 150
# Change with what is stored:
STORED_VERSION = f"{CONFIRM_KEYPOINTS}-{CONFIRM_SIDE}-{CONFIRM_LIMIT}-1"
_MAGIC = b"PFK1"
_HEADER = struct.Struct("<4sIII")  # magic, keypoints, working width, working height
_DESCRIPTOR_BYTES = 128
# Per keypoint: x, y, size, angle, response (float32), octave (int32), descriptor (uint8).
_BYTES_PER_KEYPOINT = 5 * 4 + 4 + _DESCRIPTOR_BYTES


def thumbnail_keypoints(jpeg: bytes, original_size: tuple[int, int]) -> KeypointSet:
    """The keypoints the duplicate check uses: the strongest CONFIRM_LIMIT of the stored
    thumbnail (encoded bytes) at CONFIRM_SIDE, mapped to the photo's original size. Raises
    OSError for damaged bytes."""
    with Image.open(io.BytesIO(jpeg)) as thumbnail:
        image = thumbnail.convert("RGB")
    image.thumbnail((CONFIRM_SIDE, CONFIRM_SIDE), Image.Resampling.BILINEAR)
    return detect_image(image, CONFIRM_KEYPOINTS, original_size, limit=CONFIRM_LIMIT)


def stored_form(jpeg: bytes, original_size: tuple[int, int]) -> bytes | None:
    """The thumbnail's keypoints encoded to be stored; None when they cannot be detected
    (damaged bytes, OpenCV failing: they are then detected when a check needs them)."""
    import cv2

    try:
        return encode(thumbnail_keypoints(jpeg, original_size))
    except (OSError, ValueError, cv2.error):
        return None


def encode(keypoints: KeypointSet) -> bytes:
    """A plain SIFT set as bytes (about 150 bytes a keypoint), every value kept exactly."""
    if keypoints.kind != CONFIRM_KEYPOINTS or keypoints.mirrored:
        raise ValueError(f"only plain {CONFIRM_KEYPOINTS} keypoints are stored")
    floats = np.column_stack([keypoints.xy, keypoints.sizes, keypoints.angles,
                              keypoints.responses]).astype("<f4")
    header = _HEADER.pack(_MAGIC, keypoints.count, *keypoints.working_size)
    return b"".join([header, floats.tobytes(), keypoints.octaves.astype("<i4").tobytes(),
                     np.ascontiguousarray(keypoints.descriptors, np.uint8).tobytes()])


def decode(data: bytes, original_size: tuple[int, int]) -> KeypointSet | None:
    """The set `encode` stored, mapped to the photo's `original_size`; None when the bytes
    are not such a set (damaged, cut short, another format)."""
    if len(data) < _HEADER.size:
        return None
    magic, count, width, height = _HEADER.unpack_from(data)
    if magic != _MAGIC or len(data) != _HEADER.size + count * _BYTES_PER_KEYPOINT:
        return None
    floats_end = _HEADER.size + count * 20
    octaves_end = floats_end + count * 4
    floats = np.frombuffer(data, "<f4", count * 5, _HEADER.size).reshape(count, 5)
    descriptors = np.frombuffer(data, np.uint8, count * _DESCRIPTOR_BYTES, octaves_end)
    return KeypointSet(
        kind=CONFIRM_KEYPOINTS,
        original_size=original_size,
        working_size=(width, height),
        xy=np.ascontiguousarray(floats[:, :2], np.float32),
        sizes=np.ascontiguousarray(floats[:, 2], np.float32),
        angles=np.ascontiguousarray(floats[:, 3], np.float32),
        responses=np.ascontiguousarray(floats[:, 4], np.float32),
        octaves=np.frombuffer(data, "<i4", count, floats_end).astype(np.int32),
        descriptors=descriptors.reshape(count, _DESCRIPTOR_BYTES).copy(),
    )


def stored_or_detected(
    stored: bytes | None, jpeg: bytes, original_size: tuple[int, int]
) -> KeypointSet:
    """The stored set when it can be read, else detected from the thumbnail."""
    keypoints = decode(stored, original_size) if stored else None
    return keypoints if keypoints is not None else thumbnail_keypoints(jpeg, original_size)
