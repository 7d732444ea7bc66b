"""Geometric verification of two photos with local keypoints, and re-ranking of search hits.

Two photos are near-duplicates when many keypoint matches (Lowe's ratio test) agree on one
geometric transform (RANSAC homography; a partial-affine similarity when matches are few or
the homography is degenerate). Mirrored copies are found by also matching the mirror image's
keypoints. cv2 is imported inside functions only."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image
from threadpoolctl import threadpool_limits

from photofinder.core.matching.keypoints import (
    DEFAULT_KEYPOINT_TYPE,
    WORKING_MAX_SIDE,
    ImageSource,
    KeypointSet,
    cached_thumbnail,
    detect,
    detect_file,
    detect_image,
    detect_thumbnail,
    keypoint_type,
    load_working,
    mirror_of,
)
from photofinder.core.matching.stored_keypoints import CONFIRM_KEYPOINTS, STORED_VERSION, decode
from photofinder.core.search.knn import SearchHit
from photofinder.core.storage.catalog import Catalog

if TYPE_CHECKING:
    FloatArray = npt.NDArray[np.float64]

RATIO = 0.75  # Lowe's ratio test
MIN_INLIERS = 12  # this many RANSAC inliers make a verified near-duplicate
HOMOGRAPHY_MIN_MATCHES = 12  # below this, fit a partial-affine similarity instead
NORMALISED_SIDE = 512.0  # RANSAC runs with each photo scaled to this longer side ...
REPROJECTION_PX = 6.0  # ... and this reprojection threshold
# Both fits stop sampling once they are this sure to have drawn one all-inlier sample ...
RANSAC_CONFIDENCE = 0.995
# ... or after this many samples: enough for that confidence on a homography (4 points) down to
# about 23 % inliers among the matches, and a bound on the time one pair can take.
RANSAC_MAX_ITERS = 2000
RERANK_TOP = 20
# Precise search detects the query's keypoints at this longer side, near the library's (their
# stored keypoints are of 192 px thumbnails). On the tuning half's 1,200 copies against the
# library's keypoints of 256 px thumbnails, rank 1 was the same as with 640 (0.997) for 0.68×
# the time; with the stored ones, 0.996 (one copy more missed), 0.64×.
QUERY_SIDE = 256
# A fitted transform is plausible when it keeps the area within this factor either way ...
MAX_AREA_CHANGE = 1e3
# ... and its perspective terms stay under this (coordinates at NORMALISED_SIDE).
MAX_PERSPECTIVE = 2e-3
MIN_SIMILARITY_MATCHES = 3  # fewer matches than this fit no partial-affine similarity


@dataclass(frozen=True, eq=False)
class Verification:
    """How well photo `a` maps onto photo `b`. Coordinates are original pixels."""

    inliers: int
    matches: int  # ratio-test matches (one per keypoint of b at most)
    model: str  # "homography", "partial-affine" or "none"
    transform: FloatArray | None  # 3×3, a's original coordinates → b's
    mirrored: bool  # matched via a's mirror image (the transform includes the flip)
    a_size: tuple[int, int]
    b_size: tuple[int, int]
    pairs: npt.NDArray[np.int64]  # (M, 2) keypoint indices (into a's set used, b's set)
    a_xy: npt.NDArray[np.float32]  # (M, 2) matched points in a
    b_xy: npt.NDArray[np.float32]  # (M, 2) matched points in b
    inlier_mask: npt.NDArray[np.bool_]  # (M,)

    @property
    def inlier_ratio(self) -> float:
        return self.inliers / self.matches if self.matches else 0.0

    @property
    def verified(self) -> bool:
        return self.inliers >= MIN_INLIERS

    @property
    def inlier_matches(self) -> list[tuple[int, int]]:
        return [(int(i), int(j)) for i, j in self.pairs[self.inlier_mask]]

    @property
    def outlier_matches(self) -> list[tuple[int, int]]:
        return [(int(i), int(j)) for i, j in self.pairs[~self.inlier_mask]]


@dataclass(frozen=True)
class VerifiedHit(SearchHit):
    """A search hit after re-ranking: `inliers` is None when it was not checked (past top N)."""

    @property
    def verified(self) -> bool:
        """Checked, with enough inliers to be a near-duplicate of the query."""
        return self.inliers is not None and self.inliers >= MIN_INLIERS


@dataclass(frozen=True, eq=False)
class QueryFeatures:
    """A query's keypoints and those of its mirror image."""

    plain: KeypointSet
    mirror: KeypointSet | None


