"""Duplicate review for a library: settings the user keeps, geometric confirmation, and the
decisions ("not a duplicate", "keep all") that make dismissed pairs stay dismissed."""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.duplicates.alignment import MAX_INTERIOR, MIN_AGREEMENT, AlignView, compare
from photofinder.core.duplicates.grouping import (
    Confirm,
    DuplicateGroup,
    DuplicateSearch,
    Strictness,
    find_duplicates,
)
from photofinder.core.duplicates.keepers import DEFAULT_RULES, RULES
from photofinder.core.duplicates.verdicts import remembered
from photofinder.core.errors import PhotoReadError
from photofinder.core.photos.imageio import decode_file
from photofinder.core.progress import CancelToken, ProgressCallback, ignore_progress
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.vector_index import VectorIndex

NOT_DUPLICATE = "not_duplicate"
KEEP_ALL = "keep_all"
_SETTINGS_KEY = "duplicate_review"
# SIFT on the thumbnails. ORB detects 7× faster, but its many noisy matches keep RANSAC at
# its iteration limit on pairs that are not copies, which made the whole confirmation slower.
CONFIRM_KEYPOINTS = "SIFT"
CONFIRM_SIDE = 192  # keypoints on the thumbnail at this side (256: twice the time, same verdicts)
SAME_SHAPE = 0.02  # aspect ratios this close (relative) may be a plain resize
DIRECT_AGREEMENT = 0.8  # agreement that confirms a resize without keypoints
FEW_INLIERS = 6  # a transform from fewer keypoint matches than verify's is still worth a look
# A pair that lines up with a few clearly different blocks inside is compared again at this
# side, from the photo files, when both have the pixels: a smile is one block at 256 px.
CLOSER_SIDE = 512
CLOSER_MIN_SIDE = 384  # a photo smaller than this has no more to show
ZONE_STEP = timedelta(minutes=15)  # time-zone offsets are whole multiples of this

if TYPE_CHECKING:
    from photofinder.core.matching.keypoints import KeypointSet


@dataclass
class ReviewSettings:
    rules: list[str] = field(default_factory=lambda: list(DEFAULT_RULES))
    preferred_folders: list[str] = field(default_factory=list)
    reference_folders: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, catalog: Catalog) -> ReviewSettings:
        raw = catalog.get_setting(_SETTINGS_KEY)
        if not raw:
            return cls()
        data = json.loads(raw)
        rules = [r for r in data.get("rules", []) if r in RULES] or list(DEFAULT_RULES)
        return cls(rules, list(data.get("preferred_folders", [])),
                   list(data.get("reference_folders", [])))

    def save(self, catalog: Catalog) -> None:
        unknown = [r for r in self.rules if r not in RULES]
        if unknown:
            raise ValueError(f"unknown keeper rule {unknown[0]!r}; known: {', '.join(RULES)}")
        catalog.set_setting(_SETTINGS_KEY, json.dumps(self.__dict__))


class _PairView:
    """One photo's pieces for pair checks: the alignment view, and keypoints of the photo and
    of its mirror image, each detected only when a check needs them (most copies line up
    without keypoints; mirrored copies are rare)."""

    def __init__(
        self, image: Image.Image, size: tuple[int, int], jpeg: bytes, path: Path
    ) -> None:
        self.align = AlignView.of(image, size)
        self._jpeg = jpeg  # the thumbnail, decoded again for keypoints: small to keep
        self._size = size
        self._path = path
        self._keypoints: dict[bool, KeypointSet] = {}
        self._closer: AlignView | None = None
        self._closer_read = False
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def keypoints(self, mirrored: bool = False) -> KeypointSet:
        from photofinder.core.matching.keypoints import detect_image

        with self._lock:
            if mirrored not in self._keypoints:
                with Image.open(io.BytesIO(self._jpeg)) as thumbnail:
                    image = thumbnail.convert("RGB")
                image.thumbnail((CONFIRM_SIDE, CONFIRM_SIDE), Image.Resampling.BILINEAR)
                self._keypoints[mirrored] = detect_image(
                    image, CONFIRM_KEYPOINTS, self._size, mirrored=mirrored
                )
            return self._keypoints[mirrored]

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


# The version of what geometric_confirmer decides: verdicts stored under another are checked
# again (photofinder.core.duplicates.verdicts). Bump it whenever the checker's verdicts change.
CHECKER_VERSION = "5"


