"""Photometric check of a geometric match: is it the same photo, or another shot of the scene?

Keypoints agree on a transform for near-duplicates and for burst shots alike (the background
matches). Warping one photo onto the other with that transform tells them apart: a copy lines
up block for block (up to colour, compression and an added caption), another shot does not
where the subject moved. Measured on Caltech-101 (benchmarks/duplicates.py): copies agree on
≥ 0.73 of their blocks, verified pairs of different face photos on ≤ 0.67."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

CHECK_SIDE = 128  # compare at this longer side: fine enough to see a moved subject
BLOCK = 16
BLOCK_AGREES = 0.7  # correlation of a block with its warped counterpart
MIN_AGREEMENT = 0.7  # share of agreeing blocks that makes the same photo
FLAT = 3.0  # grey-level deviation under which a block has no structure to compare


@dataclass(frozen=True)
class AlignView:
    """A photo's grey pixels at CHECK_SIDE, and the photo's original size."""

    grey: npt.NDArray[np.float32]
    original_size: tuple[int, int]

    @classmethod
    def of(cls, image: Image.Image, original_size: tuple[int, int]) -> AlignView:
        factor = CHECK_SIDE / max(image.size)
        size = (max(BLOCK, round(image.width * factor)), max(BLOCK, round(image.height * factor)))
        grey = image.convert("L").resize(size, Image.Resampling.BILINEAR)
        return cls(np.asarray(grey, np.float32), original_size)

    def from_original(self) -> npt.NDArray[np.float64]:
        height, width = self.grey.shape
        return np.diag([width / self.original_size[0], height / self.original_size[1], 1.0])


def agreement(a: AlignView, b: AlignView, transform: npt.NDArray[np.float64]) -> float:
    """Share of `b`'s blocks inside the overlap that match `a` warped onto `b` by `transform`
    (which maps `a`'s original coordinates to `b`'s); 0 when they barely overlap."""
    import cv2

    warp = b.from_original() @ transform @ np.linalg.inv(a.from_original())
    height, width = b.grey.shape
    warped = cv2.warpPerspective(a.grey, warp, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(
        np.ones_like(a.grey), warp, (width, height), flags=cv2.INTER_NEAREST
    )
    x = cv2.GaussianBlur(warped, (3, 3), 0).astype(np.float64)
    y = cv2.GaussianBlur(b.grey, (3, 3), 0).astype(np.float64)
    agreeing = compared = 0
    for top in range(0, height - BLOCK + 1, BLOCK):
        for left in range(0, width - BLOCK + 1, BLOCK):
            if inside[top : top + BLOCK, left : left + BLOCK].mean() < 0.9:
                continue
            xa = x[top : top + BLOCK, left : left + BLOCK].ravel()
            ya = y[top : top + BLOCK, left : left + BLOCK].ravel()
            compared += 1
            xa, ya = xa - xa.mean(), ya - ya.mean()
            if xa.std() < FLAT and ya.std() < FLAT:
                agreeing += 1
                continue
            denominator = float(np.sqrt((xa * xa).sum() * (ya * ya).sum()))
            agreeing += denominator > 0 and float((xa * ya).sum()) / denominator > BLOCK_AGREES
    blocks_in_b = (height // BLOCK) * (width // BLOCK)
    if compared < 0.2 * blocks_in_b or compared == 0:
        return 0.0
    return agreeing / compared
