"""Keypoint descriptors for the aggregated methods (SIFT → RootSIFT, ORB), cv2 lazily."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.embedders.base import FloatArray

SHORT_SIDE = 256
MAX_KEYPOINTS = 500


def grey_pixels(image: Image.Image, short_side: int = SHORT_SIDE) -> npt.NDArray[np.uint8]:
    """Grey image scaled so its shorter side is `short_side` (sizes of copies then agree)."""
    grey = image.convert("L")
    w, h = grey.size
    factor = short_side / max(1, min(w, h))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    if size != grey.size:
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(grey, np.uint8))


def root_sift(image: Image.Image, max_keypoints: int = MAX_KEYPOINTS) -> FloatArray:
    """(N, 128) RootSIFT descriptors: L1-normalised, then square-rooted (Arandjelović 2012)."""
    import cv2

    sift = cv2.SIFT.create(nfeatures=max_keypoints)
    _, descriptors = sift.detectAndCompute(grey_pixels(image), None)
    if descriptors is None or len(descriptors) == 0:
        return np.zeros((0, 128), np.float32)
    desc = np.asarray(descriptors, np.float32)
    desc /= np.maximum(desc.sum(axis=1, keepdims=True), 1e-12)
    result: FloatArray = np.sqrt(desc)
    return result


def orb_bits(image: Image.Image, max_keypoints: int = MAX_KEYPOINTS) -> npt.NDArray[np.uint8]:
    """(N, 256) ORB descriptors unpacked to 0/1 bits."""
    import cv2

    orb = cv2.ORB.create(nfeatures=max_keypoints)
    _, descriptors = orb.detectAndCompute(grey_pixels(image), None)
    if descriptors is None or len(descriptors) == 0:
        return np.zeros((0, 256), np.uint8)
    return np.unpackbits(np.asarray(descriptors, np.uint8), axis=1)