def geometric_confirmer(catalog: Catalog) -> Confirm:
    """Confirm candidate pairs as the same photo: keypoint matches agreeing on one transform
    (photofinder.core.matching.verify), then the photos lining up under it
    (photofinder.core.duplicates.alignment), which turns away other shots of the same scene,
    as do different capture moments on one camera. Works on the stored thumbnails; a photo
    file is read only for a pair that lines up with a few differing blocks inside
    (CLOSER_SIDE). Each photo's features are computed at most once, in parallel."""

    views: dict[int, _PairView | None] = {}  # kept across calls: keypoints are found once

    def confirm(pairs: list[tuple[FileRecord, FileRecord]]) -> list[bool | None]:
        from photofinder.core.matching.verify import default_workers

        series = {number for number, (a, b) in enumerate(pairs) if other_moments(a, b)}
        open_pairs = [pair for number, pair in enumerate(pairs) if number not in series]
        records = {r.id: r for pair in open_pairs for r in pair if r.id not in views}
        thumbnails = {i: catalog.thumbnail(i) for i in records}
        with ThreadPoolExecutor(default_workers()) as pool:
            views.update(zip(records, pool.map(
                lambda i: _view(records[i], thumbnails[i]), records), strict=True))
            checked = iter(pool.map(
                lambda p: _same_photo(*(views[r.id] for r in _oriented(*p))), open_pairs))
        return [False if number in series else next(checked) for number in range(len(pairs))]

    return confirm


def _oriented(a: FileRecord, b: FileRecord) -> tuple[FileRecord, FileRecord]:
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


def _view(record: FileRecord, thumbnail: bytes | None) -> _PairView | None:
    try:
        if thumbnail is None:
            thumbnail = decode_file(Path(record.path)).thumbnail_jpeg()
        image = Image.open(io.BytesIO(thumbnail)).convert("RGB")
    except (OSError, PhotoReadError):
        return None
    size = (record.width or image.width, record.height or image.height)
    return _PairView(image, size, thumbnail, Path(record.path))


def _same_photo(a: _PairView | None, b: _PairView | None) -> bool | None:
    """Whether the two photos are one picture; None when one could not be read."""
    from photofinder.core.matching.verify import verify_sets

    if a is None or b is None:
        return None
    for transform in _resizes(a.size, b.size):
        if _lines_up(a, b, transform, DIRECT_AGREEMENT):
            return True
    for mirrored in (False, True):
        match = verify_sets(a.keypoints(mirrored), b.keypoints())
        if match.transform is None or match.inliers < FEW_INLIERS:
            continue
        # A symmetric subject (a face) can match its mirrored copy weakly without lining up.
        # A small copy has few keypoints: its transform counts when the photos line up well.
        threshold = MIN_AGREEMENT if match.verified else DIRECT_AGREEMENT
        if _lines_up(a, b, match.transform, threshold):
            return True
    return False


def _lines_up(
    a: _PairView, b: _PairView, transform: npt.NDArray[np.float64], threshold: float
) -> bool:
    """Each photo agrees with the other warped onto it (a moved subject shows on either grid);
    if a few blocks inside differ, the photos are compared closer for a moved subject."""
    back = np.linalg.inv(transform).astype(np.float64)
    there, here = compare(a.align, b.align, transform), compare(b.align, a.align, back)
    if there.score < threshold or here.score < threshold:
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


def review_duplicates(
    index: VectorIndex,
    catalog: Catalog,
    strictness: Strictness,
    geometric: bool = True,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> list[DuplicateGroup]:
    settings = ReviewSettings.load(catalog)
    search = DuplicateSearch(
        strictness,
        confirm=remembered(geometric_confirmer(catalog), catalog, CHECKER_VERSION)
        if geometric else None,
        dismissed=catalog.decided_pairs,
        rules=settings.rules,
        preferred_folders=settings.preferred_folders,
        reference_folders=settings.reference_folders,
    )
    return find_duplicates(index, catalog, search, progress=progress, cancel=cancel)


def _pairs_of(records: Sequence[FileRecord]) -> list[tuple[str, str]]:
    """Hash pairs of the records; two exact copies make the pair (h, h)."""
    hashes = sorted(r.content_hash for r in records if r.content_hash)
    return sorted(set(itertools.combinations(hashes, 2)))


def mark_not_duplicates(catalog: Catalog, a: FileRecord, b: FileRecord) -> None:
    catalog.add_decisions(_pairs_of([a, b]), NOT_DUPLICATE)


def keep_all(catalog: Catalog, group: DuplicateGroup) -> None:
    catalog.add_decisions(_pairs_of(group.records), KEEP_ALL)


def undo_decisions(catalog: Catalog, records: Sequence[FileRecord]) -> None:
    catalog.remove_decisions(_pairs_of(records))
