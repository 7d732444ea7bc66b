"""The Duplicates view: groups by reclaimable space, each group's photos with keeper and marks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.duplicates.keepers import human_size
from photofinder.core.duplicates.marks import GroupState
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.core.library import Library
from photofinder.core.messages import plural
from photofinder.core.names import shown_name
from photofinder.core.progress import Progress
from photofinder.gui.duplicates_delegate import DuplicatePhotoDelegate
from photofinder.gui.duplicates_model import (
    DEFAULT_STRICTNESS,
    ICON,
    STRICTNESS,
    Found,
    GroupsModel,
    PhotosModel,
    Thumbnails,
)
from photofinder.gui.jobs import Job, JobContext, JobQueue
from photofinder.gui.session import Session, SessionHolder

T = TypeVar("T")

SPLITTER_SIZES = (280, 800)  # groups list : open group, at first; the group gets what is left
BUSY_WIDTH = 120  # the busy bar is a hint beside the buttons, not a progress read-out
GROUP_SPACING = 2  # pixels between group rows
PHOTO_SPACING = 4  # pixels between a group's photo icons

_CHECKING = {  # progress stages of the duplicate search, as the status line names them
    "checking pairs": "Comparing likely pairs",
    "checking groups": "Checking each group as a whole",
}


class DuplicatesView(QWidget):
    """Finds duplicate groups off the GUI thread; the user reviews marks and keepers here."""

    message = Signal(str)
    error = Signal(str)
    groups_changed = Signal()
    session_changed = Signal()

    def __init__(self, sessions: SessionHolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sessions = sessions
        self.geometric = True  # confirm doubtful near-duplicates with keypoints
        self.settings = ReviewSettings()
        self.loaded = False
        self._finding: Job[Found] | None = None  # the running search, stopped by a newer one
        self.thumbnails = Thumbnails(lambda i: self.session.images.request_thumbnail(i))
        self.groups_model = GroupsModel(self.thumbnails, self)
        self.photos_model = PhotosModel(self.thumbnails, self)
        self.photos_model.marks_changed.connect(self._marks_changed)
        self._build()
        self.jobs = self._new_jobs()
        self._connect(sessions.session)
        sessions.session_changed.connect(self._follow)

    # --- widgets -------------------------------------------------------------------------------
    def _build(self) -> None:
        """The strictness bar on top, groups beside the open group's photos, totals below."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_groups_view())
        self.splitter.addWidget(self._build_group_pane())
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes(list(SPLITTER_SIZES))
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top_bar())
        layout.addWidget(self.splitter, 1)
        layout.addLayout(self._build_bottom_bar())
        self._strictness_changed()

    def _build_top_bar(self) -> QHBoxLayout:
        """Find: the strictness menu, what it finds, the busy bar, find again, keeper rules."""
        self.strictness = QComboBox()
        for choice in STRICTNESS:
            self.strictness.addItem(choice.label, choice.value.value)
            self.strictness.setItemData(self.strictness.count() - 1, choice.explanation,
                                        Qt.ItemDataRole.ToolTipRole)
        self.strictness.setCurrentIndex(self.strictness.findData(DEFAULT_STRICTNESS.value))
        self.strictness.currentIndexChanged.connect(self._strictness_changed)
        self.explanation = QLabel()
        self.explanation.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no known end: it only shows that a search runs
        self.busy.setMaximumWidth(BUSY_WIDTH)
        self.busy.hide()
        self.find_button = QPushButton("Find again")
        self.find_button.clicked.connect(self.refresh)
        self.rules_button = QPushButton("Keeper rules…")
        top = QHBoxLayout()
        top.addWidget(QLabel("Find:"))
        top.addWidget(self.strictness)
        top.addWidget(self.explanation, 1)
        for widget in (self.busy, self.find_button, self.rules_button):
            top.addWidget(widget)
        return top

    def _build_groups_view(self) -> QListView:
        """The groups, one row each, with the keeper's thumbnail."""
        self.groups_view = QListView()
        self.groups_view.setModel(self.groups_model)
        self.groups_view.setIconSize(ICON)
        self.groups_view.setSpacing(GROUP_SPACING)
        self.groups_view.setUniformItemSizes(True)
        self.groups_view.selectionModel().currentChanged.connect(
            lambda current, _: self.show_group(current.row()))
        return self.groups_view

    def _build_photos_view(self) -> QListView:
        """The open group's photos as icons; double-click or Space marks and unmarks."""
        self.photos_view = QListView()
        self.photos_view.setViewMode(QListView.ViewMode.IconMode)
        self.photos_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.photos_view.setMovement(QListView.Movement.Static)
        self.photos_view.setSpacing(PHOTO_SPACING)
        self.photos_view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.photos_view.setModel(self.photos_model)
        self.photos_view.setItemDelegate(DuplicatePhotoDelegate(self.photos_view))
        self.photos_view.doubleClicked.connect(lambda index: self.photos_model.toggle(index.row()))
        toggle = QAction("Mark / unmark for removal", self.photos_view)
        toggle.setShortcut(QKeySequence(Qt.Key.Key_Space))
        toggle.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        toggle.triggered.connect(lambda: self.photos_model.toggle(self.current_row()))
        self.photos_view.addAction(toggle)
        return self.photos_view

    def _build_group_pane(self) -> QWidget:
        """The open group: what is kept and why, its photos, and what to do with them."""
        self.group_label = QLabel()
        self.group_label.setWordWrap(True)
        self.keep_button = QPushButton("Keep this one")
        self.keep_button.clicked.connect(lambda: self.photos_model.set_keeper(self.current_row()))
        self.compare_button = QPushButton("Compare…")
        self.split_button = QPushButton("Not a duplicate")
        self.split_button.setToolTip("The selected photo (or two) and the keeper are different "
                                     "photos: never group them again")
        self.keep_all_button = QPushButton("Keep all")
        self.keep_all_button.setToolTip("Keep every photo of this group and never show it again")
        actions = QHBoxLayout()
        for button in self._group_buttons():
            actions.addWidget(button)
        actions.addStretch()
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.group_label)
        layout.addWidget(self._build_photos_view(), 1)
        layout.addLayout(actions)
        return pane

    def _group_buttons(self) -> tuple[QPushButton, ...]:
        """The buttons that act on the open group (enabled only while one is open)."""
        return (self.keep_button, self.compare_button, self.split_button, self.keep_all_button)

    def _build_bottom_bar(self) -> QHBoxLayout:
        """Totals over every group, undo, and the clean-up."""
        self.summary = QLabel()
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.undo_button = QPushButton("Undo last clean-up")
        self.undo_button.setEnabled(False)
        self.trash_button = QPushButton("Move marked to trash…")
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.trash_button)
        return bottom

    # --- session and jobs ----------------------------------------------------------------------
    @property
    def session(self) -> Session:
        return self._sessions.session

    def _follow(self, session: Session) -> None:
        """A new session (another method or device): let go of the old library, start over."""
        self._stop_finding()
        self.jobs.shutdown()
        self.jobs.deleteLater()
        self.jobs = self._new_jobs()
        self.loaded = False
        self.thumbnails.cache.clear()
        self.groups_model.set_groups([])
        self.show_group(-1)
        self._connect(session)
        self.session_changed.emit()
        if self.isVisible():
            self.refresh()

    def _new_jobs(self) -> JobQueue:
        """The review queue: one job at a time, in the order they were asked for."""
        jobs = JobQueue("photofinder-duplicates", self)
        jobs.busy_changed.connect(self._set_busy)
        return jobs

    def _connect(self, session: Session) -> None:
        session.images.thumbnails.connect(self._thumbnails_loaded)

    def shutdown(self) -> None:
        self._stop_finding()
        self.jobs.shutdown()

    def _stop_finding(self) -> None:
        if self._finding is not None:
            self._finding.discard()

    def run(self, what: str, work: Callable[[Library], T],
            done: Callable[[T], None] | None = None) -> Job[T]:
        """Run `work(library)` in the review queue, after the jobs asked for before it;
        `done(result)` follows on the GUI thread, a failure becomes `error`."""
        library = self.session.library

        def job(_context: JobContext) -> T:
            return work(library)

        return self.jobs.submit(job, done, failed=self.error.emit, what=what)

    def _set_busy(self, _busy: bool) -> None:
        busy = self.jobs.busy  # not the signal's: a replaced queue may still say it is idle
        self.busy.setVisible(busy)
        for button in (self.trash_button, self.find_button):
            button.setEnabled(not busy)
        if not busy:
            self._update_summary()

    def _thumbnails_loaded(self, batch: dict[int, QImage]) -> None:
        ids = self.thumbnails.loaded(batch)
        self.groups_model.thumbnails_loaded(ids)
        self.photos_model.thumbnails_loaded(ids)

    # --- finding -------------------------------------------------------------------------------
    def strictness_value(self) -> Strictness:
        return Strictness(str(self.strictness.currentData()))

    def set_strictness(self, strictness: Strictness) -> None:
        """Choose what to find, as the user would in the menu (the search starts again)."""
        self.strictness.setCurrentIndex(self.strictness.findData(strictness.value))

    def _strictness_changed(self) -> None:
        self.explanation.setText(STRICTNESS[self.strictness.currentIndex()].explanation)
        if hasattr(self, "jobs"):
            self.refresh()

    def ensure_loaded(self) -> None:
        if not self.loaded:
            self.refresh()

    def refresh(self) -> None:
        """Find the groups again (in the review thread); the latest request wins."""
        self.loaded = True
        geometric, strictness = self.geometric, self.strictness_value()
        library = self.session.library
        self.summary.setText("Looking for duplicates…")
        self._stop_finding()

        def find(context: JobContext) -> Found:
            groups = library.duplicates(strictness, geometric, context.progress, context.token)
            return groups, ReviewSettings.load(library.catalog)

        self._finding = self.jobs.submit(find, self._found, failed=self.error.emit,
                                         progress=self._show_find_progress,
                                         what="Finding duplicates")

    def _show_find_progress(self, progress: Progress) -> None:
        if progress.stage in _CHECKING and progress.total:
            self.summary.setText(f"{_CHECKING[progress.stage]}: "
                                 f"{progress.done:,} of {progress.total:,}…")

    def _found(self, result: Found) -> None:
        groups, self.settings = result
        previous = {g.ids: g for g in self.groups_model.groups()}
        states = [GroupState.of(g, self.settings.reference_folders) for g in groups]
        self.set_states([previous.get(s.ids, s) for s in states])

    def set_states(self, states: list[GroupState]) -> None:
        current = self.photos_model.group
        self.groups_model.set_groups(states)
        row = self.groups_model.row_of(current) if current is not None else None
        self.select_group(row if row is not None else 0)
        self._update_summary()
        self.groups_changed.emit()

    def select_group(self, row: int) -> None:
        if self.groups_model.group(row) is None:
            self.show_group(-1)
            return
        index = self.groups_model.index(row)
        self.groups_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.show_group(row)

    def show_group(self, row: int) -> None:
        group = self.groups_model.group(row)
        if group is not self.photos_model.group:
            self.photos_model.set_group(group)
            if group is not None:
                self.photos_view.setCurrentIndex(self.photos_model.index(0))
        self._update_group_label()
        for button in self._group_buttons():
            button.setEnabled(group is not None)

    def _update_group_label(self) -> None:
        group = self.photos_model.group
        if group is None:
            self.group_label.setText("No duplicate groups." if self.loaded else "")
            return
        keeper = shown_name(group.record(group.keeper_id).path)
        self.group_label.setText(f"<b>Keep {keeper}</b> — {group.reason}. {group.summary()}.")

    def _marks_changed(self, group: GroupState) -> None:
        self.groups_model.changed(group)
        self._update_group_label()
        self._update_summary()

    def _update_summary(self) -> None:
        groups = self.groups_model.groups()
        marked = sum(len(g.marked) for g in groups)
        space = sum(g.reclaimable for g in groups)
        if self.loaded and not self.jobs.busy:
            self.summary.setText(f"{plural(len(groups), 'group')} · "
                                 f"{plural(marked, 'photo')} marked · "
                                 f"{human_size(space)} can be freed")
        self.trash_button.setEnabled(marked > 0 and not self.jobs.busy)

    # --- selection ----------------------------------------------------------------------------
    def current_row(self) -> int:
        return self.photos_view.currentIndex().row()
