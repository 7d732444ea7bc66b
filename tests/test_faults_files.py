"""Odd files and file reads: non-UTF-8 names, FIFOs, symbolic links, permission fixed,
pixel limit, a JPEG missing its end marker."""

from __future__ import annotations

import errno
import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from photofinder.core.errors import (
    FileReadError,
    ImageTooLargeError,
    NotAnImageError,
    NotARegularFileError,
    PermissionDeniedError,
    TruncatedImageError,
)
from photofinder.core.indexing import readers
from photofinder.core.indexing.readers import Failed, ReadContext, read_one
from photofinder.core.library import Library
from photofinder.core.photos.imageio import decode_bytes, read_file_bytes
from photofinder.core.photos.scan import scan_tree
from photofinder.core.storage.catalog import Catalog
from tests.support.photos import make_library, scene, write_jpeg

HANG_LIMIT_S = 60.0  # far above any honest run: only a blocked read gets near it

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and byte names are POSIX")


def undecodable_name(raw: bytes) -> str:
    """A file name holding bytes that are not UTF-8, as os.fsdecode gives it (surrogates)."""
    name = os.fsdecode(raw)
    with pytest.raises(UnicodeEncodeError):
        name.encode("utf-8")
    return name


def make_undecodable(folder: Path, raw: bytes) -> Path:
    """A real photo whose name is `raw`; skipped where the file system refuses such names."""
    path = folder / undecodable_name(raw)
    try:
        write_jpeg(path, 77)
    except OSError as exc:  # e.g. macOS APFS: only UTF-8 names exist there
        pytest.skip(f"this file system refuses names that are not UTF-8: {exc}")
    return path


def run_or_unblock(work: Callable[[], object], fifo: Path) -> object:
    """Run `work` in a thread; if it is still blocked on `fifo` after HANG_LIMIT_S, open the
    FIFO's other end to free it and fail the test instead of hanging the suite."""
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(HANG_LIMIT_S)
        pytest.fail(f"blocked reading the FIFO {fifo}")
    assert outcome, "the work raised (see the thread's traceback above)"
    return outcome[0]


def no_prepare(image: Image.Image) -> np.ndarray:
    return np.zeros(4, np.float32)


CONTEXT = ReadContext(missing_by_hash={}, embedded_by_hash={}, prepare=no_prepare)


