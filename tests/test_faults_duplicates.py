"""Faults around duplicate groups and search: a catalogued photo that is not there now (its
folder renamed, the file deleted or replaced by a link) is never in a group, never a keeper
and never a search result; the groups do not depend on the order photos were catalogued in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from photofinder.core.duplicates.grouping import DuplicateGroup, Strictness, star_groups
from photofinder.core.library import Library
from tests.support.photos import make_library, scene

ALL_STRICTNESSES = list(Strictness)


def names(groups: list[DuplicateGroup]) -> set[frozenset[str]]:
    return {frozenset(Path(p).name for p in group.paths) for group in groups}


def indexed_with_copies(library: Library, tmp_path: Path) -> Path:
    """Six photos, two byte-identical copies of photo_000 and a resized copy of photo_001."""
    photos = tmp_path / "photos"
    make_library(photos, 6)
    shutil.copy(photos / "photo_000.jpg", photos / "copy_a.jpg")
    shutil.copy(photos / "photo_000.jpg", photos / "copy_b.jpg")
    scene(1).resize((320, 240)).save(photos / "small_copy.jpg", quality=80)
    library.add_roots([photos])
    library.update()
    return photos


@pytest.mark.parametrize("strictness", ALL_STRICTNESSES)
def test_a_deleted_copy_leaves_its_group(
    library: Library, tmp_path: Path, strictness: Strictness
) -> None:
    photos = indexed_with_copies(library, tmp_path)
    (photos / "copy_a.jpg").unlink()
    (photos / "copy_b.jpg").unlink()
    (photos / "small_copy.jpg").unlink()  # not re-indexed: the catalogue still has all three
    assert library.duplicates(strictness, geometric=False) == []


@pytest.mark.parametrize("strictness", ALL_STRICTNESSES)
def test_a_missing_first_copy_does_not_take_the_others_out(
    library: Library, tmp_path: Path, strictness: Strictness
) -> None:
    photos = indexed_with_copies(library, tmp_path)
    (photos / "photo_000.jpg").unlink()  # the first catalogued of three exact copies
    groups = library.duplicates(strictness, geometric=False)
    assert frozenset({"copy_a.jpg", "copy_b.jpg"}) in names(groups)
    assert all("photo_000.jpg" not in name for group in names(groups) for name in group)


@pytest.mark.parametrize("strictness", ALL_STRICTNESSES)
def test_a_renamed_folder_leaves_no_ghost_in_a_group_or_as_keeper(
    library: Library, tmp_path: Path, strictness: Strictness
) -> None:
    photos = indexed_with_copies(library, tmp_path)
    renamed = photos.rename(tmp_path / "photos_renamed")
    library.add_roots([renamed])
    library.update()
    for group in library.duplicates(strictness, geometric=False):
        assert all(Path(path).is_file() for path in group.paths), group.paths
        assert Path(group.keeper_record.path).parent == renamed


@pytest.mark.parametrize("strictness", ALL_STRICTNESSES)
def test_a_link_in_place_of_a_copy_is_not_in_a_group(
    library: Library, tmp_path: Path, strictness: Strictness
) -> None:
    photos = indexed_with_copies(library, tmp_path)
    for copy in ("copy_a.jpg", "copy_b.jpg"):
        (photos / copy).unlink()
        os.symlink(photos / "photo_000.jpg", photos / copy)  # the same bytes, through a link
    groups = library.duplicates(strictness, geometric=False)
    assert all(not name.startswith("copy_") for group in names(groups) for name in group)


def test_search_skips_missing_photos_and_still_fills_k(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    paths = make_library(photos, 10)
    library.add_roots([photos])
    library.update()
    query = library.catalog.file_by_path(str(paths[0]))
    assert query is not None
    first = library.search_file_id(query.id, k=4)
    for hit in first[:3]:
        Path(hit.path).unlink()
    hits = library.search_file_id(query.id, k=4)
    assert len(hits) == 4
    assert all(Path(hit.path).is_file() for hit in hits)
    precise = library.search_files([paths[0]], k=4, verify=True)[0]
    assert len(precise) == 4
    assert all(Path(hit.path).is_file() for hit in precise)


def test_search_by_an_outside_image_returns_no_ghosts(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 5)
    library.add_roots([photos])
    library.update()
    gone = photos.rename(tmp_path / "elsewhere")  # not re-indexed: every photo is a ghost
    assert library.search_image(scene(0), k=3) == []
    assert len(list(gone.iterdir())) == 5


# --- the same photos, catalogued in another order, make the same groups ----------------------
def chain_photos() -> list[Image.Image]:
    """Four blends of two scenes, each similar to its neighbours only: 0~1, 1~2 and 2~3 pass
    `similar`, so 1 and 2 tie as the centre of a group."""
    first, second = scene(11), scene(12)
    return [Image.blend(first, second, share) for share in (0.0, 0.25, 0.5, 0.75)]


def groups_when_catalogued_in(order: list[int], data: Path, photos: Path) -> list[object]:
    """Duplicate groups (paths, weakest score, keeper) of the chain photos, catalogued one at
    a time in `order` (so their catalogue ids follow it)."""
    if photos.exists():
        shutil.rmtree(photos)
    photos.mkdir()
    images = chain_photos()
    with Library(data, device="cpu") as library:
        library.add_roots([photos])
        for number in order:
            images[number].save(photos / f"blend_{number}.jpg", quality=95)
            library.update()
        groups = library.duplicates(Strictness.SIMILAR, geometric=False)
        return [(g.paths, round(g.min_score, 6), g.keeper_record.path) for g in groups]


@pytest.mark.usefixtures("fake_model")
def test_groups_do_not_depend_on_the_order_photos_were_catalogued(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    forward = groups_when_catalogued_in([0, 1, 2, 3], tmp_path / "forward", photos)
    backward = groups_when_catalogued_in([3, 2, 1, 0], tmp_path / "backward", photos)
    assert forward, "the chain makes a group"
    assert forward == backward


def test_star_groups_do_not_depend_on_the_order_pairs_arrive_in() -> None:
    same_photo = {(1, 2): 0.99, (3, 4): 0.99}
    similar = {(1, 5): 0.9, (3, 5): 0.9}  # 5 is as close to either group: one rule decides
    backward = dict(reversed(similar.items()))
    assert star_groups(same_photo, similar) == star_groups(same_photo, backward)
