"""Background method switching, the precise-search switch, match and compare-methods tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import QListView, QToolTip, QWidget

from photofinder.core.errors import PhotoFinderError
from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.names import shown
from photofinder.core.progress import Progress
from photofinder.core.search.knn import SearchHit
from photofinder.gui.chrome import Chrome
from photofinder.gui.compare_methods_dialog import CompareMethodsDialog
from photofinder.gui.controls import MethodCombo
from photofinder.gui.match_dialog import MatchDialog, QuerySource
from photofinder.gui.preview import PreviewPane
from photofinder.gui.query import QueryHistory
from photofinder.gui.result_actions import ResultActions
from photofinder.gui.results_model import ResultsModel
from photofinder.gui.session import Session, SessionHolder
from photofinder.gui.status_panel import IndexingPanel, format_report

PRECISE_KEY = "search/precise"


def hit_tooltip(hit: SearchHit) -> str:
    text = f"{shown(hit.path)}\nsimilarity {hit.score:.3f}"
    inliers = hit.inliers
    if inliers is not None:
        from photofinder.core.matching.verify import MIN_INLIERS

        verdict = "verified near-duplicate" if inliers >= MIN_INLIERS else "not verified"
        text += f"\n{inliers} keypoint inliers: {verdict}"
    return text


def verified_note(hits: Sequence[SearchHit]) -> str:
    """", 2 verified near-duplicates first" after a precise search ("" otherwise)."""
    from photofinder.core.matching.verify import MIN_INLIERS

    counts = [h.inliers for h in hits]
    if all(c is None for c in counts):
        return ""
    verified = sum(1 for c in counts if c is not None and c >= MIN_INLIERS)
    return f", {verified} verified near-duplicate{'s' if verified != 1 else ''} first"


class MethodSwitch(QObject):
    """A new method indexes in a second session while the current one keeps answering
    searches; when its update ends the holder adopts it (`switched` follows)."""

    switched = Signal(str)  # the method now in use
    message = Signal(str)
    error = Signal(str)

    def __init__(
        self, sessions: SessionHolder, indexing: IndexingPanel, combo: MethodCombo,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._sessions = sessions
        self._indexing = indexing
        self._combo = combo
        self.pending: Session | None = None
        indexing.cancel_clicked.connect(self.cancel)

    def request(self, method: str, device: str) -> bool:
        """Start switching to `method` in the background; False when it is the current one
        (a device change alone is the caller's: it reopens at once)."""
        self.cancel()
        current = self._sessions.session.library.info.name
        if method == current:
            return False
        try:
            session = self._sessions.open(method, device)
        except PhotoFinderError as exc:
            self.error.emit(f"Cannot switch to {method}: {exc}")
            self._select(current)
            return True
        self.pending = session
        session.indexer.progress.connect(self._on_progress)
        session.indexer.finished.connect(self._on_finished)
        session.indexer.failed.connect(self._on_failed)
        self._indexing.set_running(True)
        self.message.emit(f"Indexing with {method}; searches use {current} until it is ready")
        session.indexer.start()
        self._select(method)
        return True

    @Slot()
    def cancel(self) -> None:
        """Abandon a pending switch (the current method stays)."""
        session, self.pending = self.pending, None
        if session is None:
            return
        session.shutdown()
        session.deleteLater()
        current = self._sessions.session
        self._indexing.set_running(current.indexer.running)
        self._select(current.library.info.name)

    def _select(self, method: str) -> None:
        combo = self._combo
        row = combo.findData(method)
        if row < 0:
            combo.addItem(method, method)
            row = combo.count() - 1
        combo.blockSignals(True)
        combo.setCurrentIndex(row)
        combo.blockSignals(False)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if self.pending is not None:
            self._indexing.show_progress(progress)
            name = self.pending.library.info.name
            label = self._indexing.label
            label.setText(f"Switching to {name} · {label.text()}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.pending is not None:
            name = self.pending.library.info.name
            self.cancel()
            self.error.emit(f"Switching to {name} failed: {message}")

    @Slot(object)
    def _on_finished(self, report: IndexReport) -> None:
        session = self.pending
        if session is None:
            return
        if report.cancelled:
            self.cancel()
            self.message.emit("Method switch cancelled")
            return
        self.pending = None
        session.indexer.progress.disconnect(self._on_progress)
        session.indexer.finished.disconnect(self._on_finished)
        session.indexer.failed.disconnect(self._on_failed)
        self._sessions.adopt(session)
        self._indexing.set_running(session.indexer.running)
        self._indexing.label.setText(format_report(report))
        session.restart_watching()
        self._select(session.library.info.name)
        self.switched.emit(session.library.info.name)


class _HitToolTips(QObject):
    """Result tooltips that include a precise search's keypoint inliers."""

    def __init__(self, view: QListView, model: ResultsModel) -> None:
        super().__init__(view)
        self._view, self._model = view, model

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self._view.indexAt(event.pos())
            hit = self._model.hit(index.row()) if index.isValid() else None
            if hit is not None and hit.inliers is not None:
                QToolTip.showText(event.globalPos(), hit_tooltip(hit), self._view)
                return True
        return False


class InspectTools(QObject):
    """The precise-search switch, Show matches… and Tools → Compare methods…; `shutdown`
    waits for every job they started."""

    rerun = Signal()  # the precise switch changed: search for the current query again
    message = Signal(str)

    def __init__(
        self, *, settings: QSettings, history: QueryHistory, data_dir: Path | None,
        chrome: Chrome, results: ResultActions, view: QListView, model: ResultsModel,
        preview: PreviewPane, parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._settings, self._history, self._data_dir = settings, history, data_dir
        self._preview, self._parent = preview, parent
        self.match_dialog: MatchDialog | None = None
        self.compare_dialog: CompareMethodsDialog | None = None
        self.precise = QAction("Precise search", self)
        self.precise.setCheckable(True)
        self.precise.setToolTip("Also find rotated, mirrored and cropped copies: query variants, "
                                "then keypoint verification (slower)")
        self.precise.setChecked(str(settings.value(PRECISE_KEY, "false")) == "true")
        self.precise.toggled.connect(self._on_precise)
        chrome.toolbar.addSeparator()
        chrome.toolbar.addAction(self.precise)
        chrome.photo_menu.addAction(results.actions["matches"])
        results.show_matches.connect(self.show_matches)
        preview.keypoints.matches_clicked.connect(self._preview_matches)
        chrome.tools_menu.addAction(self.precise)
        compare = QAction("Compare methods…", self)
        compare.triggered.connect(self.show_compare)
        chrome.tools_menu.addAction(compare)
        self._tooltips = _HitToolTips(view, model)
        view.viewport().installEventFilter(self._tooltips)

    @Slot(bool)
    def _on_precise(self, on: bool) -> None:
        self._settings.setValue(PRECISE_KEY, "true" if on else "false")
        if self._history.current is not None:
            self.rerun.emit()

    @Slot()
    def _preview_matches(self) -> None:
        record = self._preview.record
        if record is not None:
            self.open_matches(Path(record.path))

    @Slot(object)
    def show_matches(self, hit: SearchHit) -> None:
        self.open_matches(Path(hit.path))

    def open_matches(self, target: Path) -> MatchDialog | None:
        query = self._history.current
        source: QuerySource | None = None
        if query is not None:
            source = query.path if query.path is not None else query.data
        if source is None or query is None:
            self.message.emit("Search for a photo first: matches are drawn between the "
                              "query and a result")
            return None
        if self.match_dialog is not None:
            self.match_dialog.close()
            self.match_dialog.shutdown()
            self.match_dialog.deleteLater()
        dialog = MatchDialog(query.label, source, target, self._preview.keypoints.kind_name(),
                             self._parent)
        self.match_dialog = dialog
        dialog.show()
        return dialog

    def show_compare(self) -> CompareMethodsDialog:
        if self.compare_dialog is None:
            self.compare_dialog = CompareMethodsDialog(self._data_dir, self._parent)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        return self.compare_dialog

    def shutdown(self) -> None:
        self._preview.keypoints.shutdown()
        for dialog in (self.match_dialog, self.compare_dialog):
            if dialog is not None:
                dialog.shutdown()