def query_features(
    source: ImageSource | KeypointSet | QueryFeatures,
    kind: str = DEFAULT_KEYPOINT_TYPE,
    mirrors: bool = True,
    original_size: tuple[int, int] | None = None,
    max_side: int = WORKING_MAX_SIDE,
) -> QueryFeatures:
    """A query's keypoints (and its mirror image's, with `mirrors`). For an image,
    `original_size` is the photo size its coordinates map to (default: its own), and
    `max_side` the longer side it is detected at."""
    if isinstance(source, QueryFeatures):
        return source
    if isinstance(source, KeypointSet):
        return QueryFeatures(source, None)
    if isinstance(source, Image.Image):
        image, original = source, original_size or source.size
    else:
        if not mirrors:
            return QueryFeatures(detect_file(source, kind), None)
        plain = detect_file(source, kind)
        return QueryFeatures(plain, detect_file(source, plain.kind, mirrored=True))
    plain = detect_image(image, kind, original, max_side=max_side)
    if not mirrors:
        return QueryFeatures(plain, None)
    if plain.kind == "SIFT":
        return QueryFeatures(plain, mirror_of(plain))
    return QueryFeatures(plain, detect_image(image, kind, original, True, max_side))


# --- matching and geometry -------------------------------------------------------------------
def match(a: KeypointSet, b: KeypointSet, ratio: float = RATIO) -> npt.NDArray[np.int64]:
    """(M, 2) index pairs (a, b) passing the ratio test, at most one per keypoint of b (the
    closest). SIFT: L2 distances by one matrix product; ORB: Hamming with OpenCV's BFMatcher."""
    if a.kind != b.kind:
        raise ValueError(f"cannot match {a.kind} keypoints with {b.kind} keypoints")
    if a.count < 2 or b.count < 2:
        return np.zeros((0, 2), np.int64)
    if a.kind == "SIFT":
        nearest, d1, d2 = _nearest_two_l2(a.descriptors, b.descriptors)
        passed = np.nonzero(d1 < (ratio * ratio) * d2)[0]  # squared distances
    else:
        nearest, d1, d2 = _nearest_two_hamming(a.descriptors, b.descriptors)
        passed = np.nonzero(d1 < ratio * d2)[0]
    order = passed[np.lexsort((d1[passed], nearest[passed]))]  # by b index, closest first
    _, first = np.unique(nearest[order], return_index=True)
    chosen = order[first]
    return np.stack([chosen, nearest[chosen]], axis=1).astype(np.int64)


