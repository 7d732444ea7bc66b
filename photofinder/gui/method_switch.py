"""Background method switching, the precise-search switch, match and compare-methods tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import QMenu, QToolBar, QToolTip

from photofinder.core.errors import PhotoFinderError
from photofinder.core.names import shown
from photofinder.core.pipeline import IndexReport
from photofinder.core.progress import Progress
from photofinder.core.search import SearchHit
from photofinder.gui import layout
from photofinder.gui.compare_methods_dialog import CompareMethodsDialog
from photofinder.gui.match_dialog import MatchDialog, QuerySource
from photofinder.gui.session import Session
from photofinder.gui.status_panel import format_report

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow

PRECISE_KEY = "search/precise"


def inliers_of(hit: SearchHit) -> int | None:
    """Keypoint inliers of a precise-search hit (None when it was not verified)."""
    value = getattr(hit, "inliers", None)
    return value if isinstance(value, int) else None


def hit_tooltip(hit: SearchHit) -> str:
    text = f"{shown(hit.path)}\nsimilarity {hit.score:.3f}"
    inliers = inliers_of(hit)
    if inliers is not None:
        from photofinder.core.verify import MIN_INLIERS

        verdict = "verified near-duplicate" if inliers >= MIN_INLIERS else "not verified"
        text += f"\n{inliers} keypoint inliers: {verdict}"
    return text


def verified_note(hits: Sequence[SearchHit]) -> str:
    """", 2 verified near-duplicates first" after a precise search ("" otherwise)."""
    from photofinder.core.verify import MIN_INLIERS

    counts = [inliers_of(h) for h in hits]
    if all(c is None for c in counts):
        return ""
    verified = sum(1 for c in counts if c is not None and c >= MIN_INLIERS)
    return f", {verified} verified near-duplicate{'s' if verified != 1 else ''} first"


class MethodSwitch(QObject):
    """A new method indexes in a second session while the current one keeps answering
    searches; when its update ends the window adopts it (and re-runs the current query)."""

    switched = Signal(str)  # the method now in use

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.pending: Session | None = None
        window.indexing.cancel_clicked.connect(self.cancel)
        window.method_combo.activated.connect(self._on_combo)

    @Slot()
    def _on_combo(self) -> None:
        """Choosing the method in use again abandons a pending switch."""
        window = self._window
        if self.pending and window.method_combo.value() == window.session.library.info.name:
            self.cancel()

    def request(self, method: str, device: str) -> bool:
        """Start switching to `method` in the background; False when it is the current one
        (a device change alone is the caller's: it reopens at once)."""
        window = self._window
        self.cancel()
        current = window.session.library.info.name
        if method == current:
            return False
        try:
            session = Session(window._data_dir, method, device, window._debounce, window)
        except PhotoFinderError as exc:
            window.show_error(f"Cannot switch to {method}: {exc}")
            self._select(current)
            return True
        self.pending = session
        session.indexer.progress.connect(self._on_progress)
        session.indexer.finished.connect(self._on_finished)
        session.indexer.failed.connect(self._on_failed)
        window.indexing.set_running(True)
        window.show_message(f"Indexing with {method}; searches use {current} until it is ready")
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
        window = self._window
        window.indexing.set_running(window.session.indexer.running)
        self._select(window.session.library.info.name)

    def _select(self, method: str) -> None:
        combo = self._window.method_combo
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
            indexing = self._window.indexing
            indexing.show_progress(progress)
            name = self.pending.library.info.name
            indexing.label.setText(f"Switching to {name} · {indexing.label.text()}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.pending is not None:
            name = self.pending.library.info.name
            self.cancel()
            self._window.show_error(f"Switching to {name} failed: {message}")

    @Slot(object)
    def _on_finished(self, report: IndexReport) -> None:
        session = self.pending
        if session is None:
            return
        if report.cancelled:
            self.cancel()
            self._window.show_message("Method switch cancelled")
            return
        self.pending = None
        session.indexer.progress.disconnect(self._on_progress)
        session.indexer.finished.disconnect(self._on_finished)
        session.indexer.failed.disconnect(self._on_failed)
        window = self._window
        old, window.session = window.session, session
        old.shutdown()
        old.deleteLater()
        window.settings.setValue("method", session.library.info.name)
        window.settings.setValue("device", session.library.device)
        layout.connect_session(window)
        window.indexing.set_running(session.indexer.running)
        window.indexing.label.setText(format_report(report))
        session.restart_watching()
        if window.current_query is not None:
            window.run_query(window.current_query, record=False)
        else:
            window.refresh_browse()
        self._select(session.library.info.name)
        self.switched.emit(session.library.info.name)


class _HitToolTips(QObject):
    """Result tooltips that include a precise search's keypoint inliers."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            window = self._window
            index = window.view.indexAt(event.pos())
            hit = window.model.hit(index.row()) if index.isValid() else None
            if hit is not None and inliers_of(hit) is not None:
                QToolTip.showText(event.globalPos(), hit_tooltip(hit), window.view)
                return True
        return False


def _menu(window: MainWindow, title: str) -> QMenu:
    """The menu bar's menu called `title` (created at the end when missing)."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == title:
            return menu
    return window.menuBar().addMenu(f"&{title}")


class InspectTools(QObject):
    """Installs the precise-search switch, Show matches…, Tools → Compare methods…, and owns
    the method switch; `shutdown` waits for every worker they started."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.switch = MethodSwitch(window)
        self.match_dialog: MatchDialog | None = None
        self.compare_dialog: CompareMethodsDialog | None = None
        self.precise = QAction("Precise search", window)
        self.precise.setCheckable(True)
        self.precise.setToolTip("Also find rotated, mirrored and cropped copies: query variants, "
                                "then keypoint verification (slower)")
        self.precise.setChecked(str(window.settings.value(PRECISE_KEY, "false")) == "true")
        self.precise.toggled.connect(self._on_precise)
        toolbar = window.findChild(QToolBar, "main-toolbar")
        if isinstance(toolbar, QToolBar):
            toolbar.addSeparator()
            toolbar.addAction(self.precise)
        actions = window.result_actions
        _menu(window, "Photo").addAction(actions.actions["matches"])
        actions.show_matches.connect(self.show_matches)
        window.preview.keypoints.matches_clicked.connect(self._preview_matches)
        tools = _menu(window, "Tools")
        tools.addAction(self.precise)
        compare = QAction("Compare methods…", window)
        compare.triggered.connect(self.show_compare)
        tools.addAction(compare)
        self._tooltips = _HitToolTips(window)
        window.view.viewport().installEventFilter(self._tooltips)

    @Slot(bool)
    def _on_precise(self, on: bool) -> None:
        window = self._window
        window.settings.setValue(PRECISE_KEY, "true" if on else "false")
        if window.current_query is not None:
            window.run_query(window.current_query, record=False)

    def _query_source(self) -> QuerySource | None:
        query = self._window.current_query
        if query is None:
            return None
        return query.path if query.path is not None else query.data

    @Slot()
    def _preview_matches(self) -> None:
        record = self._window.preview.record
        if record is not None:
            self.open_matches(Path(record.path))

    @Slot(object)
    def show_matches(self, hit: SearchHit) -> None:
        self.open_matches(Path(hit.path))

    def open_matches(self, target: Path) -> MatchDialog | None:
        window = self._window
        source, query = self._query_source(), window.current_query
        if source is None or query is None:
            window.show_message("Search for a photo first: matches are drawn between the "
                                "query and a result")
            return None
        if self.match_dialog is not None:
            self.match_dialog.close()
            self.match_dialog.shutdown()
            self.match_dialog.deleteLater()
        dialog = MatchDialog(query.label, source, target, window.preview.keypoints.kind_name(),
                             window)
        self.match_dialog = dialog
        dialog.show()
        return dialog

    def show_compare(self) -> CompareMethodsDialog:
        if self.compare_dialog is None:
            self.compare_dialog = CompareMethodsDialog(self._window._data_dir, self._window)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        return self.compare_dialog

    def shutdown(self) -> None:
        self.switch.cancel()
        self._window.preview.keypoints.shutdown()
        for dialog in (self.match_dialog, self.compare_dialog):
            if dialog is not None:
                dialog.shutdown()
