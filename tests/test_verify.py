"""Match verification, re-ranking and precise search (`verify=True`, `search --verify`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.cli import main
from photofinder.core.library import Library
from photofinder.core.matching import keypoints
from photofinder.core.matching import verify as verify_module
from photofinder.core.matching.verify import (
    MIN_INLIERS,
    VerifiedHit,
    draw_matches,
    query_features,
    rerank,
    verify,
    verify_sets,
)
from photofinder.core.search.knn import SearchHit
from tests.support.textured import save, textured, write_textured


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    keypoints.clear_caches()
    yield
    keypoints.clear_caches()


def test_crop_verifies_with_the_right_transform() -> None:
    photo = textured(1)
    crop = photo.crop((100, 80, 600, 480))
    result = verify(photo, crop)
    assert result.verified and result.inliers >= 50
    assert result.inlier_ratio > 0.5
    assert result.transform is not None
    mapped = result.transform @ np.array([300.0, 200.0, 1.0])
    assert mapped[:2] / mapped[2] == pytest.approx([200.0, 120.0], abs=3.0)
    assert len(result.inlier_matches) == result.inliers
    assert len(result.outlier_matches) == result.matches - result.inliers


@pytest.mark.parametrize(
    "change",
    [
        lambda im: im.transpose(Image.Transpose.ROTATE_90),
        lambda im: im.resize((300, 225), Image.Resampling.BICUBIC),
        lambda im: im.rotate(12, Image.Resampling.BICUBIC).crop((80, 60, 720, 540)),
    ],
    ids=["rotate90", "rescale", "rotate12"],
)
def test_changed_copies_verify(change: object) -> None:
    photo = textured(2)
    result = verify(photo, change(photo))  # type: ignore[operator]
    assert result.inliers >= 50 and not result.mirrored


def test_mirror_verifies_through_the_mirrored_keypoints() -> None:
    photo = textured(3)
    result = verify(photo, photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert result.verified and result.mirrored
    assert result.transform is not None and np.linalg.det(result.transform[:2, :2]) < 0
    assert not verify(photo, photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                      mirrors=False).verified


def test_unrelated_photos_do_not_verify() -> None:
    for seed in range(4, 6):
        result = verify(textured(seed), textured(seed + 10))
        assert result.inliers < MIN_INLIERS


def test_too_few_matches_for_the_inliers_wanted_fit_no_transform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = (keypoints.detect_image(textured(seed)) for seed in (4, 14))
    matches = verify_sets(a, b).matches
    fits: list[int] = []
    fit = verify_module._fit

    def counted(pa: np.ndarray, *args: bool) -> object:
        fits.append(len(pa))
        return fit(pa, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(verify_module, "_fit", counted)
    assert matches >= 3  # enough for a similarity fit without the bound
    skipped = verify_sets(a, b, min_matches=matches + 1)
    assert (skipped.matches, skipped.inliers, skipped.transform, fits) == (matches, 0, None, [])
    verify_sets(a, b, min_matches=matches)
    assert fits == [matches]


def test_verify_accepts_paths_and_keypoint_sets(tmp_path: Path) -> None:
    a = write_textured(tmp_path / "a.jpg", 8, (1600, 1200))
    b = save(Image.open(a).crop((200, 200, 1400, 1000)), tmp_path / "b.jpg")
    by_path = verify(a, b)
    by_sets = verify(keypoints.detect_file(a), keypoints.detect_file(b))
    assert by_path.verified and by_sets.verified
    assert by_path.a_size == (1600, 1200) and by_path.b_size == (1200, 800)
    assert by_path.transform is not None  # original coordinates: offset (-200, -200)
    assert by_path.transform[:2, 2] == pytest.approx([-200.0, -200.0], abs=6.0)


def test_rerank_threads_verify_with_one_blas_thread_each(tmp_path: Path) -> None:
    from threadpoolctl import threadpool_info

    query = keypoints.detect_image(textured(12))
    hits = [SearchHit(i, f"hit-{i}", 0.9) for i in range(4)]
    blas_threads: list[list[int]] = []

    def features(hit: SearchHit) -> keypoints.KeypointSet:
        blas_threads.append([lib["num_threads"] for lib in threadpool_info()
                             if lib.get("user_api") == "blas"])
        return query

    rerank(query, hits, features=features, workers=2)
    assert len(blas_threads) == 4 and all(counts == [1] * len(counts) and counts
                                          for counts in blas_threads)


def test_draw_matches_puts_the_photos_side_by_side(tmp_path: Path) -> None:
    photo = textured(9)
    crop = photo.crop((0, 0, 400, 600))
    result = verify(photo, crop)
    drawn = draw_matches(photo, crop, result, height=300)
    assert drawn.size == (400 + 200, 300)
    assert draw_matches(photo, crop, result, height=300, show_outliers=False).size == (600, 300)


def test_rerank_puts_the_cropped_copy_first(tmp_path: Path) -> None:
    query = write_textured(tmp_path / "query.jpg", 11)
    paths = [write_textured(tmp_path / f"other_{i}.jpg", 20 + i) for i in range(6)]
    copy = save(Image.open(query).crop((150, 100, 750, 550)), tmp_path / "copy.jpg")
    paths.insert(4, copy)
    hits = [SearchHit(i, str(p), 0.9 - i * 0.01) for i, p in enumerate(paths)]
    ranked = rerank(query, hits, top=5)
    assert isinstance(ranked[0], VerifiedHit)
    assert ranked[0].path == str(copy) and ranked[0].verified
    assert ranked[0].inliers is not None and ranked[0].inliers >= 30
    others = [h.path for h in ranked[1:]]
    assert others == [str(p) for p in paths if p != copy]  # the rest keep their order
    assert all(h.inliers is not None for h in ranked[:5])
    assert ranked[-1].inliers is None and ranked[-2].inliers is None  # past the top 5
    assert rerank(query_features(query), [], top=5) == []


def test_hits_under_the_floor_are_not_checked(tmp_path: Path) -> None:
    query = write_textured(tmp_path / "query.jpg", 13)
    copy = save(Image.open(query).crop((100, 80, 700, 520)), tmp_path / "copy.jpg")
    others = [write_textured(tmp_path / f"other_{i}.jpg", 40 + i) for i in range(3)]
    hits = [SearchHit(1, str(others[0]), 0.8), SearchHit(2, str(copy), 0.7),
            SearchHit(3, str(others[1]), 0.35), SearchHit(4, str(others[2]), 0.3)]
    asked: list[str] = []

    def features(hit: SearchHit) -> keypoints.KeypointSet:
        asked.append(hit.path)
        return keypoints.detect_file(hit.path)

    ranked = rerank(query, hits, features=features, floor=0.4)
    assert sorted(asked) == sorted([str(others[0]), str(copy)])
    assert [h.file_id for h in ranked] == [2, 1, 3, 4]
    assert ranked[0].verified and ranked[1].inliers is not None
    assert ranked[2].inliers is None and ranked[3].inliers is None


def test_unreadable_hit_counts_as_unverified(tmp_path: Path) -> None:
    query = write_textured(tmp_path / "query.jpg", 12)
    hits = [SearchHit(1, str(tmp_path / "gone.jpg"), 0.9)]
    assert rerank(query, hits)[0].inliers == 0


@pytest.fixture
def rotated_library(library: Library, tmp_path: Path) -> tuple[Library, Path, Path]:
    folder = tmp_path / "photos"
    for seed in range(8):
        write_textured(folder / f"photo_{seed}.jpg", 30 + seed, (640, 480))
    rotated = save(textured(99, (640, 480)).transpose(Image.Transpose.ROTATE_90),
                   folder / "rotated.jpg")
    library.add_roots([folder])
    library.update()
    query = write_textured(tmp_path / "query.jpg", 99, (640, 480))
    return library, query, rotated


@pytest.mark.slow
def test_precise_search_finds_a_rotated_copy_first(
    rotated_library: tuple[Library, Path, Path],
) -> None:
    library, query, rotated = rotated_library
    hits = library.search_files([query], k=5, verify=True)[0]
    assert hits[0].path == str(rotated)
    assert isinstance(hits[0], VerifiedHit) and hits[0].verified
    assert len(hits) == 5
    record = library.catalog.file_by_path(str(rotated))
    assert record is not None
    by_id = library.search_file_id(record.id, k=3, verify=True)
    assert by_id[0].path != str(rotated)  # the photo itself is not a result
    by_image = library.search_image(Image.open(query), k=3, verify=True)
    assert by_image[0].path == str(rotated)
    assert hits[0].inliers is not None and hits[0].inliers >= MIN_INLIERS
    plain = library.search_files([query], k=5)[0]
    assert not isinstance(plain[0], VerifiedHit)
    assert all(hit.inliers is None for hit in plain)  # a plain search checks no keypoints


@pytest.mark.slow
def test_cli_verify_json_has_inliers(
    rotated_library: tuple[Library, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    library, query, rotated = rotated_library
    library.close()
    assert main(["--data-dir", str(library.paths.data_dir), "search", str(query),
                 "--top", "3", "--json", "--verify"]) == 0
    results = json.loads(capsys.readouterr().out)["queries"][0]["results"]
    assert results[0]["path"] == str(rotated)
    assert results[0]["inliers"] >= MIN_INLIERS
    assert all(set(r) == {"path", "score", "inliers"} for r in results)
    assert main(["--data-dir", str(library.paths.data_dir), "search", str(query),
                 "--top", "3", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["queries"][0]["results"]
    assert all(set(r) == {"path", "score"} for r in plain)
    assert main(["--data-dir", str(library.paths.data_dir), "search", str(query),
                 "--top", "2", "--verify"]) == 0
    assert "inliers" in capsys.readouterr().out
