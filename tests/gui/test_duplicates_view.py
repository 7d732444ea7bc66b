"""The Duplicates view: groups by reclaimable space, keepers, decisions, clean-up and undo."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.duplicates.keepers import DEFAULT_RULES
from photofinder.core.duplicates.marks import GroupState
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.gui.compare_view import CompareView, load_pair
from photofinder.gui.duplicates_actions import trash_question
from photofinder.gui.duplicates_model import KEEPER_ROLE, PhotosModel
from photofinder.gui.duplicates_view import DuplicatesView
from photofinder.gui.keeper_rules_dialog import KeeperRulesDialog
from photofinder.gui.main_window import MainWindow
from tests.gui.conftest import make_photo, wait_indexed
from tests.test_trash_restore import FreedesktopTrash, fake_trash

__all__ = ["fake_trash"]  # the fixture, for this module's tests
FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


@pytest.fixture
def dupes(tmp_path: Path) -> Path:
    """Three exact copies of a big photo, two of a small one, a JPEG with its smaller PNG."""
    root = tmp_path / "photos"
    big = make_photo(root / "a" / "big.jpg", (30, 40, 220), (640, 480))
    for folder in ("b", "c"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(big, root / folder / "big.jpg")
    small = make_photo(root / "a" / "small.jpg", (30, 200, 40), (200, 150))
    shutil.copy(small, root / "b" / "small.jpg")
    red = make_photo(root / "a" / "red.jpg", (220, 30, 30), (640, 480))
    Image.open(red).resize((320, 240)).save(root / "b" / "red.png")
    make_photo(root / "a" / "yellow.jpg", (230, 220, 40))
    return root.resolve()


def wait_idle(qtbot: QtBot, view: DuplicatesView) -> None:
    qtbot.waitUntil(lambda: view.loaded and not view.jobs.busy, timeout=15000)


@pytest.fixture
def review(
    make_window: Callable[..., MainWindow], dupes: Path, qtbot: QtBot
) -> tuple[MainWindow, DuplicatesView]:
    window = make_window()
    window.add_folder(dupes)
    wait_indexed(qtbot, window)
    view = window.duplicates.view
    view.geometric = False  # the fake embedder's scores decide: fast and deterministic
    window.duplicates.actions.report = lambda text: None
    window.duplicates.action.trigger()
    assert window.pages.currentWidget() is view
    wait_idle(qtbot, view)
    return window, view


def names(state: GroupState) -> list[str]:
    return [str(Path(r.path).relative_to(Path(r.path).parents[1])) for r in state.records]


def keeper_name(state: GroupState) -> str:
    return str(Path(state.record(state.keeper_id).path).name)


def test_groups_sorted_by_reclaimable_space_with_keeper_marked(
    review: tuple[MainWindow, DuplicatesView],
) -> None:
    _, view = review
    groups = view.groups_model.groups()
    assert [len(g.records) for g in groups] == [3, 2, 2]
    assert [g.reclaimable for g in groups] == sorted((g.reclaimable for g in groups),
                                                     reverse=True)
    red = groups[2]
    assert keeper_name(red) == "red.jpg" and red.reason.startswith("highest resolution")
    assert view.photos_model.group is groups[0]
    rows = range(view.photos_model.rowCount())
    keepers = [view.photos_model.index(r).data(KEEPER_ROLE) for r in rows]
    checks = [view.photos_model.index(r).data(Qt.ItemDataRole.CheckStateRole) for r in rows]
    assert keepers.count(True) == 1
    assert checks.count(Qt.CheckState.Checked) == 2
    assert "Keep big.jpg" in view.group_label.text()
    assert "3 groups" in view.summary.text()
    QAbstractItemModelTester(view.groups_model, FAIL)
    QAbstractItemModelTester(view.photos_model, FAIL)


def test_user_toggles_marks_and_chooses_the_keeper(
    review: tuple[MainWindow, DuplicatesView],
) -> None:
    _, view = review
    group = view.groups_model.groups()[0]
    before = group.reclaimable
    marked_row = next(r for r in range(3) if not view.photos_model.index(r).data(KEEPER_ROLE))
    assert view.photos_model.toggle(marked_row)  # unmark
    assert group.reclaimable < before
    keeper_row = next(r for r in range(3) if view.photos_model.index(r).data(KEEPER_ROLE))
    assert not view.photos_model.toggle(keeper_row)  # the keeper cannot be marked
    view.photos_view.setCurrentIndex(view.photos_model.index(marked_row))
    view.keep_button.click()
    assert group.keeper_id == view.photos_model.record(marked_row).id  # type: ignore[union-attr]
    assert group.reason == "chosen by you" and len(group.marked) == 2


def test_strictness_change_reruns(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    _, view = review
    assert view.strictness_value() is Strictness.NEAR  # what it finds first
    view.set_strictness(Strictness.EXACT)
    wait_idle(qtbot, view)
    assert [len(g.records) for g in view.groups_model.groups()] == [3, 2]
    assert "Byte-identical" in view.explanation.text()


def test_reordered_rules_change_the_keeper(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    window, view = review
    dialog = KeeperRulesDialog(view.settings)
    dialog.rules.setCurrentRow(1)  # "format" comes second by default
    dialog.move_rule(-1)
    rules = dialog.settings().rules
    assert rules[:2] == ["format", "resolution"] and sorted(rules) == sorted(DEFAULT_RULES)
    dialog.deleteLater()
    window.duplicates.actions.edit_rules = lambda current: ReviewSettings(rules)
    view.rules_button.click()
    red = next(g for g in view.groups_model.groups() if "red.jpg" in names(g)[0])
    assert keeper_name(red) == "red.png" and red.reason.startswith("RAW/HEIC over JPEG")
    wait_idle(qtbot, view)
    assert ReviewSettings.load(window.session.library.catalog).rules == rules
    view.refresh()  # found again: the saved rules apply
    wait_idle(qtbot, view)
    red = next(g for g in view.groups_model.groups() if "red.jpg" in names(g)[0])
    assert keeper_name(red) == "red.png"


def test_reference_folder_photos_are_never_marked(
    review: tuple[MainWindow, DuplicatesView], dupes: Path
) -> None:
    window, view = review
    reference = str(dupes / "b")
    window.duplicates.actions.edit_rules = lambda current: ReviewSettings(
        list(DEFAULT_RULES), [], [reference])
    view.rules_button.click()
    for group in view.groups_model.groups():
        in_reference = {r.id for r in group.records if r.path.startswith(reference)}
        assert in_reference and not in_reference & group.marked
        assert group.keeper_id in in_reference
    model = PhotosModel(lambda _: None)
    model.set_group(view.groups_model.groups()[0])
    QAbstractItemModelTester(model, FAIL)
    for row in range(model.rowCount()):
        record = model.record(row)
        assert record is not None
        if record.path.startswith(reference):
            assert not model.flags(model.index(row)) & Qt.ItemFlag.ItemIsUserCheckable
            assert not model.setData(model.index(row), Qt.CheckState.Checked,
                                     Qt.ItemDataRole.CheckStateRole)


def select_group(view: DuplicatesView, name: str) -> GroupState:
    row = next(i for i, g in enumerate(view.groups_model.groups())
               if any(Path(r.path).name == name for r in g.records))
    view.select_group(row)
    group = view.photos_model.group
    assert group is not None
    return group


def test_decisions_make_groups_vanish_for_good(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    window, view = review
    select_group(view, "red.png")
    view.split_button.click()
    select_group(view, "small.jpg")
    view.keep_all_button.click()
    assert [len(g.records) for g in view.groups_model.groups()] == [3]
    wait_idle(qtbot, view)
    window.session.indexer.start()
    wait_indexed(qtbot, window)
    view.refresh()
    wait_idle(qtbot, view)
    assert [len(g.records) for g in view.groups_model.groups()] == [3]
    assert len(window.session.library.duplicates(geometric=False)) == 1


def test_trash_marked_then_undo(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot, dupes: Path,
    fake_trash: FreedesktopTrash,
) -> None:
    window, view = review
    actions = window.duplicates.actions
    asked: list[tuple[int, int]] = []

    def confirm(count: int, space: int) -> bool:
        asked.append((count, space))
        return True

    actions.confirm_trash = confirm
    reports: list[str] = []
    actions.report = reports.append
    marked = {r.path: r.size for g in view.groups_model.groups() for r in g.records
              if r.id in g.marked}
    assert len(marked) == 4
    view.trash_button.click()
    wait_idle(qtbot, view)
    assert asked == [(4, sum(marked.values()))]
    assert all(not Path(p).exists() for p in marked)
    assert len(fake_trash.names()) == 4
    assert view.groups_model.rowCount() == 0
    assert "freed" in reports[0]
    catalog = window.session.library.catalog
    assert all(catalog.file_by_path(p) is None for p in marked)
    assert not {h.path for h in window.model.hits()} & set(marked)
    assert view.undo_button.isEnabled()

    view.undo_button.click()
    qtbot.waitUntil(lambda: view.groups_model.rowCount() == 3, timeout=20000)
    assert all(Path(p).exists() for p in marked) and fake_trash.names() == []
    assert all(catalog.file_by_path(p) is not None for p in marked)
    assert not view.undo_button.isEnabled()


def test_trash_question_says_whether_undo_works() -> None:
    assert "Undo last clean-up" in trash_question(3, 2048, True)
    assert "not available" in trash_question(1, 10, False)


def wheel(view: object, steps: int) -> QWheelEvent:
    return QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(), QPoint(0, 120 * steps),
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                       Qt.ScrollPhase.NoScrollPhase, False)


def test_compare_view_syncs_zoom_and_pan(qtbot: QtBot, dupes: Path) -> None:
    pair = load_pair(dupes / "a" / "red.jpg", dupes / "b" / "red.png")
    assert pair.a.size() != pair.b.size() and pair.difference.size() == pair.a.size()
    dialog = CompareView(("red.jpg", "red.png"))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_pair(pair)
    dialog.left.wheelEvent(wheel(dialog.left, 3))
    assert dialog.zoom > 1.5
    assert dialog.right.transform() == dialog.left.transform()
    dialog.right.wheelEvent(wheel(dialog.right, 1))
    assert dialog.right.transform() == dialog.left.transform()
    bar = dialog.right.horizontalScrollBar()
    bar.setValue(bar.maximum() // 2)
    assert dialog.left.horizontalScrollBar().value() == bar.value() > 0
    dialog.set_mode(1)  # flicker: one view alternates A and B
    assert dialog.timer.isActive() and not dialog.right.isVisible()
    dialog.flicker_step()
    assert dialog.left_label.text().startswith("B:")
    dialog.set_mode(2)
    assert not dialog.timer.isActive() and "A − B" in dialog.left_label.text()
    dialog.close()
    assert not dialog.timer.isActive()


def test_compare_from_the_view_loads_off_the_gui_thread(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    window, view = review
    select_group(view, "red.png")
    view.compare_button.click()
    dialog = window.duplicates.actions.compare_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.pair is not None, timeout=10000)
    dialog.not_duplicates.emit()
    assert window.duplicates.actions.compare_dialog is None or not dialog.isVisible()
    wait_idle(qtbot, view)
    assert [len(g.records) for g in view.groups_model.groups()] == [3, 2]


def test_a_newer_search_stops_the_running_one_quietly(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    _, view = review
    view.geometric = True  # candidates are checked in chunks, between which a search stops
    errors: list[str] = []
    view.error.connect(errors.append)
    view.refresh()
    wait_idle(qtbot, view)
    alone = [g.ids for g in view.groups_model.groups()]
    view.refresh()
    first_token = view._finding
    view.refresh()  # the user changed their mind at once
    assert first_token is not None and first_token.cancelled
    wait_idle(qtbot, view)
    assert [g.ids for g in view.groups_model.groups()] == alone
    assert errors == []
    assert "groups" in view.summary.text()


def test_the_view_follows_a_new_session_at_once(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot
) -> None:
    window, view = review
    old = view.session
    window.reopen("efficientnet-lite0", "cpu")  # a device change opens a new session
    assert view.session is window.session is not old
    wait_idle(qtbot, view)  # on screen: found again in the new session
    assert [len(g.records) for g in view.groups_model.groups()] == [3, 2, 2]
    wait_indexed(qtbot, window)


@pytest.mark.slow
def test_pairs_checked_in_worker_processes_from_the_gui(
    review: tuple[MainWindow, DuplicatesView], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools

    from photofinder.core.duplicates import review as review_module
    from photofinder.core.duplicates.check_pool import CheckPool

    _, view = review
    view.geometric = True
    view.refresh()
    wait_idle(qtbot, view)
    here = [g.ids for g in view.groups_model.groups()]
    started: list[CheckPool] = []

    def in_workers() -> CheckPool:
        started.append(CheckPool(workers=2, in_process_below=0))
        return started[-1]

    monkeypatch.setattr(review_module, "CheckPool", functools.partial(in_workers))
    with view.session.library.catalog.transaction():  # forget groups and verdicts: check again
        view.session.library.catalog._conn.execute("DELETE FROM verdicts")
        view.session.library.catalog._conn.execute("DELETE FROM duplicate_results")
    errors: list[str] = []
    view.error.connect(errors.append)
    view.refresh()
    qtbot.waitUntil(lambda: view.loaded and not view.jobs.busy, timeout=60000)
    assert started and started[-1].worker_calls > 0 and errors == []
    assert [g.ids for g in view.groups_model.groups()] == here
