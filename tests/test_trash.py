"""Moving a photo to the trash: never a hard delete, and the library forgets it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from photofinder.core.duplicates.trash import TrashError, trash_file
from photofinder.core.library import Library


def test_trash_moves_file_and_forgets_it(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, colour in enumerate([(200, 10, 10), (10, 200, 10), (10, 10, 200)]):
        Image.new("RGB", (64, 48), colour).save(folder / f"p{i}.jpg")
    library.add_roots([folder])
    library.update()
    record = library.catalog.file_by_path(str((folder / "p1.jpg").resolve()))
    assert record is not None and record.id in library.index
    trash = tmp_path / "trash"
    trash.mkdir()
    monkeypatch.setattr("send2trash.send2trash", lambda p: shutil.move(p, trash / Path(p).name))

    path = trash_file(library, record.id)

    assert path.name == "p1.jpg" and not path.exists()
    assert (trash / "p1.jpg").exists()
    assert library.catalog.file_by_id(record.id) is None
    assert record.id not in library.index
    hits = library.search_files([folder / "p0.jpg"], k=5)[0]
    assert record.id not in {h.file_id for h in hits}
    assert library.update().deleted == 0  # nothing left to sweep


def test_trash_failure_keeps_everything(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (64, 48), (90, 90, 20)).save(folder / "a.jpg")
    library.add_roots([folder])
    library.update()
    record = library.catalog.file_by_path(str((folder / "a.jpg").resolve()))
    assert record is not None

    def refuse(path: str) -> None:
        raise OSError("trash not available")

    monkeypatch.setattr("send2trash.send2trash", refuse)
    with pytest.raises(TrashError, match="could not move to the trash"):
        trash_file(library, record.id)
    assert (folder / "a.jpg").exists()
    assert library.catalog.file_by_id(record.id) is not None


def test_unknown_id(library: Library) -> None:
    with pytest.raises(TrashError):
        trash_file(library, 12345)