def _nearest_two_l2(
    da: npt.NDArray[np.uint8], db: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Nearest b index per a row and the squared distances to the nearest two."""
    fa, fb = da.astype(np.float32), db.astype(np.float32)
    partial = (fb * fb).sum(axis=1)[None, :] - 2.0 * (fa @ fb.T)  # d² − |a|²
    rows = np.arange(len(partial))
    nearest = partial.argmin(axis=1)
    first = partial[rows, nearest]
    partial[rows, nearest] = np.inf  # the second nearest is the nearest of the rest: the
    second = partial.min(axis=1)  # values np.partition gives, in less time
    a_sq = (fa * fa).sum(axis=1)
    d1 = np.maximum(first + a_sq, 0.0).astype(np.float32)
    d2 = np.maximum(second + a_sq, 0.0).astype(np.float32)
    return nearest, d1, d2


def _nearest_two_hamming(
    da: npt.NDArray[np.uint8], db: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    import cv2

    pairs = [p for p in cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2) if len(p) == 2]
    nearest = np.array([p[0].trainIdx for p in pairs], np.intp)
    d1 = np.array([p[0].distance for p in pairs], np.float32)
    d2 = np.array([p[1].distance for p in pairs], np.float32)
    query = np.array([p[0].queryIdx for p in pairs], np.intp)
    if len(query) == len(da):
        return nearest, d1, d2
    full = np.zeros(len(da), np.intp), np.ones(len(da), np.float32), np.zeros(len(da), np.float32)
    full[0][query], full[1][query], full[2][query] = nearest, d1, d2
    return full


def _normaliser(size: tuple[int, int]) -> FloatArray:
    factor = NORMALISED_SIDE / max(1, *size)
    return np.diag([factor, factor, 1.0])


def _homography_ok(h: FloatArray, mirrored: bool) -> bool:
    """Orientation-preserving (reversing for a mirrored set), not collapsing or exploding,
    not strongly projective (coordinates are normalised to NORMALISED_SIDE)."""
    det = float(np.linalg.det(h[:2, :2])) * (-1.0 if mirrored else 1.0)
    return (1 / MAX_AREA_CHANGE < det < MAX_AREA_CHANGE
            and float(np.abs(h[2, :2]).max()) < MAX_PERSPECTIVE)


def _fit(
    pa: npt.NDArray[np.float32], pb: npt.NDArray[np.float32], mirrored: bool
) -> tuple[str, FloatArray | None, npt.NDArray[np.bool_]]:
    import cv2

    n = len(pa)
    none = np.zeros(n, bool)
    if n >= HOMOGRAPHY_MIN_MATCHES:
        h, mask = cv2.findHomography(pa, pb, cv2.RANSAC, REPROJECTION_PX,
                                     maxIters=RANSAC_MAX_ITERS, confidence=RANSAC_CONFIDENCE)
        if h is not None and mask is not None:
            homography = np.asarray(h, np.float64)
            if _homography_ok(homography, mirrored):
                return "homography", homography, np.asarray(mask).ravel().astype(bool)
    if n >= MIN_SIMILARITY_MATCHES:
        if mirrored:  # a similarity cannot mirror: fit the flipped points, flip back after
            pa = pa * np.array([-1.0, 1.0], np.float32)
        m, mask = cv2.estimateAffinePartial2D(pa, pb, method=cv2.RANSAC,
                                              ransacReprojThreshold=REPROJECTION_PX,
                                              maxIters=RANSAC_MAX_ITERS,
                                              confidence=RANSAC_CONFIDENCE)
        if m is not None and mask is not None:
            similarity = np.vstack([np.asarray(m, np.float64), [0.0, 0.0, 1.0]])
            if mirrored:
                similarity = similarity @ np.diag([-1.0, 1.0, 1.0])
            if _homography_ok(similarity, mirrored):
                return "partial-affine", similarity, np.asarray(mask).ravel().astype(bool)
    return "none", None, none


def verify_sets(a: KeypointSet, b: KeypointSet, min_matches: int = 0) -> Verification:
    """Verify prepared keypoint sets (a may be a mirrored set). With fewer than `min_matches`
    ratio-test matches no transform is fitted (a caller that needs that many inliers)."""
    pairs = match(a, b)
    a_xy = a.points()[pairs[:, 0]] if len(pairs) else np.zeros((0, 2), np.float32)
    b_xy = b.points()[pairs[:, 1]] if len(pairs) else np.zeros((0, 2), np.float32)
    na, nb = _normaliser(a.original_size), _normaliser(b.original_size)
    pa = (a_xy * na[0, 0]).astype(np.float32)
    pb = (b_xy * nb[0, 0]).astype(np.float32)
    if len(pairs) < min_matches:
        model, h, mask = "none", None, np.zeros(len(pairs), bool)
    else:
        model, h, mask = _fit(pa, pb, a.mirrored)
    transform = None if h is None else np.linalg.inv(nb) @ h @ na
    if transform is not None:
        transform = transform / transform[2, 2]
    return Verification(
        inliers=int(mask.sum()), matches=len(pairs), model=model, transform=transform,
        mirrored=a.mirrored, a_size=a.original_size, b_size=b.original_size, pairs=pairs,
        a_xy=a_xy, b_xy=b_xy, inlier_mask=mask,
    )


def verify_query(query: QueryFeatures, b: KeypointSet) -> Verification:
    """The better of the plain and the mirrored verification. Both are always tried: a
    mirrored copy of a near-symmetric subject (a face) also verifies weakly unmirrored."""
    result = verify_sets(query.plain, b)
    if query.mirror is None:
        return result
    flipped = verify_sets(query.mirror, b)
    return flipped if flipped.inliers > result.inliers else result


def verify(
    a: ImageSource | KeypointSet | QueryFeatures,
    b: ImageSource | KeypointSet,
    kind: str = DEFAULT_KEYPOINT_TYPE,
    mirrors: bool = True,
) -> Verification:
    """Verify photo `a` against photo `b` (paths, PIL images or prepared keypoint sets).
    With `mirrors`, `a`'s mirror image is also tried and the better result returned."""
    query = query_features(a, kind, mirrors)
    return verify_query(query, detect(b, query.plain.kind))


# --- re-ranking ------------------------------------------------------------------------------
def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def hits_to_check(
    hits: Sequence[SearchHit], top: int = RERANK_TOP, floor: float | None = None
) -> list[SearchHit]:
    """The hits worth checking with keypoints: of the first `top`, those scoring `floor` or
    more (a method's `copy_floor`: photos less similar are not copies of the query)."""
    return [hit for hit in hits[:top] if floor is None or hit.score >= floor]


def rerank(
    query: ImageSource | KeypointSet | QueryFeatures,
    hits: Sequence[SearchHit],
    top: int = RERANK_TOP,
    features: Callable[[SearchHit], KeypointSet] | None = None,
    kind: str = DEFAULT_KEYPOINT_TYPE,
    workers: int | None = None,
    floor: float | None = None,
) -> list[VerifiedHit]:
    """Verify the `hits_to_check` (the first `top` hits scoring `floor` or more) against the
    query and re-order: verified near-duplicates first (most inliers first), then the rest
    in their original order (those not checked with inliers None). `features(hit)` gives a
    hit's keypoints (default: detected from `hit.path`, cached); a hit whose photo cannot be
    read counts as unverified (0 inliers)."""
    prepared = query_features(query, kind)
    kind = prepared.plain.kind
    get = features or (lambda hit: detect_file(hit.path, kind))
    head = hits_to_check(hits, top, floor)

    def inliers(hit: SearchHit) -> int:
        try:
            return verify_query(prepared, get(hit)).inliers
        except (OSError, ValueError):  # unreadable or vanished photo: just not verified
            return 0

    threads = workers or default_workers()
    if threads > 1 and len(head) > 1:
        # One BLAS thread per verifying thread: BLAS threads on top of them made precise
        # search slower (10,000 photos, two cores: 189 -> 146-154 ms a query).
        with threadpool_limits(1), ThreadPoolExecutor(threads) as pool:
            counts = list(pool.map(inliers, head))
    else:
        counts = [inliers(hit) for hit in head]
    inliers_of = {id(hit): count for hit, count in zip(head, counts, strict=True)}
    ranked = [VerifiedHit(h.file_id, h.path, h.score, inliers_of.get(id(h))) for h in hits]
    verified = sorted(
        (h for h in ranked if h.verified), key=lambda h: -(h.inliers or 0)
    )  # stable: ties keep search order
    return [*verified, *(h for h in ranked if not h.verified)]


# --- precise search: query expansion and catalogue features ----------------------------------
QUERY_VARIANTS = ("plain", "rotate90", "rotate180", "rotate270", "mirror")


def query_variants(image: Image.Image) -> list[Image.Image]:
    """The query and its 90°/180°/270° rotations and mirror image, embedded as one batch so
    rotated and mirrored copies in the library come up as candidates."""
    image = image.convert("RGB")
    return [
        image,
        image.transpose(Image.Transpose.ROTATE_90),
        image.transpose(Image.Transpose.ROTATE_180),
        image.transpose(Image.Transpose.ROTATE_270),
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    ]


def merge_candidates(hit_lists: Sequence[Sequence[SearchHit]], limit: int) -> list[SearchHit]:
    """One list from the variants' hits: each photo once with its best score, best first."""
    best: dict[int, SearchHit] = {}
    for hits in hit_lists:
        for hit in hits:
            if hit.file_id not in best or hit.score > best[hit.file_id].score:
                best[hit.file_id] = hit
    return sorted(best.values(), key=lambda h: -h.score)[:limit]


def catalog_features(
    catalog: Catalog, hits: Sequence[SearchHit], kind: str = DEFAULT_KEYPOINT_TYPE
) -> Callable[[SearchHit], KeypointSet]:
    """Keypoints of hits as the catalogue has them: stored while indexing
    (photofinder.core.matching.stored_keypoints), else detected on their stored 256 px
    thumbnails (no photo file read; cached in the bounded `keypoints.feature_cache`). Reads
    the catalogue now, on the calling thread, and holds the keypoints already at hand, so an
    eviction meanwhile costs no file read; the returned function (safe to call from worker
    threads) detects the rest. A hit without a thumbnail falls back to its file."""
    records = catalog.files_by_ids(h.file_id for h in hits)
    stored = (catalog.keypoints_of(list(records), STORED_VERSION)
              if keypoint_type(kind).name == CONFIRM_KEYPOINTS else {})
    sources: dict[int, tuple[tuple[object, ...], KeypointSet | bytes | None, tuple[int, int]]] = {}
    for hit in hits:
        record = records.get(hit.file_id)
        if record is None:
            continue
        key = (record.path, record.mtime_ns, record.size)
        size = (record.width or 0, record.height or 0)
        held = decode(stored[record.id], size) if record.id in stored and min(size) > 0 else None
        held = held if held is not None else cached_thumbnail(key, kind)
        sources[hit.file_id] = (key, catalog.thumbnail(record.id) if held is None else held, size)

    def features(hit: SearchHit) -> KeypointSet:
        source = sources.get(hit.file_id)
        if source is not None:
            key, held, size = source
            if isinstance(held, KeypointSet):
                return held
            if held is not None and min(size) > 0:
                return detect_thumbnail(held, size, key, kind)
        return detect_file(hit.path, kind)

    return features


# --- display ---------------------------------------------------------------------------------
def _as_image(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    return load_working(Path(source))[0]


def draw_matches(
    a: ImageSource,
    b: ImageSource,
    verification: Verification,
    height: int = 480,
    show_outliers: bool = True,
) -> Image.Image:
    """The two photos side by side at `height`, inlier matches as green lines, outliers as
    faint red ones (or hidden)."""
    import cv2

    left, right = _as_image(a), _as_image(b)
    fa = height / left.height
    fb = height / right.height
    wa, wb = max(1, round(left.width * fa)), max(1, round(right.width * fb))
    canvas = np.zeros((height, wa + wb, 3), np.uint8)
    canvas[:, :wa] = np.asarray(left.resize((wa, height), Image.Resampling.BICUBIC))
    canvas[:, wa:] = np.asarray(right.resize((wb, height), Image.Resampling.BICUBIC))
    # original coordinates → canvas
    sa = np.array([wa / verification.a_size[0], height / verification.a_size[1]])
    sb = np.array([wb / verification.b_size[0], height / verification.b_size[1]])
    pa = verification.a_xy * sa
    pb = verification.b_xy * sb + np.array([wa, 0.0])
    if show_outliers:
        faint = canvas.copy()
        for p, q in zip(pa[~verification.inlier_mask], pb[~verification.inlier_mask],
                        strict=True):
            cv2.line(faint, _pt(p), _pt(q), (255, 60, 60), 1, cv2.LINE_AA)
        canvas = np.asarray(cv2.addWeighted(faint, 0.35, canvas, 0.65, 0.0), np.uint8)
    for p, q in zip(pa[verification.inlier_mask], pb[verification.inlier_mask], strict=True):
        cv2.line(canvas, _pt(p), _pt(q), (40, 230, 40), 1, cv2.LINE_AA)
        cv2.circle(canvas, _pt(p), 2, (40, 230, 40), -1, cv2.LINE_AA)
        cv2.circle(canvas, _pt(q), 2, (40, 230, 40), -1, cv2.LINE_AA)
    return Image.fromarray(np.ascontiguousarray(canvas), "RGB")


def _pt(p: npt.NDArray[np.float64]) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))

