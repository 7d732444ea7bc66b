"""The HOG method in numpy: scikit-image's descriptor on real photos, without scikit-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.core.embedders import hog
from tests.support.blocked_imports import run_without

ROOT = Path(__file__).resolve().parents[1]
CALTECH = ROOT.parent / "shared" / "data" / "caltech101-dev"
PHOTOS_PER_CLASS = 2
SUFFIXES = (".jpg", ".jpeg", ".png")


def caltech_photos() -> list[Path]:
    """The first photos of each class folder of the development set (skips without it)."""
    if not CALTECH.is_dir():
        pytest.skip(f"no development photos at {CALTECH}")
    return [photo for folder in sorted(p for p in CALTECH.iterdir() if p.is_dir())
            for photo in sorted(f for f in folder.iterdir()
                                if f.suffix.lower() in SUFFIXES)[:PHOTOS_PER_CLASS]]


def skimage_hog_vector(image: Image.Image) -> np.ndarray:
    """What the method computed with scikit-image before it was written in numpy."""
    feature = pytest.importorskip("skimage.feature")
    grey = image.convert("L").resize((hog.SIDE, hog.SIDE), Image.Resampling.BILINEAR)
    features = feature.hog(np.asarray(grey, np.float32) / 255.0, orientations=hog.ORIENTATIONS,
                           pixels_per_cell=(hog.CELL, hog.CELL), cells_per_block=(1, 1),
                           block_norm="L2-Hys", feature_vector=True)
    return np.sqrt(np.maximum(np.asarray(features, np.float32), 0.0))


def test_hog_matches_scikit_image_on_real_photos() -> None:
    photos = caltech_photos()
    assert len(photos) >= 30
    for path in photos:
        with Image.open(path) as image:
            ours, reference = hog.hog_vector(image), skimage_hog_vector(image)
        assert ours.shape == reference.shape == (hog.DIM,)
        cosine = float(ours @ reference / (np.linalg.norm(ours) * np.linalg.norm(reference)))
        assert cosine >= 0.99, path.name
        assert np.abs(ours - reference).max() < 1e-5, path.name  # float rounding only


def edge_photo(vertical: bool) -> Image.Image:
    """Black to white halfway across (a vertical edge) or halfway down (a horizontal one)."""
    pixels = np.zeros((hog.SIDE, hog.SIDE), np.uint8)
    if vertical:
        pixels[:, hog.SIDE // 2:] = 255
    else:
        pixels[hog.SIDE // 2:, :] = 255
    return Image.fromarray(pixels)


@pytest.mark.parametrize(("vertical", "angle_bin"), [(True, 0), (False, hog.ORIENTATIONS // 2)])
def test_an_edge_votes_into_its_gradient_angle_in_the_cells_beside_it(
    vertical: bool, angle_bin: int
) -> None:
    cells = hog.SIDE // hog.CELL
    vector = hog.hog_vector(edge_photo(vertical)).reshape(cells, cells, hog.ORIENTATIONS)
    beside = slice(cells // 2 - 1, cells // 2 + 1)  # the edge's two gradient pixels
    along_edge = vector[:, beside] if vertical else vector[beside, :]
    expected = np.zeros(hog.ORIENTATIONS, np.float32)
    expected[angle_bin] = 1.0
    np.testing.assert_allclose(along_edge, np.broadcast_to(expected, along_edge.shape),
                               atol=1e-4)
    along_edge[...] = 0.0
    assert not vector.any()  # flat cells have no gradient at all


def test_hog_embeds_without_scikit_image_or_scipy(tmp_path: Path) -> None:
    code = ("import numpy as np; from PIL import Image; "
            "from photofinder.core.embedders import load_embedder; "
            f"e = load_embedder('hog', 'cpu', __import__('pathlib').Path({str(tmp_path)!r})); "
            "photo = Image.fromarray(np.arange(64 * 96, dtype=np.uint8).reshape(64, 96)); "
            "v = e.embed_prepared(np.stack([e.prepare(photo)])); print(v.shape)")
    result = run_without(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"(1, {hog.DIM})"
