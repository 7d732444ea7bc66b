"""Whether two photos are one picture: the check of a duplicate candidate pair, from the
photos' stored thumbnails. A resized copy lines up without keypoints; any other needs SIFT
matches agreeing on one transform (photofinder.core.matching.verify) under which the photos
line up block for block (photofinder.core.duplicates.alignment), which turns away other shots
of the same scene. A photo file is read only for a pair that lines up with a few differing
blocks inside (CLOSER_SIDE)."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.duplicates.alignment import (
    MAX_INTERIOR,
    MIN_AGREEMENT,
    AlignView,
    compare,
    overlap,
)
from photofinder.core.errors import PhotoReadError
from photofinder.core.photos.imageio import decode_file
from photofinder.core.storage.catalog import FileRecord

# Keypoints: SIFT on the thumbnails (photofinder.core.matching.stored_keypoints), stored when
# the photo was indexed. ORB detects 7× faster, but its many noisy matches keep RANSAC at its
# iteration limit on pairs that are not copies, which made the whole confirmation slower.
SAME_SHAPE = 0.02  # aspect ratios this close (relative) may be a plain resize
DIRECT_AGREEMENT = 0.8  # agreement that confirms a resize without keypoints
FEW_INLIERS = 6  # a transform from fewer keypoint matches than verify's is still worth a look
# A pair that lines up with a few clearly different blocks inside is compared again at this
# side, from the photo files, when both have the pixels: a smile is one block at 256 px.
CLOSER_SIDE = 512
CLOSER_MIN_SIDE = 384  # a photo smaller than this has no more to show
ZONE_STEP = timedelta(minutes=15)  # time-zone offsets are whole multiples of this
# One photo of a copy pair lies within the other: warped onto it, the other covers this share
# of its blocks at least. Two crops of one picture at different places (collages, pans) each
# show what the other lacks: they are other pictures that share a part. Measured on the tuning
# half: every original-copy pair the check passes covers 0.906 or more; at 10,000 real-content
# photos 97 % of the shared-crop pairs it passed, and every unrelated one, covered less.
CONTAINED = 0.8

if TYPE_CHECKING:
    from photofinder.core.matching.keypoints import KeypointSet


class PairView:
    """One photo's pieces for pair checks: the alignment view, and keypoints of the photo (and
    of its mirror image, derived from them), read from the stored ones (else detected) only
    when a check needs them (most copies line up without keypoints)."""

    def __init__(
        self, image: Image.Image, size: tuple[int, int], jpeg: bytes, path: Path,
        stored: bytes | None = None,
    ) -> None:
        self.align = AlignView.of(image, size)
        self._jpeg = jpeg  # the thumbnail, decoded again for keypoints: small to keep
        self._stored = stored  # the keypoints stored while indexing, if any
        self._size = size
        self._path = path
        self._keypoints: KeypointSet | None = None
        self._closer: AlignView | None = None
        self._closer_read = False
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def keypoints(self, mirrored: bool = False) -> KeypointSet:
        """The thumbnail's SIFT keypoints; `mirrored`: its mirror image's, derived from them."""
        from photofinder.core.matching.keypoints import mirror_of
        from photofinder.core.matching.stored_keypoints import stored_or_detected

        with self._lock:
            if self._keypoints is None:
                self._keypoints = stored_or_detected(self._stored, self._jpeg, self._size)
                self._stored = None  # decoded: not kept twice
            return mirror_of(self._keypoints) if mirrored else self._keypoints

    @property
    def closer_read(self) -> bool:
        """Whether a check has asked for the closer look (the file read)."""
        return self._closer_read

    def footprint(self) -> int:
        """The bytes it holds now: views, thumbnail, stored and read keypoints (what it reads
        only when a check needs it counts once read)."""
        with self._lock:
            held = self.align.grey.nbytes + len(self._jpeg) + len(self._stored or b"")
            if self._keypoints is not None:
                held += self._keypoints.nbytes
            if self._closer is not None:
                held += self._closer.grey.nbytes
            return held

    def closer(self) -> AlignView | None:
        """The photo at CLOSER_SIDE, read from its file once; None when it is too small to
        show more than the thumbnail, or cannot be read now."""
        with self._lock:
            if not self._closer_read:
                self._closer_read = True
                if max(self._size) >= CLOSER_MIN_SIDE:
                    try:
                        image = decode_file(self._path).image
                    except PhotoReadError:
                        image = None
                    if image is not None and max(image.size) >= CLOSER_MIN_SIDE:
                        self._closer = AlignView.of(image, self._size, CLOSER_SIDE)
            return self._closer


def oriented(a: FileRecord, b: FileRecord) -> tuple[FileRecord, FileRecord]:
    """The pair in an order that does not depend on indexing order (keypoint matching is not
    symmetric), so two photos get the same verdict in every library."""
    return (a, b) if (a.content_hash or a.path) <= (b.content_hash or b.path) else (b, a)


def other_moments(a: FileRecord, b: FileRecord) -> bool:
    """Two shots from one camera taken at different moments of a day (a burst, a series) are
    never the same photo, however alike. A copy keeps its original's capture time, or moves by
    a time-zone offset (whole quarter hours), so only other differences count."""
    if not (a.captured_at and b.captured_at and a.camera and a.camera == b.camera):
        return False
    try:
        apart = abs(datetime.fromisoformat(a.captured_at) - datetime.fromisoformat(b.captured_at))
    except ValueError:
        return False
    beside_zone_shift = min(apart % ZONE_STEP, ZONE_STEP - apart % ZONE_STEP)
    return beside_zone_shift > timedelta(0) and apart < timedelta(days=1)


@dataclass(frozen=True)
class PhotoSource:
    """What a pair check reads of one photo: its file, its catalogued size, its stored
    thumbnail (None: made from the file) and its stored keypoints (None: detected)."""

    key: str  # what its features are known by: the content hash (the path without one)
    path: str
    size: tuple[int, int] | None
    thumbnail: bytes | None
    keypoints: bytes | None = None

    @classmethod
    def of(
        cls, record: FileRecord, thumbnail: bytes | None, keypoints: bytes | None = None
    ) -> PhotoSource:
        size = (record.width, record.height) if record.width and record.height else None
        stored = keypoints if thumbnail is not None else None  # stored with the thumbnail
        return cls(record.content_hash or record.path, record.path, size, thumbnail, stored)


def photo_view(source: PhotoSource) -> PairView | None:
    """The photo's pieces for pair checks; None when it cannot be read."""
    thumbnail = source.thumbnail
    try:
        if thumbnail is None:
            thumbnail = decode_file(Path(source.path)).thumbnail_jpeg()
        image = Image.open(io.BytesIO(thumbnail)).convert("RGB")
    except (OSError, PhotoReadError):
        return None
    return PairView(image, source.size or image.size, thumbnail, Path(source.path),
                    source.keypoints)


