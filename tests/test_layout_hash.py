"""Layout hashes: every rotation and mirror of a photo is predicted from its stored hash, and
rotated copies become duplicate candidates even from catalogues written before the hash."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.core.duplicates.candidates import turned_pairs
from photofinder.core.library import Library
from photofinder.core.photos.layout_hash import distances, layout_hash, turned_hashes
from photofinder.core.photos.layout_hash import turned_pairs as hash_pairs
from photofinder.core.storage.catalog import Catalog, PhotoMetadata
from tests.support.photos import make_library, scene
from tests.support.textured import textured

TURNS = [
    Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
]


@pytest.mark.parametrize("turn", TURNS, ids=lambda t: t.name)
def test_the_hash_of_a_turned_photo_follows_from_the_stored_hash(turn: Image.Transpose) -> None:
    photo = textured(3, (400, 300))
    predicted = turned_hashes(np.array([layout_hash(photo)], np.uint64))[0]
    actual = np.full(len(predicted), layout_hash(photo.transpose(turn)), np.uint64)
    assert distances(predicted, actual).min() <= 2


def test_pairs_are_rotated_copies_not_other_photos() -> None:
    photos = [textured(seed, (400, 300)) for seed in range(6)]
    buffer = io.BytesIO()
    photos[4].transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=80)
    photos.append(Image.open(buffer).convert("RGB"))
    ids = [10 * (i + 1) for i in range(len(photos))]
    hashes = np.array([layout_hash(p) for p in photos], np.uint64)
    assert set(hash_pairs(ids, hashes)) == {(50, 70)}


def test_hashes_with_the_top_bit_set_survive_the_catalogue(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    root = catalog.add_root(tmp_path)
    top_bit = (1 << 63) + 5
    for number, value in enumerate([top_bit, 7]):
        file_id = catalog.upsert_seen(root.id, str(tmp_path / f"{number}.jpg"), 1, 1)
        catalog.mark_ok(file_id, PhotoMetadata(f"h{number}", 4, 3, "JPEG", None, None, value), b"")
    assert catalog.layout_hashes()[1] == [top_bit, 7]
    assert catalog.ids_without_layout_hash() == []


def test_a_rotated_copy_is_grouped_with_its_original(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 5)
    scene(2).transpose(Image.Transpose.ROTATE_270).save(photos / "turned.jpg", quality=85)
    library.add_roots([photos])
    library.update()
    groups = [sorted(Path(p).name for p in g.paths) for g in library.duplicates()]
    assert groups == [["photo_002.jpg", "turned.jpg"]]


def test_photos_indexed_before_layout_hashes_get_them_from_thumbnails(
    library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 4)
    scene(1).transpose(Image.Transpose.ROTATE_90).save(photos / "turned.jpg", quality=85)
    library.add_roots([photos])
    library.update()
    catalog = library.catalog
    with catalog.transaction():
        catalog._conn.execute("UPDATE files SET layout_hash = NULL")
    assert len(catalog.ids_without_layout_hash()) == 5
    by_name = {Path(r.path).name: r.id for r in catalog.files_by_ids(range(1, 10)).values()}
    assert set(turned_pairs(catalog)) == {
        tuple(sorted((by_name["photo_001.jpg"], by_name["turned.jpg"])))
    }
    assert catalog.ids_without_layout_hash() == []


def test_distances_without_numpy_2_popcount_match(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2**63, 500, dtype=np.uint64) | (np.uint64(1) << np.uint64(63))
    b = rng.integers(0, 2**63, 500, dtype=np.uint64)
    a[:3] = [0, 2**64 - 1, 0x5555_5555_5555_5555]
    b[:3] = [2**64 - 1, 2**64 - 1, 0]
    expected = [bin(int(x) ^ int(y)).count("1") for x, y in zip(a, b, strict=True)]
    if hasattr(np, "bitwise_count"):
        assert distances(a, b).tolist() == expected
        monkeypatch.delattr(np, "bitwise_count")  # as on NumPy 1.26
    found = distances(a, b)
    assert found.dtype == np.int64 and found.tolist() == expected
    assert expected[:3] == [64, 0, 32]
