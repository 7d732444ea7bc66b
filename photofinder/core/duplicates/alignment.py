"""Photometric check of a geometric match: is it the same photo, or another shot of the scene?

Keypoints agree on a transform for near-duplicates and for burst shots alike (the background
matches). Warping one photo onto the other with that transform tells them apart: a copy lines
up block for block (up to colour, compression and an added caption), another shot does not
where the subject moved. Only blocks with structure in either photo count: flat sky or a dark
background agrees with anything, and counting it let portraits on dark backgrounds pass.
Measured on Caltech-101 with generated copies (benchmarks/duplicates.py): 99.5 % of the copy
pairs that keypoints verify agree on ≥ 0.65 of their structured blocks at 256 px; most pairs
of different photos of one person agree on less.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

CHECK_SIDE = 256  # compare at this longer side (the thumbnails'): fine enough to see a smile
BLOCK = 16  # pixels a side of the blocks compared (16 along the longer side at CHECK_SIDE)
BLOCK_AGREES = 0.6  # correlation of a block with its warped counterpart
MIN_AGREEMENT = 0.65  # share of agreeing structured blocks that makes the same photo
FLAT = 3.0  # grey-level deviation under which a block has no structure to compare
PLAIN_DETAIL = 6.0  # deviation from a plane of a block whose detail another photo cannot lack
MIN_STRUCTURED = 4  # fewer structured blocks than this in the overlap: nothing to judge by
BLOCK_DIFFERS = 0.3  # correlation under which a block clearly shows something else
MAX_INTERIOR = 3  # a patch this large of differing blocks inside the photo: another shot
MARGIN = 0.2  # share of the rows (columns) at each side where edits such as captions sit
COVERED = 0.9  # share of a block's pixels the warped photo must reach for the block to count
MIN_OVERLAP = 0.1  # share of the blocks covered under which the photos barely overlap (a crop
# keeping a quarter of the photo covers about 0.17 of its blocks, whole blocks only)
BLUR_KERNEL = (3, 3)  # a light blur first, so that re-encoding noise does not decide a block
# An added bar (a caption, a banner) covers whole rows: rows whose structured blocks nearly all
# disagree, BAR_ROW of them at least, in runs of at most MAX_BAR of the rows, are left out.
BAR_ROW = 0.75
MAX_BAR = 0.3
# A band laid over the photo (a half-transparent banner, a watermark) shifts the tone of whole
# rows: rows lighter or darker by TONE_SHIFT grey levels (median) than the tone curve between
# the two photos predicts (a brightened or contrast-changed copy has one for all its blocks),
# most of their blocks (OVERLAID_ROW) by half that at least the same way (a white band over a
# white background shifts nothing), in runs of at most MAX_BAR of the rows, and the row on
# either side (the band's edges), are left out too.
# Another shot changes a patch, not a whole row.
TONE_SHIFT = 12.0
OVERLAID_ROW = 0.6
BAND_GAP = 2  # rows between two such rows belong to the band (its line of text)
MAX_LEFT_OUT = 0.3  # bars and bands together leave out at most this share of the rows
TONE_FIT = 0.7  # share of the blocks the tone curve is fitted on the second time
MIN_GAIN = 0.25  # the tone curve's gain stays within [MIN_GAIN, 1 / MIN_GAIN]


@dataclass(frozen=True)
class AlignView:
    """A photo's grey pixels at CHECK_SIDE (or another longer side), and its original size."""

    grey: npt.NDArray[np.uint8]
    original_size: tuple[int, int]

    @classmethod
    def of(
        cls, image: Image.Image, original_size: tuple[int, int], side: int = CHECK_SIDE
    ) -> AlignView:
        factor = side / max(image.size)
        size = (max(BLOCK, round(image.width * factor)), max(BLOCK, round(image.height * factor)))
        grey = image.convert("L").resize(size, Image.Resampling.BILINEAR)
        return cls(np.asarray(grey, np.uint8), original_size)

    def from_original(self) -> npt.NDArray[np.float64]:
        height, width = self.grey.shape
        return np.diag([width / self.original_size[0], height / self.original_size[1], 1.0])


