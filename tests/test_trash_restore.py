"""Batch trash and undo: a freedesktop-layout fake trash exercises the real restore code."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from photofinder.core.duplicates.trash import (
    TrashedFile,
    TrashError,
    restore_file,
    restore_files,
    trash_files,
    undo_supported,
)
from photofinder.core.library import Library


class FreedesktopTrash:
    """send2trash as the freedesktop spec has it: files/<name> + info/<name>.trashinfo."""

    def __init__(self, data_home: Path) -> None:
        self.root = data_home / "Trash"
        self.calls: list[str] = []

    def __call__(self, path: str) -> None:
        self.calls.append(path)
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        (self.root / "info").mkdir(parents=True, exist_ok=True)
        source = Path(path)
        name, counter = source.name, 0
        while (self.root / "files" / name).exists() or self.info(name).exists():
            counter += 1
            name = f"{source.stem} {counter}{source.suffix}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        quoted = quote(os.fsencode(os.path.abspath(path)))  # as send2trash: the OS bytes
        self.info(name).write_text(f"[Trash Info]\nPath={quoted}\nDeletionDate={stamp}\n")
        os.rename(path, self.root / "files" / name)

    def info(self, name: str) -> Path:
        return self.root / "info" / f"{name}.trashinfo"

    def names(self) -> list[str]:
        folder = self.root / "files"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def fake_trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FreedesktopTrash:
    """Trash under tmp_path (XDG_DATA_HOME points there); send2trash goes to it."""
    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    trash = FreedesktopTrash(data_home)
    monkeypatch.setattr("send2trash.send2trash", trash)
    return trash


def indexed_library(library: Library, folder: Path, count: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"p {i}.jpg"  # a space: Path= is URL-quoted
        Image.new("RGB", (64 + 8 * i, 48), (60 * i, 200 - 50 * i, 90)).save(path)
        paths.append(path.resolve())
    library.add_roots([folder])
    library.update()
    return paths


def file_id(library: Library, path: Path) -> int:
    record = library.catalog.file_by_path(str(path))
    assert record is not None
    return record.id


pytestmark = pytest.mark.skipif(not undo_supported(), reason="freedesktop/macOS trash only")


def test_batch_trash_reports_and_forgets(
    library: Library, tmp_path: Path, fake_trash: FreedesktopTrash
) -> None:
    paths = indexed_library(library, tmp_path / "photos")
    ids = [file_id(library, p) for p in paths[:2]]
    report = trash_files(library, [*ids, 99999])  # an unknown id is skipped
    assert [t.path for t in report.trashed] == paths[:2]
    assert report.freed_bytes == sum(t.size for t in report.trashed) > 0
    assert not report.failed
    assert fake_trash.names() == ["p 0.jpg", "p 1.jpg"]
    assert all(not p.exists() for p in paths[:2]) and paths[2].exists()
    assert all(library.catalog.file_by_id(i) is None for i in ids)
    assert all(i not in library.index for i in ids)


def test_batch_trash_keeps_going_after_a_failure(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = indexed_library(library, tmp_path / "photos")
    ids = [file_id(library, p) for p in paths]

    def send(path: str) -> None:
        if path.endswith("p 1.jpg"):
            raise OSError("permission denied")
        os.remove(path)  # the batch only relies on `send`; this stands in for a trash

    report = trash_files(library, ids, send)
    assert [t.file_id for t in report.trashed] == [ids[0], ids[2]]
    assert len(report.failed) == 1 and "permission denied" in report.failed[0][1]
    assert paths[1].exists() and library.catalog.file_by_id(ids[1]) is not None


def test_restore_brings_back_the_latest_copy(
    library: Library, tmp_path: Path, fake_trash: FreedesktopTrash
) -> None:
    paths = indexed_library(library, tmp_path / "photos")
    target = paths[0]
    original = target.read_bytes()
    report = trash_files(library, [file_id(library, target)])
    Image.new("RGB", (10, 10), (1, 2, 3)).save(target)  # a newer file at the same path
    newer = target.read_bytes()
    os.utime(fake_trash.info("p 0.jpg"), (1, 1))  # same second: the info file's age decides
    trash_files(library, [])  # nothing: no error
    fake_trash(str(target))
    assert fake_trash.names() == ["p 0 1.jpg", "p 0.jpg"]

    restored = restore_files(report.trashed)
    assert restored.restored == [target] and not restored.failed
    assert target.read_bytes() == newer  # the latest deletion comes back first
    assert fake_trash.names() == ["p 0.jpg"]
    assert not fake_trash.info("p 0 1.jpg").exists()
    target.unlink()
    restore_file(target)
    assert target.read_bytes() == original
    assert fake_trash.names() == [] and not list((fake_trash.root / "info").iterdir())


def test_undo_then_update_reindexes(
    library: Library, tmp_path: Path, fake_trash: FreedesktopTrash
) -> None:
    paths = indexed_library(library, tmp_path / "photos")
    report = trash_files(library, [file_id(library, p) for p in paths[:2]])
    assert library.status().counts.total == 1
    assert restore_files(report.trashed).restored == paths[:2]
    library.update()
    assert library.status().counts.indexed == 3
    assert all(file_id(library, p) in library.index for p in paths)


def test_restore_refuses_to_overwrite_and_reports_missing(
    tmp_path: Path, fake_trash: FreedesktopTrash
) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(b"one")
    fake_trash(str(path))
    path.write_bytes(b"two")
    with pytest.raises(TrashError, match="already there"):
        restore_file(path)
    path.unlink()
    missing = TrashedFile(1, tmp_path / "never-trashed.jpg", 3)
    report = restore_files([missing, TrashedFile(2, path, 3)])
    assert report.restored == [path] and path.read_bytes() == b"one"
    assert report.failed[0][0] == missing.path and "not found" in report.failed[0][1]


def test_macos_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    trash = tmp_path / "home" / ".Trash"
    trash.mkdir(parents=True)
    (trash / "a.jpg").write_bytes(b"12345")  # another a.jpg: different size
    (trash / "a 2.jpg").write_bytes(b"123")
    original = tmp_path / "photos" / "a.jpg"
    assert restore_file(original, 3, platform="darwin") == original
    assert original.read_bytes() == b"123" and (trash / "a.jpg").exists()


def test_other_platforms_say_undo_is_unavailable(tmp_path: Path) -> None:
    assert not undo_supported("win32")
    with pytest.raises(TrashError, match="not available"):
        restore_file(tmp_path / "a.jpg", platform="win32")


def test_restore_never_overwrites_a_file_created_meanwhile(
    library: Library, tmp_path: Path, fake_trash: FreedesktopTrash,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file that appears at the original path after the check, before the move, stays."""
    paths = indexed_library(library, tmp_path / "photos")
    report = trash_files(library, [file_id(library, paths[0])])
    import photofinder.core.duplicates.trash as trash_module

    find = trash_module._freedesktop_trashed

    def find_then_race(original: Path) -> tuple[Path, Path]:
        found = find(original)
        original.write_bytes(b"made by the user meanwhile")
        return found

    monkeypatch.setattr(trash_module, "_freedesktop_trashed", find_then_race)
    restored = restore_files(report.trashed)
    assert restored.restored == [] and "already there" in restored.failed[0][1]
    assert paths[0].read_bytes() == b"made by the user meanwhile"
    assert fake_trash.names() == ["p 0.jpg"]  # still in the trash, nothing lost


def test_restore_a_name_that_is_not_utf8(
    library: Library, tmp_path: Path, fake_trash: FreedesktopTrash
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.jpg"))
    Image.new("RGB", (40, 30), (5, 100, 200)).save(odd, "JPEG")
    library.add_roots([folder])
    library.update()
    report = trash_files(library, [file_id(library, odd)])
    assert not odd.exists() and [t.path for t in report.trashed] == [odd]
    assert restore_files(report.trashed).restored == [odd]
    assert odd.exists()
