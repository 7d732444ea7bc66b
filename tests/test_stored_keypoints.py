"""Keypoints detected once, while indexing, and read back by the duplicate check: stored
losslessly, kept with the photo's thumbnail, ignored (and detected again) when damaged or of
another version, and never a reason for a photo to fail indexing."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.core.duplicates.pair_check import PhotoSource, photo_view, same_photo
from photofinder.core.duplicates.review import GeometricConfirmer
from photofinder.core.indexing import keypoint_backfill
from photofinder.core.library import Library
from photofinder.core.matching import stored_keypoints
from photofinder.core.matching.keypoints import KeypointSet, detect_image
from photofinder.core.matching.stored_keypoints import (
    CONFIRM_LIMIT,
    CONFIRM_SIDE,
    STORED_VERSION,
    decode,
    encode,
)
from photofinder.core.progress import CancelToken, Progress
from photofinder.core.storage.catalog import Catalog
from tests.support.old_catalogue import catalogue_at
from tests.support.pair_sources import saved_source
from tests.support.textured import save, textured, write_textured


def same_sets(a: KeypointSet, b: KeypointSet) -> bool:
    return (a.original_size, a.working_size, a.kind, a.mirrored) == (
        b.original_size, b.working_size, b.kind, b.mirrored) and all(
        np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("xy", "sizes", "angles", "responses", "octaves", "descriptors"))


def detected(source: PhotoSource) -> KeypointSet:
    assert source.thumbnail is not None and source.size is not None
    return stored_keypoints.thumbnail_keypoints(source.thumbnail, source.size)


def test_a_stored_set_reads_back_exactly_at_the_photo_size(tmp_path: Path) -> None:
    found = detected(saved_source("a.jpg", textured(1, (640, 480)), tmp_path))
    back, larger = decode(encode(found), (640, 480)), decode(encode(found), (1280, 960))
    assert found.count > 50 and back is not None and larger is not None
    assert same_sets(back, found)
    assert larger.points() == pytest.approx(found.points() * 2)


def test_only_the_strongest_keypoints_are_kept(tmp_path: Path) -> None:
    source = saved_source("a.jpg", textured(1, (640, 480)), tmp_path)
    assert source.thumbnail is not None
    with Image.open(io.BytesIO(source.thumbnail)) as thumbnail:
        image = thumbnail.convert("RGB")
    image.thumbnail((CONFIRM_SIDE, CONFIRM_SIDE), Image.Resampling.BILINEAR)
    every = detect_image(image, "SIFT", (640, 480))
    kept = detected(source)
    assert every.count > CONFIRM_LIMIT >= kept.count > 0.9 * CONFIRM_LIMIT
    assert kept.responses.min() >= np.sort(every.responses)[-CONFIRM_LIMIT]


@pytest.mark.parametrize("damage", ["cut short", "one byte more", "another format", "empty"])
def test_damaged_bytes_read_as_nothing(tmp_path: Path, damage: str) -> None:
    data = encode(detected(saved_source("a.jpg", textured(2, (640, 480)), tmp_path)))
    broken = {"cut short": data[:-7], "one byte more": data + b"\0",
              "another format": b"XXXX" + data[4:], "empty": b""}[damage]
    assert decode(broken, (640, 480)) is None


def test_a_check_on_stored_keypoints_detects_nothing_and_judges_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = textured(3, (640, 480))
    crop = picture.crop((80, 60, 560, 420))  # another shape: only keypoints line it up
    plain = [saved_source(n, image, tmp_path)
             for n, image in (("a.jpg", picture), ("b.jpg", crop))]
    stored = [PhotoSource(s.key, s.path, s.size, s.thumbnail, encode(detected(s)))
              for s in plain]
    assert same_photo(photo_view(plain[0]), photo_view(plain[1])) is True

    def no_detection(*args: object) -> KeypointSet:
        raise AssertionError("detected keypoints that were stored")

    monkeypatch.setattr(stored_keypoints, "thumbnail_keypoints", no_detection)
    assert same_photo(photo_view(stored[0]), photo_view(stored[1])) is True


def test_damaged_stored_keypoints_are_detected_again(tmp_path: Path) -> None:
    picture = textured(3, (640, 480))
    crop = picture.crop((80, 60, 560, 420))
    sources = [saved_source(n, image, tmp_path)
               for n, image in (("a.jpg", picture), ("b.jpg", crop))]
    damaged = [PhotoSource(s.key, s.path, s.size, s.thumbnail, b"PFK1 damaged")
               for s in sources]
    views = [photo_view(s) for s in damaged]
    assert views[0] is not None and same_sets(views[0].keypoints(), detected(sources[0]))
    assert same_photo(views[0], views[1]) is True


def test_indexing_stores_the_keypoints_the_check_would_detect(library: Library,
                                                              tmp_path: Path) -> None:
    photo = write_textured(tmp_path / "photos" / "a.jpg", 4, (640, 480))
    library.add_roots([tmp_path / "photos"])
    library.update()
    catalog = library.catalog
    record = catalog.file_by_path(str(photo))
    assert record is not None
    stored = decode(catalog.keypoints_of([record.id], STORED_VERSION)[record.id], (640, 480))
    thumbnail = catalog.thumbnail(record.id)
    assert stored is not None and thumbnail is not None
    assert same_sets(stored, stored_keypoints.thumbnail_keypoints(thumbnail, (640, 480)))
    assert catalog.keypoints_of([record.id], "another version") == {}


def test_a_photo_whose_keypoints_fail_is_still_indexed(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2

    def failing(*args: object) -> KeypointSet:
        raise cv2.error("detection failed")

    monkeypatch.setattr(stored_keypoints, "thumbnail_keypoints", failing)
    write_textured(tmp_path / "photos" / "a.jpg", 4, (640, 480))
    library.add_roots([tmp_path / "photos"])
    report = library.update()
    assert report.embedded == 1 and not library.catalog.failed_files()
    assert stored_keypoints.stored_form(b"not a jpeg", (10, 10)) is None


def test_keypoints_go_with_the_thumbnail_and_copies_share_them(
    library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    photo = write_textured(folder / "a.jpg", 5, (640, 480))
    library.add_roots([folder])
    library.update()
    shutil.copyfile(photo, folder / "copy.jpg")
    library.update()
    catalog = library.catalog
    ids = {Path(r.path).name: r.id for r in catalog.files_by_ids(range(1, 10)).values()}
    stored = catalog.keypoints_of(ids.values(), STORED_VERSION)
    assert stored[ids["a.jpg"]] == stored[ids["copy.jpg"]]
    save(textured(6, (640, 480)), photo)  # changed: its old keypoints are not its own
    library.update()
    assert catalog.keypoints_of([ids["a.jpg"]], STORED_VERSION)[ids["a.jpg"]] != stored[
        ids["a.jpg"]]


def test_the_confirmer_reads_stored_keypoints_and_detects_those_catalogued_before(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    picture = textured(7, (800, 600))
    save(picture, folder / "a.jpg")
    save(picture.crop((100, 80, 700, 530)), folder / "crop.jpg")
    library.add_roots([folder])
    library.update()
    catalog = library.catalog
    pair = tuple(catalog.files_by_ids([1, 2]).values())
    assert len(pair) == 2
    detect = stored_keypoints.thumbnail_keypoints
    detections: list[object] = []

    def counted(*args: tuple[bytes, tuple[int, int]]) -> KeypointSet:
        detections.append(args)
        return detect(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(stored_keypoints, "thumbnail_keypoints", counted)
    with GeometricConfirmer(catalog) as confirm:
        assert list(confirm([pair])) == [True] and detections == []
    catalog._conn.execute("DELETE FROM keypoints")  # as a catalogue from before they were
    with GeometricConfirmer(catalog) as confirm:
        assert list(confirm([pair])) == [True] and len(detections) == 2


def test_a_version_six_catalogue_gains_the_table_and_keeps_its_rows(tmp_path: Path) -> None:
    upgraded = Catalog(catalogue_at(tmp_path / "old.sqlite3", 6))
    try:
        assert [r.path for r in upgraded.roots()] == ["/p"]
        assert upgraded.keypoints_of([1], STORED_VERSION) == {}
    finally:
        upgraded.close()


# --- photos catalogued before keypoints were stored -----------------------------------------
def catalogued_before(library: Library, folder: Path, count: int) -> list[int]:
    """`count` photos indexed, then their keypoints dropped as in a catalogue from before."""
    for seed in range(count):
        write_textured(folder / f"p{seed}.jpg", 20 + seed, (640, 480))
    library.add_roots([folder])
    library.update()
    library.catalog._conn.execute("DELETE FROM keypoints")
    return library.catalog.ids_without_keypoints(STORED_VERSION)


def test_an_update_stores_the_keypoints_of_photos_catalogued_before(
    library: Library, tmp_path: Path
) -> None:
    ids = catalogued_before(library, tmp_path / "photos", 3)
    assert len(ids) == 3
    report = library.update()
    assert not report.cancelled and library.catalog.ids_without_keypoints(STORED_VERSION) == []
    stored = library.catalog.keypoints_of(ids, STORED_VERSION)
    for file_id in ids:
        thumbnail = library.catalog.thumbnail(file_id)
        back = decode(stored[file_id], (640, 480))
        assert thumbnail is not None and back is not None
        assert same_sets(back, stored_keypoints.thumbnail_keypoints(thumbnail, (640, 480)))


def test_a_cancelled_backfill_keeps_its_batches_and_the_next_update_goes_on(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = catalogued_before(library, tmp_path / "photos", 3)
    monkeypatch.setattr(keypoint_backfill, "BATCH", 1)
    token = CancelToken()

    def cancel_after_one(progress: Progress) -> None:
        if progress.stage == keypoint_backfill.STAGE and progress.done == 1:
            token.cancel()

    assert library.update(cancel_after_one, token).cancelled
    assert library.catalog.ids_without_keypoints(STORED_VERSION) == ids[1:]
    library.update()
    assert library.catalog.ids_without_keypoints(STORED_VERSION) == []


def test_a_catalogue_that_cannot_take_the_keypoints_does_not_fail_the_update(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = catalogued_before(library, tmp_path / "photos", 2)

    def full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(library.catalog, "add_keypoints", full)
    report = library.update()
    assert not report.cancelled and not report.failures
    assert library.catalog.ids_without_keypoints(STORED_VERSION) == ids  # next time


def test_keypoints_are_not_stored_for_a_photo_that_changed_meanwhile(
    library: Library, tmp_path: Path
) -> None:
    (file_id,) = catalogued_before(library, tmp_path / "photos", 1)
    record = library.catalog.file_by_id(file_id)
    assert record is not None and record.root_id is not None
    library.catalog.upsert_seen(record.root_id, record.path, record.size + 1, record.mtime_ns)
    library.catalog.add_keypoints({file_id: b"detected from the old thumbnail"}, STORED_VERSION)
    assert library.catalog.keypoints_of([file_id], STORED_VERSION) == {}