@dataclass(frozen=True)
class Comparison:
    """How photo `a`, warped onto photo `b`, matches it block by block."""

    agreement: float  # share of the structured blocks that match; 0 without enough to judge
    moved: int  # blocks in the largest patch of clearly different ones reaching inwards

    @property
    def score(self) -> float:
        """The agreement, or 0 when a subject moved (another shot)."""
        return self.agreement if self.moved < MAX_INTERIOR else 0.0


def agreement(a: AlignView, b: AlignView, transform: npt.NDArray[np.float64]) -> float:
    """Share of the structured blocks of `b`'s overlap with `a` (warped onto `b` by `transform`,
    which maps `a`'s original coordinates to `b`'s) that match; 0 when they barely overlap,
    neither has structure there, or a subject moved."""
    return compare(a, b, transform).score


@dataclass(frozen=True)
class Overlap:
    """Where photo `a` lands when warped onto photo `b`: the warp between their grids and the
    blocks of `b` it covers."""

    warp: npt.NDArray[np.float64]
    covered: npt.NDArray[np.bool_]  # (rows, cols) of b's whole blocks

    @property
    def share(self) -> float:
        """Share of `b`'s blocks covered."""
        return float(self.covered.mean())


def overlap(a: AlignView, b: AlignView, transform: npt.NDArray[np.float64]) -> Overlap:
    """Where `a` lands on `b` under `transform` (from `a`'s original coordinates to `b`'s):
    one warp of a mask, much cheaper than the comparison."""
    import cv2

    warp = b.from_original() @ transform @ np.linalg.inv(a.from_original())
    height, width = b.grey.shape
    inside = cv2.warpPerspective(
        np.ones(a.grey.shape, np.uint8), warp, (width, height), flags=cv2.INTER_NEAREST
    )
    rows, cols = height // BLOCK, width // BLOCK
    counts = inside[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).sum(
        axis=(1, 3), dtype=np.int32
    )
    return Overlap(warp, counts >= COVERED * BLOCK * BLOCK)


def compare(
    a: AlignView, b: AlignView, transform: npt.NDArray[np.float64], where: Overlap | None = None
) -> Comparison:
    """`a` warped onto `b` by `transform` (from `a`'s original coordinates to `b`'s); `where`
    is their `overlap`, when known."""
    import cv2

    where = where or overlap(a, b, transform)
    height, width = b.grey.shape
    warped = cv2.warpPerspective(
        a.grey.astype(np.float32), where.warp, (width, height), flags=cv2.INTER_LINEAR
    )
    rows, cols = height // BLOCK, width // BLOCK
    covered = where.covered
    if where.share < MIN_OVERLAP:
        return Comparison(0.0, 0)
    x = _blocks(cv2.GaussianBlur(warped, BLUR_KERNEL, 0), rows, cols)
    y = _blocks(cv2.GaussianBlur(b.grey.astype(np.float32), BLUR_KERNEL, 0), rows, cols)
    x_mean, y_mean = x.mean(axis=2), y.mean(axis=2)
    offset = _tone_offset(_tone_residual(x_mean, y_mean, covered), covered)
    overlaid = (_overlaid_rows(offset, covered)[:, None]
                | _overlaid_rows(offset.T, covered.T)[None, :])
    x -= x_mean[..., None]
    y -= y_mean[..., None]
    x_energy, y_energy = np.einsum("ijk,ijk->ij", x, x), np.einsum("ijk,ijk->ij", y, y)
    # Structure in both photos, or detail in one: a flat block against a smooth gradient is
    # what clipping leaves of a sky (a brightened copy), not something else in the picture.
    flat_energy = FLAT * FLAT * BLOCK * BLOCK
    structured = covered & (
        ((x_energy >= flat_energy) & (y_energy >= flat_energy))
        | (np.maximum(_detail(x, x_energy), _detail(y, y_energy)) >= PLAIN_DETAIL)
    )
    if structured.sum() < MIN_STRUCTURED:
        return Comparison(0.0, 0)
    denominator = np.sqrt(x_energy * y_energy)
    correlation = np.einsum("ijk,ijk->ij", x, y) / np.maximum(denominator, 1e-9)
    agrees = correlation > BLOCK_AGREES
    # a turned copy's bands are columns
    barred = _bar_rows(structured, agrees)[:, None] | _bar_rows(structured.T, agrees.T)[None, :]
    judged = structured & ~(overlaid | barred)
    if judged.sum() < MIN_STRUCTURED:
        return Comparison(0.0, 0)
    moved = _interior_difference(judged & (correlation < BLOCK_DIFFERS), covered)
    return Comparison(float((correlation[judged] > BLOCK_AGREES).mean()), moved)


