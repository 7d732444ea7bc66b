"""Every model passes QAbstractItemModelTester; the thumbnail cache stays bounded."""

from __future__ import annotations

import math

from PySide6.QtGui import QImage
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from photofinder.core.lru import LRUCache
from photofinder.core.search.knn import SearchHit
from photofinder.core.storage.catalog import Root
from photofinder.gui.folders_dialog import FoldersModel
from photofinder.gui.keypoint_overlay import KeypointOverlay
from photofinder.gui.results_model import (
    FILE_ID_ROLE,
    SCORE_ROLE,
    THUMBNAIL_ROLE,
    ResultsModel,
)
from photofinder.gui.thumbnail_cache import ThumbnailCache
from photofinder.gui.thumbnail_delegate import ThumbnailDelegate

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


def hits(n: int) -> list[SearchHit]:
    return [SearchHit(i, f"/photos/p{i}.jpg", 1.0 - i / 100) for i in range(n)]


def test_results_model_passes_the_tester() -> None:
    requested: list[int] = []
    model = ResultsModel(requested.append)
    tester = QAbstractItemModelTester(model, FAIL)
    model.set_hits(hits(10))
    assert model.rowCount() == 10
    assert model.data(model.index(3), FILE_ID_ROLE) == 3
    assert math.isclose(model.data(model.index(3), SCORE_ROLE), 0.97)  # type: ignore[arg-type]
    assert model.data(model.index(3), THUMBNAIL_ROLE) is None  # not loaded yet: requested
    assert 3 in requested
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    model.thumbnails_loaded({3: image, 4: QImage()})
    assert model.data(model.index(3), THUMBNAIL_ROLE) is image
    requested.clear()
    model.data(model.index(4), THUMBNAIL_ROLE)
    assert requested == []  # an unreadable thumbnail is not asked for again and again
    assert model.remove_file(5)
    assert not model.remove_file(5)
    assert model.rowCount() == 9 and model.row_of(6) == 5
    model.set_hits([])
    assert model.rowCount() == 0
    model.extend_or_set(hits(3))
    model.extend_or_set(hits(6))  # the growing library grid: rows appended
    assert model.rowCount() == 6 and model.row_of(5) == 5
    model.extend_or_set(hits(2))
    assert model.rowCount() == 2
    del tester


def test_folders_model_passes_the_tester() -> None:
    model = FoldersModel()
    tester = QAbstractItemModelTester(model, FAIL)
    model.set_roots([Root(1, "/a", False, 12), Root(2, "/a/skip", True, 0)])
    assert model.rowCount() == 2 and model.columnCount() == 3
    assert model.data(model.index(0, 2)) == "12"
    assert model.data(model.index(1, 1)) == "excluded"
    model.set_roots([])
    del tester


def test_thumbnail_cache_is_lru_and_bounded() -> None:
    cache = ThumbnailCache(capacity=3)
    for i in range(3):
        cache.put(i, QImage(4, 4, QImage.Format.Format_RGB32))
    assert cache.get(0) is not None  # 0 is now the most recent
    cache.put(3, QImage(4, 4, QImage.Format.Format_RGB32))
    assert len(cache) == 3
    assert 1 not in cache and 0 in cache and 3 in cache


def test_the_gui_caches_are_the_one_lru_cache(qtbot: QtBot) -> None:
    assert isinstance(ThumbnailCache(), LRUCache)
    delegate = ThumbnailDelegate(side=40)
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(0)
    scaled = delegate._fit(1, image, 1.0)
    assert delegate._fit(1, image, 1.0) is scaled  # scaled once, then from the cache
    assert isinstance(delegate._scaled, LRUCache) and len(delegate._scaled) == 1
    delegate.set_side(80)  # another cell size: the scaled copies no longer fit
    assert len(delegate._scaled) == 0
    overlay = KeypointOverlay(lambda _: None)
    assert isinstance(overlay._cache, LRUCache)
    overlay.shutdown()
