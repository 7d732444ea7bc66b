"""The match view: the query and a result side by side, RANSAC inliers drawn and counted."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from photofinder.core.matching.verify import MIN_INLIERS
from photofinder.gui.main_window import MainWindow
from photofinder.gui.match_dialog import MatchDialog
from photofinder.gui.query import Query
from tests.gui.test_keypoints_view import preview, textured, textured_window

__all__ = ["textured", "textured_window"]  # fixtures shared with the keypoint view tests


def search(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.session.search.results, timeout=10000):
        window.run_query(Query(label=path.name, path=path))


def matches_for(qtbot: QtBot, window: MainWindow, target: Path) -> MatchDialog:
    preview(window, target)
    window.result_actions.actions["matches"].trigger()  # what the context menu item does
    dialog = window.tools.match_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=15000)
    return dialog


def test_a_crop_matches_with_many_inliers_an_unrelated_photo_with_few(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path]
) -> None:
    window = textured_window
    search(qtbot, window, textured["astronaut"])
    dialog = matches_for(qtbot, window, textured["crop"])
    result = dialog.outcome
    assert result is not None
    assert result.verified and result.inliers >= 5 * MIN_INLIERS
    assert result.inlier_ratio > 0.5
    assert f"{result.inliers} inliers of {result.matches}" in dialog.summary.text()
    assert "verified near-duplicate" in dialog.summary.text()
    inliers_only = dialog.view.image()
    assert inliers_only.height() == 560 and not inliers_only.isNull()
    dialog.outliers.setChecked(True)  # instant: both pictures were drawn by the worker
    assert dialog.view.image() is not inliers_only
    dialog.outliers.setChecked(False)
    assert dialog.view.image() is inliers_only

    other = matches_for(qtbot, window, textured["coffee"])  # replaces the first dialog
    assert other is not dialog and window.tools.match_dialog is other
    assert other.outcome is not None and other.outcome.inliers < MIN_INLIERS
    assert "not the same scene" in other.summary.text()
    other.close()


def test_matches_from_the_preview_button_and_for_a_pasted_query(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path]
) -> None:
    window = textured_window
    preview(window, textured["crop"])
    window.preview.keypoints.matches.click()  # no query yet: nothing to match against
    assert window.tools.match_dialog is None
    assert "Search for a photo first" in window.statusBar().currentMessage()
    data = textured["astronaut"].read_bytes()
    with qtbot.waitSignal(window.session.search.results, timeout=10000):
        window.run_query(Query(label="pasted image", data=data))
    preview(window, textured["crop"])
    window.preview.keypoints.kind.setCurrentIndex(window.preview.keypoints.kind.findData("ORB"))
    window.preview.keypoints.matches.click()
    dialog = window.tools.match_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=15000)
    assert dialog.outcome is not None
    assert dialog.outcome.kind == "ORB" and dialog.outcome.verified
    assert "pasted image" in dialog.windowTitle()