def _tone_residual(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Block means of `x` less what `y`'s predict through one tone curve (gain and offset,
    fitted on the covered blocks, then again on the TONE_FIT closest): what a brightness or
    contrast change explains is not a band."""
    if covered.sum() < MIN_STRUCTURED:
        return x - y
    xs, ys = x[covered], y[covered]
    kept = np.ones(len(xs), dtype=bool)
    gain, offset = 1.0, 0.0
    for fit in range(2):
        if fit:
            kept = _within_quantile(np.abs(xs - (gain * ys + offset)), TONE_FIT)
        kx, ky = xs[kept], ys[kept]
        if ky.std() < FLAT:
            gain, offset = 1.0, float(np.median(kx - ky))
        else:  # the least-squares line, as np.polyfit(ky, kx, 1) fits it
            centred = ky - ky.mean()
            gain = float(centred @ (kx - kx.mean()) / (centred @ centred))
            offset = float(kx.mean() - gain * ky.mean())
            gain = min(max(gain, MIN_GAIN), 1.0 / MIN_GAIN)
    return x - (gain * y + offset)


def _within_quantile(values: npt.NDArray[np.float64], share: float) -> npt.NDArray[np.bool_]:
    """values <= np.quantile(values, share), computed as it computes it (linear
    interpolation between the two order statistics around it) without its overhead, which
    outweighs the work on arrays this short."""
    virtual = (len(values) - 1) * share
    below = int(np.floor(virtual))
    above = min(below + 1, len(values) - 1)
    ordered = np.partition(values, (below, above))
    low, high, weight = float(ordered[below]), float(ordered[above]), virtual - below
    from_low = weight < 0.5  # numpy interpolates from the nearer end
    level = low + (high - low) * weight if from_low else high - (high - low) * (1 - weight)
    return values <= level


def _tone_offset(
    shift: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Each covered block's tone shift from the median one (NaN where not covered)."""
    if not covered.any():
        return np.full(shift.shape, np.nan)
    return np.where(covered, shift - np.median(shift[covered]), np.nan)


