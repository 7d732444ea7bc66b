"""What the Duplicates view does: keeper rules, compare, decisions, clean-up and its undo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from photofinder.core.duplicates.keepers import human_size
from photofinder.core.duplicates.marks import GroupState
from photofinder.core.duplicates.review import ReviewSettings, keep_all, mark_not_duplicates
from photofinder.core.duplicates.trash import (
    UNDO_UNAVAILABLE,
    CleanupGroup,
    RestoreReport,
    TrashedFile,
    TrashReport,
    restore_files,
    trash_duplicates,
    undo_supported,
)
from photofinder.core.library import Library
from photofinder.core.messages import plural
from photofinder.core.names import shown, shown_name
from photofinder.core.storage.catalog import FileRecord
from photofinder.gui.compare_view import ComparePair, CompareView, load_pair
from photofinder.gui.duplicates_view import DuplicatesView
from photofinder.gui.keeper_rules_dialog import KeeperRulesDialog


def trash_question(count: int, space: int, undo: bool) -> str:
    """The confirmation text: how many, how much, and whether undo will be possible."""
    text = (f"Move {count} marked photo{'s' if count != 1 else ''} ({human_size(space)}) "
            "to the trash?\n\nNothing is deleted for good: they stay in the trash until you "
            "empty it.")
    if undo:
        return text + " “Undo last clean-up” puts them back while PhotoFinder runs."
    return text + "\n\n" + UNDO_UNAVAILABLE


class DuplicatesActions(QObject):
    """The view's buttons; dialogs can be replaced by tests (`confirm_trash`, `edit_rules`)."""

    trashed = Signal(object)  # set[int]: file ids that left the library

    def __init__(self, view: DuplicatesView) -> None:
        super().__init__(view)
        self.view = view
        self.last_cleanup: list[TrashedFile] = []
        self.compare_dialog: CompareView | None = None
        self._index_runs_to_wait = 0
        self.undo_available = undo_supported()
        self.confirm_trash: Callable[[int, int], bool] = self._ask_trash
        self.edit_rules: Callable[[ReviewSettings], ReviewSettings | None] = self._ask_rules
        self.report: Callable[[str], None] = self._show_report
        view.rules_button.clicked.connect(self.show_rules)
        view.compare_button.clicked.connect(self.compare)
        view.split_button.clicked.connect(self.not_a_duplicate)
        view.keep_all_button.clicked.connect(self.keep_all)
        view.trash_button.clicked.connect(self.trash_marked)
        view.undo_button.clicked.connect(self.undo)
        view.undo_button.setVisible(self.undo_available)
        view.session_changed.connect(self.connect_indexer)
        self.connect_indexer()

    def connect_indexer(self) -> None:
        """Follow the indexer of the view's (new) session."""
        self.view.session.indexer.running_changed.connect(self._indexing_running)
        self._index_runs_to_wait = 0
        self.last_cleanup = []
        self.view.undo_button.setEnabled(False)

    # --- keeper rules --------------------------------------------------------------------------
    def show_rules(self) -> None:
        settings = self.edit_rules(self.view.settings)
        if settings is None:
            return
        self.resuggest(settings)
        self.view.run("Saving the keeper rules", lambda library: settings.save(library.catalog))

    def resuggest(self, settings: ReviewSettings) -> None:
        """New keeper rules or folders: suggest keepers again for every group, now."""
        self.view.settings = settings
        groups = self.view.groups_model.groups()
        states = [GroupState.suggested(g.records, settings) for g in groups]
        self.view.photos_model.set_group(None)
        self.view.set_states(states)

    def _ask_rules(self, settings: ReviewSettings) -> ReviewSettings | None:
        dialog = KeeperRulesDialog(settings, self.view)
        accepted = dialog.exec() == KeeperRulesDialog.DialogCode.Accepted
        dialog.deleteLater()
        return dialog.settings() if accepted else None

    # --- compare and decisions -----------------------------------------------------------------
    def selected_pair(self) -> tuple[FileRecord, FileRecord] | None:
        """The two selected photos, or the current one and the keeper."""
        view = self.view
        group = view.photos_model.group
        if group is None:
            return None
        rows = sorted(i.row() for i in view.photos_view.selectionModel().selectedIndexes())
        records = [r for r in (view.photos_model.record(row) for row in rows) if r is not None]
        if len(records) == 2:
            return records[0], records[1]
        current = view.photos_model.record(view.current_row())
        keeper = group.record(group.keeper_id)
        if current is None or current.id == keeper.id:
            current = next((r for r in group.records if r.id != keeper.id), None)
        return (keeper, current) if current is not None else None

    def compare(self) -> None:
        pair = self.selected_pair()
        if pair is None:
            return
        a, b = pair
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dialog = CompareView((shown_name(a.path), shown_name(b.path)), self.view)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.not_duplicates.connect(lambda: self._split_from_compare(dialog, a, b))
        dialog.destroyed.connect(lambda: self._forget_dialog(dialog))
        self.compare_dialog = dialog
        self.view.run("Loading the two photos", lambda _: load_pair(Path(a.path), Path(b.path)),
                      lambda pair: self._pair_loaded(dialog, pair))
        dialog.show()

    def _forget_dialog(self, dialog: CompareView) -> None:
        if self.compare_dialog is dialog:
            self.compare_dialog = None

    def _pair_loaded(self, dialog: CompareView, pair: ComparePair) -> None:
        if self.compare_dialog is dialog:
            dialog.set_pair(pair)

    def _split_from_compare(self, dialog: CompareView, a: FileRecord, b: FileRecord) -> None:
        dialog.close()
        self.split(a, b)

    def not_a_duplicate(self) -> None:
        pair = self.selected_pair()
        if pair is not None:
            self.split(*pair)

    def split(self, a: FileRecord, b: FileRecord) -> None:
        """Remember the pair as different photos; their group is found again without it."""
        group = self.view.photos_model.group
        self.view.run("Saving the decision",
                      lambda library: mark_not_duplicates(library.catalog, a, b))
        if group is not None and group.ids == {a.id, b.id}:
            self.view.groups_model.remove(group)
            self.view.set_states(self.view.groups_model.groups())
        else:
            self.view.refresh()
        self.view.message.emit(f"{shown_name(a.path)} and {shown_name(b.path)}: not duplicates")

    def keep_all(self) -> None:
        group = self.view.photos_model.group
        if group is None:
            return
        decided = group.as_group()
        self.view.run("Saving the decision", lambda library: keep_all(library.catalog, decided))
        self.view.groups_model.remove(group)
        self.view.set_states(self.view.groups_model.groups())
        self.view.message.emit(f"Keeping all {len(group.records)} photos of that group")

    # --- clean-up ------------------------------------------------------------------------------
    def trash_marked(self) -> None:
        groups = self.view.groups_model.groups()
        ids = sorted({i for g in groups for i in g.marked})
        space = sum(g.reclaimable for g in groups)
        if not ids or not self.confirm_trash(len(ids), space):
            return

        cleanup = [CleanupGroup(g.keeper_id, sorted(g.marked)) for g in groups if g.marked]

        def run(library: Library) -> TrashReport:
            return trash_duplicates(library, cleanup)

        self.view.run("Moving to the trash", run, self._trash_done)

    def _ask_trash(self, count: int, space: int) -> bool:
        answer = QMessageBox.question(
            self.view, "Move marked to trash", trash_question(count, space, self.undo_available),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _trash_done(self, report: TrashReport) -> None:
        ids = {t.file_id for t in report.trashed}
        self.view.groups_model.forget_files(ids)
        self.view.set_states(self.view.groups_model.groups())
        self.last_cleanup = report.trashed
        self.view.undo_button.setEnabled(bool(report.trashed) and self.undo_available)
        self.trashed.emit(ids)
        text = (f"Moved {plural(len(report.trashed), 'photo')} to the trash: "
                f"{human_size(report.freed_bytes)} freed.")
        if report.failed:
            text += f"\n\n{plural(len(report.failed), 'photo')} kept:\n" + "\n".join(
                f"{shown(path)}: {reason}" for path, reason in report.failed[:10])
        if report.warning:
            text += f"\n\n{report.warning}"
        self.view.message.emit(text.splitlines()[0])
        self.report(text)

    def _show_report(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Clean-up", text,
                          QMessageBox.StandardButton.Ok, self.view)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def undo(self) -> None:
        """Put the last clean-up's photos back, then re-index so they return to the catalogue."""
        files, self.last_cleanup = self.last_cleanup, []
        self.view.undo_button.setEnabled(False)
        if not files:
            return

        def run(_library: Library) -> RestoreReport:
            return restore_files(files)

        self.view.run("Restoring from the trash", run, self._restored)

    def _restored(self, report: RestoreReport) -> None:
        indexer = self.view.session.indexer
        self._index_runs_to_wait = 2 if indexer.running else 1  # a running pass may miss them
        indexer.start()
        text = f"Restored {plural(len(report.restored), 'photo')} from the trash."
        if report.failed:
            text += f"\n\n{plural(len(report.failed), 'photo')} could not be restored:\n" + (
                "\n".join(f"{shown(path)}: {reason}" for path, reason in report.failed[:10]))
        self.view.message.emit(text.splitlines()[0])
        if report.failed:
            self.report(text)

    def _indexing_running(self, running: bool) -> None:
        if running or self._index_runs_to_wait == 0:
            return
        self._index_runs_to_wait -= 1
        if self._index_runs_to_wait == 0:
            self.view.refresh()