def same_photo(a: PairView | None, b: PairView | None) -> bool | None:
    """Whether the two photos are one picture; None when one could not be read."""
    from photofinder.core.matching.verify import verify_sets

    if a is None or b is None:
        return None
    for transform in _resizes(a.size, b.size):
        if _lines_up(a, b, transform, DIRECT_AGREEMENT):
            return True
    for mirrored in (False, True):
        # Fewer matches than FEW_INLIERS cannot give that many inliers: no transform fitted.
        match = verify_sets(a.keypoints(mirrored), b.keypoints(), FEW_INLIERS)
        if match.transform is None or match.inliers < FEW_INLIERS:
            continue
        # A symmetric subject (a face) can match its mirrored copy weakly without lining up.
        # A small copy has few keypoints: its transform counts when the photos line up well.
        threshold = MIN_AGREEMENT if match.verified else DIRECT_AGREEMENT
        if _lines_up(a, b, match.transform, threshold):
            return True
    return False


def _lines_up(
    a: PairView, b: PairView, transform: npt.NDArray[np.float64], threshold: float
) -> bool:
    """Each photo agrees with the other warped onto it (a moved subject shows on either grid),
    and one lies within the other; if a few blocks inside differ, the photos are compared
    closer for a moved subject."""
    back = np.linalg.inv(transform).astype(np.float64)
    there_where, here_where = overlap(a.align, b.align, transform), overlap(b.align, a.align, back)
    if max(there_where.share, here_where.share) < CONTAINED:
        return False
    there = compare(a.align, b.align, transform, there_where)
    if there.score < threshold:
        return False
    here = compare(b.align, a.align, back, here_where)
    if here.score < threshold:
        return False
    if there.moved == here.moved == 0:
        return True
    near_a, near_b = a.closer(), b.closer()
    if near_a is None or near_b is None:
        return True
    return max(compare(near_a, near_b, transform).moved,
               compare(near_b, near_a, back).moved) < MAX_INTERIOR


def _resizes(a: tuple[int, int], b: tuple[int, int]) -> list[npt.NDArray[np.float64]]:
    """When both photos have the same shape, the transform of a resized copy: the commonest
    duplicates (resized, re-encoded, recoloured) line up under it without keypoints."""
    if abs(a[0] * b[1] - a[1] * b[0]) > SAME_SHAPE * a[0] * b[1]:
        return []
    return [np.diag([b[0] / a[0], b[1] / a[1], 1.0])]