def _overlaid_rows(
    offset: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """The rows of a band laid over the photo, with the row on either side: runs of rows
    whose covered blocks (tone `offset` from the median), half a row at least, shift in tone
    one way."""
    rows = offset.shape[0]
    if not covered.any():
        return np.zeros(rows, dtype=bool)
    counts = covered.sum(axis=1)
    banded = np.zeros(rows, dtype=bool)
    judged = np.flatnonzero(counts >= max(2, covered.shape[1] // 2))
    if len(judged):
        tone = _row_medians(offset[judged])
        along = (np.sign(tone)[:, None] * offset[judged] > TONE_SHIFT / 2) & covered[judged]
        share = along.sum(axis=1) / counts[judged]
        banded[judged] = (np.abs(tone) > TONE_SHIFT) & (share >= OVERLAID_ROW)
    marked = np.flatnonzero(banded)
    for start, end in itertools.pairwise(marked.tolist()):
        if end - start <= BAND_GAP + 1:
            banded[start:end] = True
    runs = _short_runs(banded, MAX_BAR * rows)
    grown = runs.copy()
    grown[1:] |= runs[:-1]
    grown[:-1] |= runs[1:]
    return grown


def _row_medians(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """np.nanmedian(values, axis=1) for rows with a number in each, without its masked
    arrays (ten times slower on rows this short)."""
    ordered = np.sort(values, axis=1)  # NaN last
    count = (~np.isnan(values)).sum(axis=1)
    row = np.arange(len(values))
    return (ordered[row, (count - 1) // 2] + ordered[row, count // 2]) / 2  # type: ignore[no-any-return]


def _short_runs(flags: npt.NDArray[np.bool_], limit: float) -> npt.NDArray[np.bool_]:
    """`flags` less its runs longer than `limit`; nothing when what is left exceeds
    MAX_LEFT_OUT of them."""
    result = np.zeros(len(flags), dtype=bool)
    start = None
    for row in range(len(flags) + 1):
        if row < len(flags) and flags[row]:
            start = row if start is None else start
            continue
        if start is not None and row - start <= limit:
            result[start:row] = True
        start = None
    total = MAX_LEFT_OUT * len(flags)
    return result if result.sum() <= total else np.zeros(len(flags), dtype=bool)


def _bar_rows(
    structured: npt.NDArray[np.bool_], agrees: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """The rows an added bar covers: runs of rows (each at most MAX_BAR of them, all at most
    MAX_BAR together) whose structured blocks, half a row at least, nearly all disagree."""
    rows = structured.shape[0]
    counts = structured.sum(axis=1)
    disagreeing = (structured & ~agrees).sum(axis=1)
    barred = (counts >= max(2, structured.shape[1] // 2)) & (disagreeing >= BAR_ROW * counts)
    return _short_runs(barred, MAX_BAR * rows)


_RAMP = np.arange(BLOCK, dtype=np.float64) - (BLOCK - 1) / 2
_PLANE_AXES = (np.tile(_RAMP, BLOCK), np.repeat(_RAMP, BLOCK))  # x and y of a flattened block


def _detail(
    blocks: npt.NDArray[np.float64], energy: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Grey-level deviation of each (mean-free) block, of sum of squares `energy`, from the
    plane that fits it best: what a gradient of light does not explain. The plane's two
    axes are orthogonal to each other and to a constant, so what is left is the energy less
    the block's projections on them."""
    left = energy.copy()
    for axis in _PLANE_AXES:
        left -= (blocks @ axis) ** 2 / (axis @ axis)
    return np.sqrt(np.maximum(left, 0.0) / (BLOCK * BLOCK))


def _interior_difference(
    differs: npt.NDArray[np.bool_], covered: npt.NDArray[np.bool_]
) -> int:
    """Blocks in the largest patch of clearly different blocks that reaches into the photo
    beyond its margins: where a subject moved. Edits stay in a margin (a caption bar, a
    frame, a crop's or rotation's border); a moved subject may touch the border (a person's
    body) but reaches inwards."""
    import cv2

    rows, cols = differs.shape
    margin = cv2.dilate((~covered).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    band_rows, band_cols = max(1, round(MARGIN * rows)), max(1, round(MARGIN * cols))
    margin[:band_rows, :] = margin[-band_rows:, :] = True
    margin[:, :band_cols] = margin[:, -band_cols:] = True
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        differs.astype(np.uint8), connectivity=4
    )
    inward = set(np.unique(labels[differs & ~margin]).tolist())
    return max((int(stats[i, cv2.CC_STAT_AREA]) for i in inward), default=0)


def _blocks(image: npt.NDArray[Any], rows: int, cols: int) -> npt.NDArray[np.float64]:
    """(rows, cols, BLOCK²) view of the image's whole blocks, as float64."""
    cropped = image[: rows * BLOCK, : cols * BLOCK].astype(np.float64)
    return cropped.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).reshape(
        rows, cols, BLOCK * BLOCK
    )
