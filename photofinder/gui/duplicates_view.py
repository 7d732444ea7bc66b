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
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.core.library import Library
from photofinder.core.names import shown_name
from photofinder.core.progress import Progress
from photofinder.gui.duplicates_delegate import DuplicatePhotoDelegate
from photofinder.gui.duplicates_model import (
    ICON,
    STRICTNESS,
    Found,
    GroupsModel,
    GroupState,
    PhotosModel,
    Thumbnails,
)
from photofinder.gui.jobs import Job, JobContext, JobQueue
from photofinder.gui.session import Session, SessionHolder

T = TypeVar("T")

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
        self.strictness = QComboBox()
        for value, label, explanation in STRICTNESS:
            self.strictness.addItem(label, value.value)
            self.strictness.setItemData(self.strictness.count() - 1, explanation,
                                        Qt.ItemDataRole.ToolTipRole)
        self.strictness.setCurrentIndex(1)
        self.explanation = QLabel()
        self.explanation.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.strictness.currentIndexChanged.connect(self._strictness_changed)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.find_button = QPushButton("Find again")
        self.find_button.clicked.connect(self.refresh)
        self.rules_button = QPushButton("Keeper rules…")
        self.trash_button = QPushButton("Move marked to trash…")
        self.undo_button = QPushButton("Undo last clean-up")
        self.undo_button.setEnabled(False)
        self.summary = QLabel()
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(QLabel("Find:"))
        top.addWidget(self.strictness)
        top.addWidget(self.explanation, 1)
        for widget in (self.busy, self.find_button, self.rules_button):
            top.addWidget(widget)
        self.groups_view = QListView()
        self.groups_view.setModel(self.groups_model)
        self.groups_view.setIconSize(ICON)
        self.groups_view.setSpacing(2)
        self.groups_view.setUniformItemSizes(True)
        self.groups_view.selectionModel().currentChanged.connect(
            lambda current, _: self.show_group(current.row()))
        self.photos_view = QListView()
        self.photos_view.setViewMode(QListView.ViewMode.IconMode)
        self.photos_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.photos_view.setMovement(QListView.Movement.Static)
        self.photos_view.setSpacing(4)
        self.photos_view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.photos_view.setModel(self.photos_model)
        self.photos_view.setItemDelegate(DuplicatePhotoDelegate(self.photos_view))
        self.photos_view.doubleClicked.connect(lambda index: self.photos_model.toggle(index.row()))
        toggle = QAction("Mark / unmark for removal", self.photos_view)
        toggle.setShortcut(QKeySequence(Qt.Key.Key_Space))
        toggle.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        toggle.triggered.connect(lambda: self.photos_model.toggle(self.current_row()))
        self.photos_view.addAction(toggle)
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
        for button in (self.keep_button, self.compare_button, self.split_button,
                       self.keep_all_button):
            actions.addWidget(button)
        actions.addStretch()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.group_label)
        right_layout.addWidget(self.photos_view, 1)
        right_layout.addLayout(actions)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.groups_view)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 800])
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.trash_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        self._strictness_changed()

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

    def _strictness_changed(self) -> None:
        self.explanation.setText(STRICTNESS[self.strictness.currentIndex()][2])
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
        for button in (self.keep_button, self.compare_button, self.split_button,
                       self.keep_all_button):
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
            self.summary.setText(f"{len(groups)} groups · {marked} photos marked · "
                                 f"{human_size(space)} can be freed")
        self.trash_button.setEnabled(marked > 0 and not self.jobs.busy)

    # --- selection ----------------------------------------------------------------------------
    def current_row(self) -> int:
        return self.photos_view.currentIndex().row()