# --- file names that are not UTF-8 ------------------------------------------------------------
def test_non_utf8_file_and_folder_names_are_indexed_searched_and_listed(
    library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / undecodable_name(b"f\xf6tos")  # Latin-1 "fötos"
    make_library(folder, 3)
    odd = make_undecodable(folder, b"caf\xe9.jpg")
    library.add_roots([folder])
    report = library.update()
    assert (report.embedded, report.failed) == (4, 0)
    query = tmp_path / "query.jpg"
    query.write_bytes(odd.read_bytes())
    hit = library.search_files([query], k=1)[0][0]
    assert hit.path == str(odd) and hit.score == pytest.approx(1.0, abs=1e-4)
    by_itself = library.search_files([odd], k=4)[0]  # found in the catalogue: not its own hit
    assert len(by_itself) == 3 and str(odd) not in {h.path for h in by_itself}
    status = library.status()
    assert status.counts.indexed == 4
    assert [(r.path, r.photo_count) for r in status.roots] == [(str(folder), 4)]
    again = library.update()  # the stored path reads back equal: nothing looks new or gone
    assert (again.new, again.changed, again.deleted) == (0, 0, 0)


def test_every_path_column_keeps_undecodable_paths(tmp_path: Path) -> None:
    odd = str(tmp_path / undecodable_name(b"\xff\xfe-scan.jpg"))
    moved = str(tmp_path / undecodable_name(b"d\xe9j\xe0.jpg"))
    catalog = Catalog(tmp_path / "catalog.db")
    try:
        root = catalog.add_root(Path(odd).parent / undecodable_name(b"r\xf6\xf6t"))
        assert [r.path for r in catalog.roots()] == [root.path]
        file_id = catalog.upsert_seen(root.id, odd, 10, 20)
        assert catalog.files_under(root.id) == {odd: (file_id, 10, 20)}
        catalog.mark_failed(file_id, "permission denied", transient=True)
        assert catalog.failed_files() == [(odd, "permission denied")]
        catalog.move_file(file_id, root.id, moved, 10, 20)
        record = catalog.file_by_path(moved)
        assert record is not None and (record.id, record.path) == (file_id, moved)
        assert catalog.file_by_path(odd) is None
        catalog.set_folder_errors({odd: "Permission denied"})
        assert catalog.folder_errors() == [(odd, "Permission denied")]
        catalog.set_skipped({moved: "not a regular file (FIFO)"})
        assert catalog.skipped() == [(moved, "not a regular file (FIFO)")]
        assert catalog.remove_root(Path(root.path)) == 1
    finally:
        catalog.close()


# --- special files ------------------------------------------------------------------------------
def test_fifo_named_like_a_photo_is_skipped_and_the_index_finishes(
    fake_model: None, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 3)
    fifo = photos / "x.jpg"
    os.mkfifo(fifo)
    assert scan_tree(photos).skipped == {str(fifo): "not a regular file (FIFO)"}

    def index() -> tuple[int, int]:  # a thread of its own needs a Library of its own
        with Library(tmp_path / "data", device="cpu") as library:
            library.add_roots([photos])
            report = library.update()
            return report.embedded, library.status().counts.total

    assert run_or_unblock(index, fifo) == (3, 3)


def test_fifo_swapped_in_after_the_scan_is_refused_without_blocking(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "a.jpg", 1)
    assert str(photo) in scan_tree(tmp_path).files
    photo.unlink()
    os.mkfifo(photo)
    outcome = run_or_unblock(lambda: read_one(7, str(photo), CONTEXT), photo)
    assert outcome == Failed(7, "not a regular file: FIFO", vanished=False)


def test_fifo_swapped_in_between_the_check_and_the_open_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = write_jpeg(tmp_path / "a.jpg", 1)
    regular = os.lstat(photo)
    photo.unlink()
    os.mkfifo(photo)
    real_lstat = os.lstat

    def read() -> str:
        with pytest.raises(NotARegularFileError) as caught:
            read_file_bytes(photo)
        return caught.value.full_reason

    with monkeypatch.context() as patch:  # the check still sees the photo; the open, a FIFO
        patch.setattr(
            os, "lstat", lambda p, **kw: regular if Path(p) == photo else real_lstat(p, **kw)
        )
        assert run_or_unblock(read, photo) == "not a regular file: FIFO"


# --- symbolic links ------------------------------------------------------------------------------
@pytest.fixture
def linked_tree(tmp_path: Path) -> Iterator[Path]:
    """photos/ with a real photo, a link to it, a dangling link, loops and folder links."""
    photos = tmp_path / "photos"
    write_jpeg(photos / "real" / "a.jpg", 1)
    write_jpeg(photos / "sub" / "b.jpg", 2)
    write_jpeg(tmp_path / "outside" / "c.jpg", 3)
    (photos / "aliases").mkdir()
    (photos / "aliases" / "best.jpg").symlink_to("../real/a.jpg")
    (photos / "gone.jpg").symlink_to("missing.jpg")
    (photos / "self.jpg").symlink_to("self.jpg")
    (photos / "sub" / "back").symlink_to("..", target_is_directory=True)
    (photos / "a_sub_link").symlink_to("sub", target_is_directory=True)
    (photos / "more").symlink_to(tmp_path / "outside", target_is_directory=True)
    yield photos


def test_links_are_reported_and_never_indexed(linked_tree: Path) -> None:
    photos = linked_tree.resolve()
    result = scan_tree(photos)
    assert set(result.files) == {
        str(photos / "real" / "a.jpg"), str(photos / "sub" / "b.jpg"),
        str(photos / "more" / "c.jpg"),  # a link to a folder outside is followed once
    }
    assert result.skipped == {
        str(photos / "aliases" / "best.jpg"):
            f"symbolic link to {photos / 'real' / 'a.jpg'}: skipped "
            "(a photo is indexed only at its own path)",
        str(photos / "gone.jpg"): "dangling symbolic link (to missing.jpg)",
        str(photos / "self.jpg"): "symbolic link loop",
        str(photos / "sub" / "back"): f"symbolic link loop (leads back to {photos})",
        str(photos / "a_sub_link"):
            f"symbolic link to {photos / 'sub'}: skipped (that folder is already scanned)",
    }


def test_a_link_never_makes_an_exact_copy_group(library: Library, linked_tree: Path) -> None:
    library.add_roots([linked_tree])
    report = library.update()
    assert (report.embedded, report.failed) == (3, 0)
    assert library.catalog.hash_groups() == []


def test_reading_a_link_is_refused(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "a.jpg", 1)
    (tmp_path / "link.jpg").symlink_to(photo)
    with pytest.raises(NotARegularFileError, match="symbolic link"):
        read_file_bytes(tmp_path / "link.jpg")


def test_skipped_entries_are_replaced_per_scanned_root(tmp_path: Path) -> None:
    first, second = str(tmp_path / "one"), str(tmp_path / "two")
    catalog = Catalog(tmp_path / "catalog.db")
    try:
        catalog.set_skipped({f"{first}/x.jpg": "a", f"{second}/y.jpg": "b"})
        catalog.set_skipped({f"{first}/z.jpg": "c"}, under=[first])
        assert catalog.skipped() == [(f"{first}/z.jpg", "c"), (f"{second}/y.jpg", "b")]
        catalog.set_skipped({}, under=[second])
        assert catalog.skipped() == [(f"{first}/z.jpg", "c")]
        catalog.add_root(Path(first))
        catalog.remove_root(Path(first))  # an unwatched folder's entries go with it
        assert catalog.skipped() == []
    finally:
        catalog.close()


# --- failures whose reason may go away -----------------------------------------------------------
def test_permission_fixed_is_retried_on_the_next_update(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / "photos"
    make_library(photos, 2)
    locked = photos / "photo_001.jpg"
    real_read = read_file_bytes

    def denied(path: Path) -> bytes:  # what chmod 000 does to a user who is not root
        if path == locked:
            raise PermissionDeniedError(str(path))
        return real_read(path)

    monkeypatch.setattr(readers, "read_file_bytes", denied)
    library.add_roots([photos])
    assert library.update().failed == 1
    assert library.status().failed == [(str(locked), "permission denied")]
    monkeypatch.setattr(readers, "read_file_bytes", real_read)  # chmod 644
    report = library.update()
    assert (report.embedded, report.failed) == (1, 0)
    assert library.status().counts.indexed == 2


def test_only_transient_failures_are_requeued_unless_all_are_asked(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.db")
    try:
        root = catalog.add_root(tmp_path)
        denied = catalog.upsert_seen(root.id, str(tmp_path / "a.jpg"), 1, 1)
        broken = catalog.upsert_seen(root.id, str(tmp_path / "b.jpg"), 1, 1)
        catalog.mark_failed(denied, "permission denied", transient=True)
        catalog.mark_failed(broken, "truncated or corrupt image data")
        assert catalog.requeue_failed([root.id]) == 1
        assert catalog.failed_files() == [(str(tmp_path / "b.jpg"), "truncated or corrupt "
                                           "image data")]
        assert catalog.requeue_failed([root.id + 1], everything=True) == 0
        assert catalog.requeue_failed([root.id], everything=True) == 1
        assert catalog.failed_files() == []
    finally:
        catalog.close()


def test_os_read_failures_are_typed_and_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = write_jpeg(tmp_path / "a.jpg", 1)
    real_open = os.open

    def failing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == photo:
            raise (PermissionError(13, "Permission denied") if flags & os.O_NONBLOCK
                   else AssertionError("opened without O_NONBLOCK"))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def failing_fstat(descriptor: int) -> os.stat_result:
        raise OSError(errno.EIO, "I/O error")

    with monkeypatch.context() as patch, pytest.raises(PermissionDeniedError) as denied:
        patch.setattr(os, "open", failing_open)
        read_file_bytes(photo)
    assert denied.value.transient
    with monkeypatch.context() as patch, pytest.raises(FileReadError) as failed:
        patch.setattr(os, "fstat", failing_fstat)
        read_file_bytes(photo)
    assert failed.value.transient and failed.value.full_reason == "unreadable: I/O error"


# --- pixel limit ---------------------------------------------------------------------------------
def ramp_jpeg(width: int, height: int) -> bytes:
    """A grey ramp as JPEG: many pixels, encoded and decoded fast."""
    ramp = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.broadcast_to(ramp, (height, width)).copy(), "L").save(
        buffer, "JPEG", quality=50
    )
    return buffer.getvalue()


def with_frame_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header (SOF0) claiming another size."""
    at = jpeg.index(b"\xff\xc0") + 5
    return jpeg[:at] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[at + 4 :]


def test_a_100_megapixel_jpeg_is_read() -> None:
    photo = decode_bytes(ramp_jpeg(12000, 8500), "big.jpg")
    assert (photo.width, photo.height) == (12000, 8500)


@pytest.mark.parametrize("size", [(15000, 14000), (20000, 20001)])
def test_more_than_200_megapixels_is_refused_with_the_reason(size: tuple[int, int]) -> None:
    width, height = size
    with pytest.raises(ImageTooLargeError) as refused:
        decode_bytes(with_frame_size(ramp_jpeg(64, 64), width, height), "huge.jpg")
    assert refused.value.full_reason.startswith("too many pixels (decompression-bomb guard)")


# --- a JPEG missing its end marker ---------------------------------------------------------------
JPEG_KINDS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "progressive": {"progressive": True},
    "restart intervals": {"restart_marker_rows": 1},
}


def jpeg_of_kind(kind: str) -> bytes:
    buffer = io.BytesIO()
    scene(5, (200, 136)).save(buffer, "JPEG", quality=90, **JPEG_KINDS[kind])
    return buffer.getvalue()


@pytest.mark.parametrize("kind", JPEG_KINDS)
def test_a_jpeg_missing_only_its_end_marker_is_read_whole(kind: str) -> None:
    data = jpeg_of_kind(kind)
    assert data.endswith(b"\xff\xd9")
    whole = decode_bytes(data, "whole.jpg")
    for cut in (data[:-2], data[:-1]):
        photo = decode_bytes(cut, "cut.jpg")
        assert photo.content_hash != whole.content_hash  # the file's own bytes
        assert np.array_equal(np.asarray(photo.image), np.asarray(whole.image))


@pytest.mark.parametrize("kind", JPEG_KINDS)
def test_a_jpeg_cut_in_its_image_data_stays_refused(kind: str) -> None:
    data = jpeg_of_kind(kind)
    start = data.index(b"\xff\xda")  # the first scan
    markers = [m for m in range(start, len(data) - 2) if data[m] == 0xFF and data[m + 1]]
    ends = {*range(len(data) - 48, len(data) - 2), *range(start, len(data), 61)}
    ends |= {m for marker in markers for m in (marker, marker + 2)}  # scan and restart ends
    accepted = []
    for end in sorted(ends - {len(data) - 2, len(data)}):
        try:
            decode_bytes(data[:end], "cut.jpg")
            accepted.append(end)
        except (TruncatedImageError, NotAnImageError):  # before the first scan: no image
            continue
    assert accepted == []
