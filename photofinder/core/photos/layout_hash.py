"""A 64-bit perceptual hash of a photo's layout, and pairs of photos whose layouts match under
a rotation or mirror.

The embedding sees a photo turned by 90° as a different picture (similarity ≈ 0.68 for a
rotated copy), so rotated copies never reach the nearest-neighbour candidates. The hash is the
sign of the 8×8 lowest DCT frequencies of the photo squashed to 32×32 grey. Rotating or
mirroring the photo permutes those coefficients and flips some signs, so the hash of every
turned version of a photo follows from its stored hash by bit operations: no photo is read
again to find its rotated copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

SIDE = 32
LOW = 8
CHUNKS = 4  # pairs within MAX_DISTANCE share one 16-bit chunk exactly (sure up to 3 bits)
MAX_DISTANCE = 8  # of 63 bits: copies measure 0–6, unrelated photos ≈ 20–40
BUCKET_LIMIT = 256  # a chunk value this common says nothing (flat, featureless layouts)

Hashes = npt.NDArray[np.uint64]


def _dct_matrix() -> npt.NDArray[np.float64]:
    x = np.arange(SIDE)
    angles = np.pi * (2 * x[None, :] + 1) * np.arange(LOW)[:, None] / (2 * SIDE)
    matrix: npt.NDArray[np.float64] = np.cos(angles) * np.sqrt(2 / SIDE)
    return matrix


_DCT = _dct_matrix()
_WEIGHTS = (np.uint64(1) << np.arange(64, dtype=np.uint64)).reshape(LOW, LOW)


def layout_hash(image: Image.Image) -> int:
    """Bit 8·u + v is set when DCT coefficient (u, v) is positive; the mean (0, 0) is left out."""
    grey = np.asarray(image.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX), np.float64)
    coefficients = _DCT @ grey @ _DCT.T
    bits = coefficients > 0
    bits[0, 0] = False
    return int(_WEIGHTS[bits].sum(dtype=np.uint64))


def _bits(hashes: Hashes) -> npt.NDArray[np.bool_]:
    shifts = np.arange(64, dtype=np.uint64)
    return ((hashes[:, None] >> shifts) & np.uint64(1)).astype(bool).reshape(-1, LOW, LOW)


def _pack(bits: npt.NDArray[np.bool_]) -> Hashes:
    weighted = bits.reshape(-1, 64).astype(np.uint64) << np.arange(64, dtype=np.uint64)
    packed: Hashes = weighted.sum(axis=1, dtype=np.uint64)
    return packed


def turned_hashes(hashes: Hashes) -> Hashes:
    """The hashes each photo would have if rotated by 90°, 180°, 270° or mirrored on either
    axis (7 columns). Mirroring left-right negates the coefficients of odd horizontal frequency,
    top-bottom those of odd vertical frequency; rotating by 90° is a transpose and a mirror."""
    bits = _bits(np.asarray(hashes, np.uint64))
    odd = np.arange(LOW) % 2 == 1
    flip_x = np.broadcast_to(odd[None, :], (LOW, LOW))
    flip_y = np.broadcast_to(odd[:, None], (LOW, LOW))
    variants = []
    for transposed in (False, True):
        base = bits.transpose(0, 2, 1) if transposed else bits
        for mirror_x, mirror_y in ((False, False), (True, False), (False, True), (True, True)):
            if not transposed and not (mirror_x or mirror_y):
                continue
            flips = (flip_x & mirror_x) ^ (flip_y & mirror_y)
            flipped = base ^ flips
            flipped[:, 0, 0] = False
            variants.append(_pack(flipped))
    return np.stack(variants, axis=1)


_BYTE_BITS = np.array([bin(byte).count("1") for byte in range(256)], np.int64)


def popcount(values: Hashes) -> npt.NDArray[np.int64]:
    """Set bits of each 64-bit value: NumPy ≥ 2's `bitwise_count`, else a lookup per byte
    (NumPy 1.26 has no popcount)."""
    bitwise_count = getattr(np, "bitwise_count", None)
    if bitwise_count is not None:
        counted: npt.NDArray[np.int64] = bitwise_count(values).astype(np.int64)
        return counted
    as_bytes = np.ascontiguousarray(values, np.uint64).view(np.uint8)
    by_byte = _BYTE_BITS[as_bytes].reshape(*np.shape(values), 8)
    summed: npt.NDArray[np.int64] = by_byte.sum(axis=-1)
    return summed


def distances(a: Hashes, b: Hashes) -> npt.NDArray[np.int64]:
    """Hamming distances between the hashes of `a` and `b`, element by element."""
    return popcount(np.bitwise_xor(a, b))


def turned_pairs(
    ids: Sequence[int], hashes: Hashes, max_distance: int = MAX_DISTANCE
) -> dict[tuple[int, int], int]:
    """Pairs (smaller id first) where one photo, rotated or mirrored, has the other's layout,
    with the smallest Hamming distance found. Candidates share a 16-bit chunk of the hash."""
    id_array = np.asarray(ids, np.int64)
    plain = np.asarray(hashes, np.uint64)
    if len(plain) < 2:
        return {}
    turned = turned_hashes(plain)
    probe_rows = np.repeat(np.arange(len(plain)), turned.shape[1])
    probes = turned.ravel()
    best: dict[tuple[int, int], int] = {}
    for chunk in range(CHUNKS):
        shift = np.uint64(16 * chunk)
        keys = (plain >> shift) & np.uint64(0xFFFF)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        probe_keys = (probes >> shift) & np.uint64(0xFFFF)
        low = np.searchsorted(sorted_keys, probe_keys, "left")
        high = np.searchsorted(sorted_keys, probe_keys, "right")
        counts = high - low
        usable = (counts > 0) & (counts <= BUCKET_LIMIT)
        if not usable.any():
            continue
        rows = np.repeat(probe_rows[usable], counts[usable])
        starts = np.repeat(low[usable], counts[usable])
        offsets = np.arange(len(rows)) - np.repeat(
            np.cumsum(counts[usable]) - counts[usable], counts[usable]
        )
        others = order[starts + offsets]
        probe_values = np.repeat(probes[usable], counts[usable])
        found = distances(probe_values, plain[others])
        keep = (found <= max_distance) & (rows != others)
        for row, other, distance in zip(
            rows[keep].tolist(), others[keep].tolist(), found[keep].tolist(), strict=True
        ):
            a, b = int(id_array[row]), int(id_array[other])
            pair = (a, b) if a < b else (b, a)
            if distance < best.get(pair, 64):
                best[pair] = distance
    return best
