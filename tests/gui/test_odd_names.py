"""The GUI shows and loads photos whose names are not UTF-8, and says which folders are gone."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt

from photofinder.core.search.knn import SearchHit
from photofinder.core.storage.catalog import Root
from photofinder.gui.folders_dialog import MISSING_TIP, FoldersModel
from photofinder.gui.image_files import read_image
from photofinder.gui.results_model import ResultsModel


def odd_photo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.jpg"))  # Latin-1 é
    Image.new("RGB", (120, 80), (30, 140, 200)).save(path, "JPEG")
    return path


def test_an_odd_name_is_shown_escaped_and_loads(tmp_path: Path) -> None:
    path = odd_photo(tmp_path / "photos")
    model = ResultsModel(lambda _id: None)
    model.set_hits([SearchHit(1, str(path), 0.9)])
    assert model.data(model.index(0), Qt.ItemDataRole.DisplayRole) == "caf\\xe9.jpg"
    image = read_image(str(path), 64)
    assert not image.isNull() and max(image.width(), image.height()) == 64


def test_read_image_refuses_special_files_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert read_image(fifo).isNull()


def test_folders_model_says_a_folder_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "here").mkdir()
    model = FoldersModel([Root(1, str(tmp_path / "here"), False, 3),
                          Root(2, str(tmp_path / "gone"), False, 5),
                          Root(3, str(tmp_path / "here" / "x"), True)])
    states = [model.data(model.index(row, 1)) for row in range(3)]
    assert states == ["watched", "not found", "excluded"]
    assert model.data(model.index(1, 1), Qt.ItemDataRole.ToolTipRole) == MISSING_TIP
