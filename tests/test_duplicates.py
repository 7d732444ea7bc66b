"""Duplicate groups: no chaining, RAW+JPEG pairs, remembered decisions, keeper suggestions."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from photofinder.core.duplicates.candidates import record_neighbours
from photofinder.core.duplicates.grouping import (
    Strictness,
    consistent_groups,
    raw_jpeg_siblings,
    sibling_name,
    star_groups,
)
from photofinder.core.duplicates.keepers import suggest_keeper
from photofinder.core.duplicates.pair_check import other_moments
from photofinder.core.duplicates.review import ReviewSettings, keep_all, mark_not_duplicates
from photofinder.core.library import Library
from photofinder.core.photos.imageio import RAW_SUFFIXES
from photofinder.core.progress import Cancelled, CancelToken
from photofinder.core.storage.catalog import FileRecord
from tests.support.photos import make_library, scene


def record(file_id: int, path: str, **fields: object) -> FileRecord:
    values: dict[str, object] = {
        "root_id": 1, "size": 1000, "mtime_ns": 0, "content_hash": f"h{file_id}", "width": 100,
        "height": 100, "format": "JPEG", "captured_at": None, "status": "ok", "error": None,
    }
    values.update(fields)
    return FileRecord(id=file_id, path=path, **values)  # type: ignore[arg-type]


def test_a_chain_of_close_pairs_does_not_join_its_ends() -> None:
    chain = {(1, 2): 0.9, (2, 3): 0.9, (3, 4): 0.9, (4, 5): 0.9, (5, 6): 0.9}
    groups = [sorted(ids) for ids, _ in star_groups(chain)]
    assert all(len(g) <= 3 for g in groups)
    assert not any(1 in g and 4 in g for g in groups)
    assert sorted(i for g in groups for i in g) == [1, 2, 3, 4, 5, 6]


def test_looser_links_extend_groups_through_their_centres_and_never_split_them() -> None:
    same_photo = {(1, 2): 0.99, (1, 3): 0.9, (7, 8): 0.95}
    similar_only = {(2, 9): 0.97, (1, 4): 0.88, (3, 8): 0.9, (5, 6): 0.87, (4, 5): 0.86}
    groups = {frozenset(ids): weakest for ids, weakest in star_groups(same_photo, similar_only)}
    assert groups == {
        frozenset({1, 2, 3, 4}): 0.88,  # 4 joins through the centre; 9 only knows member 2
        frozenset({7, 8}): 0.95,  # 8 stays with its own copy
        frozenset({5, 6}): 0.87,
    }


def test_a_member_the_rest_of_its_group_contradicts_leaves_it() -> None:
    # 1 is a photo, 2–5 its copies; 6 and 7 are another shot and its copy, which passed the
    # check against 1 but fail it against the copies of 1 (the candidates never paired them).
    same = {(1, m): 0.95 for m in range(2, 8)} | {(6, 7): 0.99}
    contradicting = {(m, shot) for m in range(2, 6) for shot in (6, 7)}
    asked: list[list[tuple[int, int]]] = []

    def check(pairs: list[tuple[int, int]]) -> list[bool]:
        asked.append(pairs)
        return [p not in contradicting for p in pairs]

    verdicts: dict[tuple[int, int], bool] = dict.fromkeys(same, True)
    groups = {frozenset(ids): weakest for ids, weakest in consistent_groups(same, verdicts, check)}
    assert groups == {frozenset({1, 2, 3, 4, 5}): 0.95, frozenset({6, 7}): 0.99}
    assert len(asked) == 1 and (2, 6) in asked[0] and (2, 3) in asked[0]  # all pairs checked


def test_one_failed_check_does_not_split_a_group() -> None:
    same = {(1, m): 0.95 for m in range(2, 6)}
    verdicts = dict.fromkeys(same, True)

    def check(pairs: list[tuple[int, int]]) -> list[bool]:
        return [p != (2, 3) for p in pairs]  # a crop against a captioned copy

    assert [sorted(ids) for ids, _ in consistent_groups(same, verdicts, check)] == [
        [1, 2, 3, 4, 5]
    ]


def test_a_large_group_is_checked_against_a_sample_of_its_members() -> None:
    same = {(1, m): 0.99 for m in range(2, 201)}  # 200 copies of one meme
    asked: list[tuple[int, int]] = []

    def check(pairs: list[tuple[int, int]]) -> list[bool]:
        asked.extend(pairs)
        return [True] * len(pairs)

    groups = consistent_groups(same, dict.fromkeys(same, True), check)
    assert [len(ids) for ids, _ in groups] == [200]
    assert len(asked) < 12 * 200 and len(set(asked)) == len(asked)


def test_raw_and_its_jpeg_are_one_photo() -> None:
    raw, jpeg = record(1, "/p/IMG_1.CR2"), record(2, "/p/IMG_1.jpg")
    assert raw_jpeg_siblings(raw, jpeg)
    assert not raw_jpeg_siblings(raw, record(3, "/other/IMG_1.jpg"))
    assert not raw_jpeg_siblings(jpeg, record(4, "/p/IMG_1.png"))
    assert not raw_jpeg_siblings(raw, record(5, "/p/IMG_1.NEF"))  # two RAW files


@pytest.mark.parametrize("path", [
    "/p/IMG_1.CR2", "/p/img_1.JPG", "/p/.hidden", "/p/trailing.", "/p/a.tar.gz", "/p/NOEXT",
    "/p/dir.d/IMG_2.dng", "/p/IMG 3 (copy).Jpeg", "/p/ünïcode.ARW", "/p/..", "/IMG_4.cr3",
])
def test_sibling_names_read_paths_as_pathlib_does(path: str) -> None:
    parsed = Path(path)
    assert sibling_name(path) == (parsed.suffix.lower() in RAW_SUFFIXES, str(parsed.parent),
                                  parsed.stem.lower())


def test_keeper_rules_in_order_with_reasons() -> None:
    small = record(1, "/p/a.jpg", width=800, height=600, size=5000)
    large = record(2, "/p/b.jpg", width=4000, height=3000, size=4000)
    choice = suggest_keeper([small, large])
    assert choice.keeper_id == 2 and choice.removable == [1]
    assert choice.reason.startswith("highest resolution (4000×3000 vs 800×600)")
    by_size = suggest_keeper([small, large], rules=["file_size", "resolution"])
    assert by_size.keeper_id == 1 and "largest file" in by_size.reason
    heic = record(3, "/p/c.heic", format="HEIF", width=800, height=600)
    assert suggest_keeper([small, heic], rules=["format"]).keeper_id == 3


def test_reference_and_preferred_folders() -> None:
    backup = record(1, "/backup/a.jpg", width=4000, height=3000)
    album = record(2, "/albums/a.jpg", width=800, height=600)
    choice = suggest_keeper([backup, album], reference_folders=["/albums"])
    assert choice.keeper_id == 2 and choice.reason == "in a reference folder"
    both_reference = suggest_keeper([backup, album], reference_folders=["/albums", "/backup"])
    assert both_reference.removable == []  # reference photos are never marked for removal
    assert suggest_keeper([backup, album], preferred_folders=["/albums"]).keeper_id == 2


def index_photos(
    library: Library, folder: Path, photos: dict[str, Image.Image]
) -> dict[str, FileRecord]:
    """Save `photos` (file name → image) in `folder`, index it, and return the records by name."""
    folder.mkdir()
    for name, image in photos.items():
        image.save(folder / name, quality=90)
    library.add_roots([folder])
    library.update()
    records = library.catalog.files_by_ids(range(1, len(photos) + 1)).values()
    return {Path(r.path).name: r for r in records}


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def library_with_copies(library: Library, tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    make_library(photos, 6)
    shutil.copy(photos / "photo_000.jpg", photos / "exact_copy.jpg")
    scene(1, (640, 480)).resize((320, 240)).save(photos / "small_copy.jpg", quality=80)
    library.add_roots([photos])
    library.update()
    return photos


def test_groups_exact_and_resized_copies(library: Library, tmp_path: Path) -> None:
    photos = library_with_copies(library, tmp_path)
    groups = {frozenset(Path(p).name for p in g.paths) for g in library.duplicates()}
    assert groups == {
        frozenset({"photo_000.jpg", "exact_copy.jpg"}),
        frozenset({"photo_001.jpg", "small_copy.jpg"}),
    }
    exact = library.duplicates(Strictness.EXACT)
    assert [sorted(Path(p).name for p in g.paths) for g in exact] == [
        ["exact_copy.jpg", "photo_000.jpg"]
    ]
    resized = next(g for g in library.duplicates() if "small_copy.jpg" in str(g.paths))
    assert resized.keeper_record.path == str(photos / "photo_001.jpg")  # 640×480 beats 320×240


def test_dismissed_pairs_stay_dismissed_after_reindexing(
    library: Library, tmp_path: Path
) -> None:
    photos = library_with_copies(library, tmp_path)
    first, second = library.duplicates()
    mark_not_duplicates(library.catalog, first.records[0], first.records[1])
    keep_all(library.catalog, second)
    assert library.duplicates() == []
    shutil.move(photos / "small_copy.jpg", photos / "renamed.jpg")  # moves keep decisions
    library.update()
    assert library.duplicates() == []


def test_review_settings_persist(library: Library) -> None:
    settings = ReviewSettings(["oldest", "resolution"], ["/albums"], ["/originals"])
    settings.save(library.catalog)
    assert ReviewSettings.load(library.catalog) == settings


def test_raw_jpeg_pair_not_reported(library: Library, tmp_path: Path) -> None:
    import numpy as np
    import tifffile

    photos = tmp_path / "raw"
    photos.mkdir()
    pixels = np.asarray(scene(7, (300, 200)), np.uint16) * 16
    dng_tags = [(50706, "B", 4, (1, 4, 0, 0), True)]
    tifffile.imwrite(photos / "IMG_7.dng", pixels, photometric=34892, extratags=dng_tags)
    Image.fromarray((pixels // 16).astype(np.uint8)).save(photos / "IMG_7.jpg")
    library.add_roots([photos])
    report = library.update()
    assert report.embedded == 2
    assert library.duplicates(Strictness.SIMILAR) == []


def test_size_reasons_are_readable() -> None:
    big = record(1, "/p/a.jpg", size=2_400_000)
    small = record(2, "/p/b.jpg", size=1_500)
    assert suggest_keeper([big, small], rules=["file_size"]).reason == (
        "largest file (2.4 MB vs 1.5 KB)"
    )


def test_files_a_few_percent_apart_are_equally_large_and_the_first_file_is_kept() -> None:
    copy = record(1, "/p/a.jpg", size=12_401, mtime_ns=2)
    original = record(2, "/p/b.jpg", size=12_399, mtime_ns=1)
    choice = suggest_keeper([copy, original], rules=["file_size"])
    assert choice.keeper_id == 2 and choice.reason == "modified first (all rules tie)"
    small = record(3, "/p/c.jpg", size=7_700, mtime_ns=0)
    larger_copy = record(4, "/p/d.jpg", size=12_900, mtime_ns=3)
    choice = suggest_keeper([copy, original, small, larger_copy], rules=["file_size"])
    assert choice.keeper_id == 2
    assert choice.reason == "largest file (12.4 KB vs 7.7 KB); then modified first"


def test_close_pairs_are_recorded_while_indexing_and_follow_changes(
    library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 5)
    library.add_roots([photos])
    library.update()
    key = library.index.key
    assert library.catalog.neighbours_seq(key.method, key.version) > 0
    assert library.duplicates() == []
    scene(3, (640, 480)).resize((480, 360)).save(photos / "later_copy.jpg", quality=80)
    library.update()  # the new photo finds its earlier neighbour itself
    groups = [sorted(Path(p).name for p in g.paths) for g in library.duplicates()]
    assert groups == [["later_copy.jpg", "photo_003.jpg"]]
    scene(40, (480, 360)).save(photos / "later_copy.jpg", quality=80)  # now another photo
    library.update()
    assert library.duplicates() == []


def test_pairs_never_recorded_are_found_when_duplicates_are_asked(
    library: Library, tmp_path: Path
) -> None:
    library_with_copies(library, tmp_path)
    key = library.index.key
    catalog = library.catalog
    with catalog.transaction():  # as a catalogue from before recorded neighbours
        catalog._conn.execute("DELETE FROM neighbours")
        catalog.set_neighbours_seq(key.method, key.version, 0)
    assert len(library.duplicates()) == 2
    assert catalog.neighbours_seq(key.method, key.version) == catalog.max_vector_seq(
        key.method, key.version
    )


def test_similar_shots_include_every_near_duplicate(library: Library, tmp_path: Path) -> None:
    library_with_copies(library, tmp_path)

    def pairs(strictness: Strictness) -> set[frozenset[str]]:
        return {
            frozenset((a, b)) for g in library.duplicates(strictness)
            for a in g.paths for b in g.paths if a < b
        }

    near = pairs(Strictness.NEAR)
    assert near and near <= pairs(Strictness.SIMILAR)


def shot(path: Path, seed: int, taken: str, size: tuple[int, int] = (640, 480)) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R6"
    exif.get_ifd(0x8769)[0x9003] = taken
    scene(seed, (640, 480)).resize(size).save(path, "JPEG", quality=90, exif=exif)


def test_shots_seconds_apart_are_a_series_not_copies(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "burst"
    photos.mkdir()
    shot(photos / "IMG_1.jpg", 5, "2024:05:01 10:00:00")
    shot(photos / "IMG_1_small.jpg", 5, "2024:05:01 10:00:00", (320, 240))  # a resized copy
    shot(photos / "IMG_2.jpg", 5, "2024:05:01 10:00:03")  # the next frame, looking the same
    shot(photos / "IMG_1_moved_zone.jpg", 5, "2024:05:01 12:00:00")  # a time-zone fix
    library.add_roots([photos])
    library.update()

    def groups(strictness: Strictness) -> list[list[str]]:
        return sorted(sorted(Path(p).name for p in g.paths) for g in library.duplicates(strictness))

    assert groups(Strictness.NEAR) == [["IMG_1.jpg", "IMG_1_moved_zone.jpg", "IMG_1_small.jpg"]]
    assert groups(Strictness.SIMILAR) == [
        ["IMG_1.jpg", "IMG_1_moved_zone.jpg", "IMG_1_small.jpg", "IMG_2.jpg"]
    ]


@pytest.mark.parametrize(
    ("taken_b", "camera_b", "series"),
    [
        ("2024-05-01T10:00:03", "Canon EOS R6", True),  # a burst
        ("2024-05-01T11:00:03", "Canon EOS R6", True),  # a burst, its time-zone fixed later
        ("2024-05-01T10:00:00", "Canon EOS R6", False),  # a copy keeps its capture time
        ("2024-05-01T12:30:00", "Canon EOS R6", False),  # ... or moves by a zone offset
        ("2024-05-01T10:00:03", "Nikon Z6", False),  # another camera says nothing
        ("2024-05-03T10:00:03", "Canon EOS R6", False),  # days apart: leave it to the pixels
        (None, "Canon EOS R6", False),
    ],
)
def test_other_moments_of_one_camera(taken_b: str | None, camera_b: str, series: bool) -> None:
    a = record(1, "/p/a.jpg", captured_at="2024-05-01T10:00:00", camera="Canon EOS R6")
    b = record(2, "/p/b.jpg", captured_at=taken_b, camera=camera_b)
    assert other_moments(a, b) is series


def test_recording_close_pairs_stops_when_cancelled_and_resumes(
    library: Library, tmp_path: Path
) -> None:
    library_with_copies(library, tmp_path)
    key, catalog = library.index.key, library.catalog
    catalog.set_neighbours_seq(key.method, key.version, 0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        record_neighbours(library.index, catalog, cancel=token)
    assert catalog.neighbours_seq(key.method, key.version) == 0
    assert record_neighbours(library.index, catalog) == 8
    assert catalog.neighbours_seq(key.method, key.version) == catalog.max_vector_seq(
        key.method, key.version
    )


def test_checking_candidates_reports_progress_and_can_be_cancelled(
    library: Library, tmp_path: Path
) -> None:
    library_with_copies(library, tmp_path)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        library.duplicates(cancel=token)
    seen: list[tuple[str, int, int]] = []
    assert len(library.duplicates(progress=lambda p: seen.append((p.stage, p.done, p.total)))
               ) == 2  # nothing was lost
    assert seen and seen[-1][0] == "checking pairs" and seen[-1][1] == seen[-1][2] > 0
    checking = [(done, total) for stage, done, total in seen if stage == "checking pairs"]
    assert checking == sorted(checking) and len({total for _, total in checking}) == 1  # waves


def test_the_check_gives_one_verdict_whichever_photo_comes_first(
    library: Library, tmp_path: Path
) -> None:
    from photofinder.core.duplicates.review import geometric_confirmer
    from tests.support.textured import textured

    original = textured(4, (640, 480))
    moved = original.copy()  # another shot: one object in the middle moved
    moved.paste(original.crop((260, 180, 380, 300)).rotate(90), (300, 200))
    by_name = index_photos(library, tmp_path / "shots", {
        "original.jpg": original, "smaller.jpg": original.resize((400, 300)), "moved.jpg": moved,
    })
    confirm = geometric_confirmer(library.catalog)
    for other, same in (("smaller.jpg", True), ("moved.jpg", False)):
        a, b = by_name["original.jpg"], by_name[other]
        assert confirm([(a, b), (b, a)]) == [same, same]


def test_a_small_copy_with_few_keypoints_is_confirmed(library: Library, tmp_path: Path) -> None:
    from photofinder.core.duplicates.pair_check import PhotoSource, photo_view
    from photofinder.core.duplicates.review import geometric_confirmer
    from photofinder.core.matching.verify import MIN_INLIERS, verify_sets

    original = scene(1, (640, 480))  # smooth: few keypoints, fewer still on a small copy
    tiny_crop = original.crop((0, 0, 560, 480)).resize((112, 96))
    by_name = index_photos(library, tmp_path / "small", {
        "original.jpg": original, "tiny_crop.jpg": tiny_crop,
    })
    a, b = by_name["original.jpg"], by_name["tiny_crop.jpg"]
    views = [photo_view(PhotoSource.of(r, library.catalog.thumbnail(r.id))) for r in (a, b)]
    assert views[0] is not None and views[1] is not None
    assert verify_sets(views[0].keypoints(), views[1].keypoints()).inliers < MIN_INLIERS
    assert geometric_confirmer(library.catalog)([(a, b)]) == [True]


def test_several_copies_of_one_photo_stay_one_group(
    library: Library, tmp_path: Path
) -> None:
    from tests.support.textured import textured

    original = textured(5, (640, 480))
    index_photos(library, tmp_path / "copies", {
        "original.jpg": original,
        "smaller.jpg": original.resize((480, 360)),
        "recompressed.jpg": Image.open(io.BytesIO(jpeg(original, quality=40))),
        "brighter.jpg": ImageEnhance.Brightness(original).enhance(1.15),
        "mirrored.jpg": original.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    })
    assert [len(g.records) for g in library.duplicates()] == [5]


def test_a_small_change_inside_is_looked_at_closer_in_the_photo_files(
    library: Library, tmp_path: Path
) -> None:
    from photofinder.core.duplicates.review import geometric_confirmer
    from tests.support.textured import textured

    original = textured(4, (1024, 768))
    blinked = original.copy()  # one 256-px block of the thumbnail changes: a blink, a smile
    blinked.paste(textured(8, (64, 64)), (384, 320))
    recompressed = Image.open(io.BytesIO(jpeg(original, quality=30)))
    by_name = index_photos(library, tmp_path / "shots", {
        "original.jpg": original, "blinked.jpg": blinked, "recompressed.jpg": recompressed,
        "small.jpg": original.resize((320, 240)),
    })
    confirm = geometric_confirmer(library.catalog)
    pairs = [(by_name["original.jpg"], by_name[name])
             for name in ("blinked.jpg", "recompressed.jpg", "small.jpg")]
    assert confirm(pairs) == [False, True, True]
