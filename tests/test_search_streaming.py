"""Search streams its queries: memory is bounded by a batch, not by how many queries there are."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photofinder import cli
from photofinder.core import library as library_module
from photofinder.core.errors import EmptyLibraryError
from photofinder.core.library import EMBED_BATCH, Library
from photofinder.core.lru import LRUCache
from photofinder.core.matching import keypoints, stored_keypoints, verify
from photofinder.core.matching.keypoints import FEATURE_CACHE_BYTES, KeypointSet
from photofinder.core.photos.imageio import DecodedPhoto, decode_file
from photofinder.core.search.knn import SearchHit
from photofinder.core.storage.catalog import FileRecord
from tests.support.photos import make_library, write_jpeg
from tests.support.textured import write_textured

QUERIES = 7


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    keypoints.clear_caches()
    yield
    keypoints.clear_caches()


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> Library:
    make_library(tmp_path / "photos", 6)
    library.add_roots([tmp_path / "photos"])
    library.update()
    return library


@pytest.fixture
def queries(tmp_path: Path) -> list[Path]:
    """Query photos outside the library: each one has to be decoded and embedded."""
    folder = tmp_path / "queries"
    folder.mkdir()
    return [write_jpeg(folder / f"q{n}.jpg", n) for n in range(QUERIES)]


class Counted:
    """Counts the query paths taken from it and the photos decoded so far."""

    def __init__(self, paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
        self._paths = paths
        self.taken = 0
        self.decoded = 0
        monkeypatch.setattr(library_module, "decode_file", self._decode)

    def __iter__(self) -> Iterator[Path]:
        for path in self._paths:
            self.taken += 1
            yield path

    def _decode(self, path: Path) -> DecodedPhoto:
        self.decoded += 1
        return decode_file(path)


@pytest.mark.parametrize("precise", [False, True])
def test_the_first_result_comes_before_the_other_queries_are_read(
    indexed: Library, queries: list[Path], monkeypatch: pytest.MonkeyPatch, precise: bool
) -> None:
    counted = Counted(queries, monkeypatch)
    results = indexed.iter_search_files(counted, k=3, verify=precise, batch=2)
    first_query, first_hits = next(results)
    assert (counted.taken, counted.decoded) == (2, 2)  # one batch, not all seven
    assert first_query == queries[0].resolve() and len(first_hits) == 3
    rest = list(results)
    assert counted.decoded == QUERIES and [q for q, _ in rest] == [
        q.resolve() for q in queries[1:]]


def test_streamed_results_are_those_of_one_list(
    indexed: Library, queries: list[Path]
) -> None:
    catalogued = Path(indexed.catalog.files_by_ids([1])[1].path)  # reuses its stored vector
    mixed = [queries[0], catalogued, *queries[1:]]
    streamed = [hits for _, hits in indexed.iter_search_files(mixed, k=4, batch=3)]
    assert _same(streamed, indexed.search_files(mixed, k=4))
    assert _same(streamed, [indexed.search_files([q], k=4)[0] for q in mixed])
    assert all(hit.path != str(catalogued) for hit in streamed[1])  # not itself


def _same(a: list[list[SearchHit]], b: list[list[SearchHit]]) -> bool:
    """The same photos in the same order, scores equal up to rounding (BLAS sums a batch of
    one and a batch of many in different orders)."""
    return [[h.path for h in hits] for hits in a] == [[h.path for h in hits] for hits in b] and (
        all(h.score == pytest.approx(g.score, abs=1e-5)
            for x, y in zip(a, b, strict=True) for h, g in zip(x, y, strict=True)))


def test_the_model_embeds_a_bounded_batch_in_a_precise_search(
    indexed: Library, tmp_path: Path
) -> None:
    many = [write_jpeg(tmp_path / f"many_{n}.jpg", 40 + n) for n in range(3 * EMBED_BATCH)]
    embedder = indexed.embedder()
    embedder.batches.clear()  # type: ignore[attr-defined]
    for _ in indexed.iter_search_files(many, k=2, verify=True, batch=len(many)):
        pass
    batches: list[int] = embedder.batches  # type: ignore[attr-defined]
    assert sum(batches) == len(many) * len(verify.QUERY_VARIANTS)
    assert max(batches) <= EMBED_BATCH  # before: one batch of five images per query


def test_a_precise_search_detects_its_query_at_the_query_side(
    indexed: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = write_jpeg(tmp_path / "query.jpg", 70, (800, 600))
    detect = keypoints.detect_image
    working_sizes: list[tuple[int, int]] = []

    def recorded(*args: Any, **kwargs: Any) -> KeypointSet:
        found = detect(*args, **kwargs)
        working_sizes.append(found.working_size)
        return found

    monkeypatch.setattr(verify, "detect_image", recorded)
    ((_, hits),) = indexed.iter_search_files([query], k=2, verify=True)
    assert hits and working_sizes == [(verify.QUERY_SIDE, verify.QUERY_SIDE * 3 // 4)]


def test_an_empty_library_fails_before_any_query_is_read(
    library: Library, queries: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(queries, monkeypatch)
    with pytest.raises(EmptyLibraryError):
        next(library.iter_search_files(counted))
    assert counted.taken == 0


# --- caches ---------------------------------------------------------------------------------
def _keypoint_set(count: int) -> KeypointSet:
    floats = np.zeros(count, np.float32)
    return KeypointSet("SIFT", (640, 480), (640, 480), np.zeros((count, 2), np.float32),
                       floats, floats, floats, np.zeros(count, np.int32),
                       np.zeros((count, 128), np.uint8))


def test_the_feature_cache_stays_within_its_bytes() -> None:
    full = _keypoint_set(keypoints.MAX_FEATURES)
    for number in range(2 * FEATURE_CACHE_BYTES // full.nbytes):
        keypoints.feature_cache.put(("photo", number), full)
        assert keypoints.feature_cache.nbytes <= FEATURE_CACHE_BYTES
    assert len(keypoints.feature_cache) == FEATURE_CACHE_BYTES // full.nbytes
    assert keypoints.feature_cache.get(("photo", 0)) is None  # the oldest went first


def test_a_byte_bounded_cache_weighs_evicts_and_refuses_what_cannot_fit() -> None:
    cache: LRUCache[str, bytes] = LRUCache(10, max_bytes=10, size_of=len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    cache.put("a", b"12")  # replaced: weighs its new size
    assert cache.nbytes == 6
    cache.put("c", b"123456")  # 12 bytes: b, the least recently used, goes
    assert ("b" in cache, cache.nbytes) == (False, 8)
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache and cache.nbytes == 8
    cache.discard("a")
    assert cache.nbytes == 6
    with pytest.raises(ValueError, match="size_of"):
        LRUCache[str, bytes](2, max_bytes=10)


def indexed_photo(library: Library, folder: Path) -> FileRecord:
    """One 640×480 photo in `folder/photos`, indexed into `library`."""
    photo = write_textured(folder / "photos" / "a.jpg", 3, (640, 480))
    library.add_roots([folder / "photos"])
    library.update()
    record = library.catalog.file_by_path(str(photo))
    assert record is not None
    return record


def test_catalogue_features_keep_what_was_cached_when_they_were_read(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = indexed_photo(library, tmp_path)
    library.catalog._conn.execute("DELETE FROM keypoints")  # catalogued before they were stored
    hit = SearchHit(record.id, record.path, 0.9)
    first = verify.catalog_features(library.catalog, [hit])(hit)
    features = verify.catalog_features(library.catalog, [hit])  # reads: cached now
    keypoints.clear_caches()  # evicted before a worker asks for it

    def no_file_reads(path: object, kind: str = "SIFT") -> KeypointSet:
        raise AssertionError(f"read the photo file {path}")

    monkeypatch.setattr(verify, "detect_file", no_file_reads)
    assert features(hit) is first


def test_catalogue_features_are_the_keypoints_stored_while_indexing(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = indexed_photo(library, tmp_path)
    thumbnail = library.catalog.thumbnail(record.id)
    assert thumbnail is not None
    detected = stored_keypoints.thumbnail_keypoints(thumbnail, (640, 480))

    def no_detection(*args: object, **kwargs: object) -> KeypointSet:
        raise AssertionError("detected keypoints that were stored")

    monkeypatch.setattr(verify, "detect_thumbnail", no_detection)
    monkeypatch.setattr(verify, "detect_file", no_detection)
    hit = SearchHit(record.id, record.path, 0.9)
    found = verify.catalog_features(library.catalog, [hit])(hit)
    assert found.original_size == (640, 480) and found.count == detected.count > 0
    assert np.array_equal(found.descriptors, detected.descriptors)
    assert np.array_equal(found.points(), detected.points())


# --- the command line -----------------------------------------------------------------------
def _run_cli(data: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        code = cli.main(["--data-dir", str(data), *args])
    finally:
        sys.stdout = real
    return code, out.getvalue()


@pytest.mark.parametrize("precise", [False, True])
def test_cli_json_is_byte_for_byte_the_whole_document(
    indexed: Library, queries: list[Path], monkeypatch: pytest.MonkeyPatch, precise: bool
) -> None:
    monkeypatch.setattr(library_module, "SEARCH_BATCH", 3, raising=False)
    flags = ["--verify"] if precise else []
    expected = {"method": indexed.info.name, "queries": [
        {"query": str(q.resolve()),
         "results": [{"path": h.path, "score": round(h.score, 6),
                      **({"inliers": h.inliers} if precise else {})} for h in hits]}
        for q, hits in zip(queries, indexed.search_files(queries, 3, precise), strict=True)]}
    data = indexed.paths.data_dir
    indexed.close()
    code, out = _run_cli(data, "search", *map(str, queries), "--top", "3", "--json", *flags)
    assert code == 0
    assert out == json.dumps(expected, indent=2) + "\n"


@pytest.mark.parametrize(
    "payload",
    [
        {"method": "m", "queries": []},
        {"method": "m", "queries": [{"query": "/a", "results": []}]},
        {"method": "é", "queries": [{"query": "/caf\udce9", "results": [
            {"path": "/b", "score": 0.5, "inliers": None}, {"path": "/c", "score": 1.0}]},
            {"query": "/d", "results": [{"path": "/e \"quoted\"", "score": 0.25}]}]},
    ],
)
def test_streamed_json_writes_what_one_dump_writes(
    payload: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    cli._emit_streamed({"method": payload["method"]}, "queries", iter(payload["queries"]))
    streamed = capsys.readouterr().out
    cli._emit(payload)
    assert streamed == capsys.readouterr().out


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_writes_each_batch_before_reading_the_next(
    indexed: Library, queries: list[Path], monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    monkeypatch.setattr(library_module, "SEARCH_BATCH", 1, raising=False)
    out = io.StringIO()
    written_at_decode: dict[Path, str] = {}

    def decode(path: Path) -> DecodedPhoto:
        written_at_decode[path] = out.getvalue()
        return decode_file(path)

    monkeypatch.setattr(library_module, "decode_file", decode)
    monkeypatch.setattr(sys, "stdout", out)
    data = indexed.paths.data_dir
    indexed.close()
    flags = ["--json"] if as_json else []
    assert cli.main(["--data-dir", str(data), "search", *map(str, queries[:3]), *flags]) == 0
    third = written_at_decode[queries[2].resolve()]
    assert str(queries[0].resolve()) in third and str(queries[1].resolve()) in third
    assert str(queries[2].resolve()) not in third


def test_an_unreadable_query_among_others_gives_its_one_line_reason(
    indexed: Library, queries: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = queries[0].parent / "bad.jpg"
    bad.write_text("nope")
    data = indexed.paths.data_dir
    indexed.close()
    code = cli.main(["--data-dir", str(data), "search", str(queries[0]), str(bad), "--json"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("photofinder: ") and "not an image" in err
