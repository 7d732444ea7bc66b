"""The main window: welcome page or query | results grid | preview, with indexing status."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QListView,
    QMainWindow,
    QMessageBox,
    QSlider,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from photofinder.core.embedders import DEFAULT_METHOD
from photofinder.core.errors import PhotoFinderError
from photofinder.core.names import shown_name
from photofinder.core.pipeline import IndexReport
from photofinder.core.progress import Progress
from photofinder.core.search import SearchHit
from photofinder.core.watcher import DEFAULT_DEBOUNCE_S
from photofinder.gui import chrome, layout
from photofinder.gui.controls import DeviceCombo, MethodCombo
from photofinder.gui.drop import DropError, accepts, query_from_mime, query_from_path
from photofinder.gui.duplicates_page import DuplicatesPage
from photofinder.gui.folders_dialog import FoldersDialog
from photofinder.gui.method_switch import InspectTools, verified_note
from photofinder.gui.preview import PreviewPane, QueryPanel
from photofinder.gui.result_actions import ResultActions
from photofinder.gui.results_model import ResultsModel
from photofinder.gui.search_worker import Query
from photofinder.gui.session import Session
from photofinder.gui.status_panel import IndexingPanel, format_report
from photofinder.gui.thumbnail_delegate import ThumbnailDelegate
from photofinder.gui.welcome import WelcomePage


class MainWindow(QMainWindow):
    # built by layout.build_widgets
    welcome: WelcomePage
    model: ResultsModel
    delegate: ThumbnailDelegate
    view: QListView
    result_actions: ResultActions
    query_panel: QueryPanel
    preview: PreviewPane
    splitter: QSplitter
    pages: QStackedWidget
    method_combo: MethodCombo
    device_combo: DeviceCombo
    size_slider: QSlider
    indexing: IndexingPanel

    def __init__(
        self,
        data_dir: Path | None = None,
        settings: QSettings | None = None,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self._data_dir = data_dir
        self._debounce = debounce_s
        self.setWindowTitle("PhotoFinder")
        self.setWindowIcon(chrome.app_icon())
        self.setAcceptDrops(True)
        method = str(self.settings.value("method", DEFAULT_METHOD))
        device = str(self.settings.value("device", "auto"))
        self.session = self._open_session(method, device)
        self.history: list[Query] = []
        self.history_pos = -1
        self.current_query: Query | None = None
        self.last_error = ""
        self.pending_query: Path | None = None
        self.back_action: QAction
        self.forward_action: QAction
        layout.build_widgets(self, method, device)
        chrome.build_menus(self)
        self.duplicates = DuplicatesPage(self)
        self.tools = InspectTools(self)
        chrome.restore_settings(self)
        layout.connect_session(self)
        self._show_page()
        QTimer.singleShot(0, self._after_show)

    # --- construction --------------------------------------------------------------------------
    def _open_session(self, method: str, device: str) -> Session:
        try:
            return Session(self._data_dir, method, device, self._debounce, self)
        except PhotoFinderError:
            return Session(self._data_dir, DEFAULT_METHOD, "auto", self._debounce, self)

    def _after_show(self) -> None:
        """Deferred so the window is on screen first: reconcile folders, start watching."""
        self.session.search.probe_devices()
        if not self.session.library.roots():
            return
        if not self.session.indexer.running:
            self.session.indexer.start()
        self.session.restart_watching()
        self.refresh_browse()
        pending, self.pending_query = self.pending_query, None
        if pending is not None:
            with suppress(DropError):  # the last query's photo has gone: start without it
                self.run_query(query_from_path(pending))

    # --- folders and indexing ------------------------------------------------------------------
    def ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> None:
        self.session.library.add_roots([folder])
        self.folders_changed()

    def show_folders(self) -> None:
        dialog = FoldersDialog(self.session.library, self)
        dialog.changed.connect(self.folders_changed)
        dialog.exec()
        dialog.deleteLater()

    def folders_changed(self) -> None:
        self._show_page()
        self.session.restart_watching()
        self.session.indexer.start()

    def _show_page(self) -> None:
        has_roots = bool(self.session.library.roots())
        self.pages.setCurrentWidget(self.splitter if has_roots else self.welcome)

    @Slot(object)
    def on_progress(self, progress: Progress) -> None:
        self.indexing.show_progress(progress)
        if self.current_query is None and progress.stage == "indexing":
            self._browse_timer_tick()

    def _browse_timer_tick(self) -> None:
        if not hasattr(self, "_browse_timer"):
            self._browse_timer = QTimer(self)
            self._browse_timer.setSingleShot(True)
            self._browse_timer.setInterval(1000)
            self._browse_timer.timeout.connect(self.refresh_browse)
        if not self._browse_timer.isActive():
            self._browse_timer.start()

    def refresh_browse(self) -> None:
        """Before any query the grid shows the indexed photos, growing as indexing goes."""
        if self.current_query is None:
            self.session.images.request_library()

    @Slot(object)
    def on_listed(self, hits: list[SearchHit]) -> None:
        if self.current_query is None:
            self.model.extend_or_set(hits)

    @Slot(object)
    def on_index_finished(self, report: IndexReport) -> None:
        self.indexing.label.setText(format_report(report))
        if hasattr(self, "_browse_timer"):
            self._browse_timer.stop()
        self.refresh_browse()

    # --- queries -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if accepts(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        self.query_mime(event.mimeData())

    def query_mime(self, mime: object) -> None:
        try:
            query = query_from_mime(mime)  # type: ignore[arg-type]
        except DropError as exc:
            self.show_error(str(exc))
            return
        self.run_query(query)

    def paste(self) -> None:
        self.query_mime(QGuiApplication.clipboard().mimeData())

    def find_similar(self, hit: SearchHit) -> None:
        self.run_query(Query(label=shown_name(hit.path), path=Path(hit.path), file_id=hit.file_id))

    def run_query(self, query: Query, record: bool = True) -> None:
        if record:
            del self.history[self.history_pos + 1 :]
            self.history.append(query)
            self.history_pos = len(self.history) - 1
        chrome.update_history_actions(self)
        self.current_query = query
        self.pages.setCurrentWidget(self.splitter)
        image = QImage.fromData(query.data) if query.data else None
        self.query_panel.show_query(query.label, image)
        if query.path is not None:
            self.session.images.request_image("query", str(query.path), 640)
        self.show_message(f"Searching for photos like {query.label}…", busy=True)
        self.session.search.submit(replace(query, verify=self.tools.precise.isChecked()))

    @Slot(str)
    def on_busy(self, message: str) -> None:
        self.show_message(message, busy=True)

    @Slot(object, object)
    def on_results(self, query: Query, hits: list[SearchHit]) -> None:
        self.model.set_hits(hits)
        self.show_message(f"{len(hits)} photos like {query.label}{verified_note(hits)}")
        if hits:
            self.view.setCurrentIndex(self.model.index(0))
            self.view.scrollToTop()

    @Slot(object, str)
    def on_search_error(self, _query: Query, message: str) -> None:
        self.show_error(message)

    # --- preview -------------------------------------------------------------------------------
    def preview_row(self, row: int | None) -> None:
        hit = self.model.hit(row) if row is not None else None
        record = self.session.library.catalog.file_by_id(hit.file_id) if hit else None
        self.preview.show_record(record, self.model.cache.get(hit.file_id) if hit else None)
        if record is not None:
            self.session.images.request_image("preview", record.path)

    @Slot(str, object, object)
    def on_image(self, tag: str, path: str, image: QImage) -> None:
        if tag == "preview":
            self.preview.show_image(path, image)
        elif tag == "query" and self.current_query and str(self.current_query.path) == path:
            self.query_panel.view.set_image(image)

    def request_thumbnail(self, file_id: int) -> None:
        self.session.images.request_thumbnail(file_id)

    def set_thumbnail_size(self, side: int) -> None:
        self.delegate.set_side(side)
        self.view.setGridSize(self.delegate.cell_size(self.view.fontMetrics()))
        self.model.layoutChanged.emit()

    # --- messages, settings, closing -----------------------------------------------------------
    def show_message(self, text: str, busy: bool = False) -> None:
        if QGuiApplication.overrideCursor():
            QGuiApplication.restoreOverrideCursor()
        if busy:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self.statusBar().showMessage(text, 0 if busy else 8000)

    def show_error(self, text: str) -> None:
        """Status bar and a non-modal message box (never blocks the event loop)."""
        self.show_message(text)
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, "PhotoFinder", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    def reopen(self, method: str, device: str) -> None:
        """Switch method (indexed in the background: method_switch) or device (at once)."""
        if self.tools.switch.request(method, device):
            return
        self.session.shutdown()
        self.session.deleteLater()
        self.session = self._open_session(method, device)
        self.settings.setValue("method", method)
        self.settings.setValue("device", device)
        self.model.set_hits([])
        self.model.cache.clear()
        layout.connect_session(self)
        self.current_query = None
        self._after_show()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        chrome.save_settings(self)
        if QGuiApplication.overrideCursor():
            QGuiApplication.restoreOverrideCursor()
        self.duplicates.shutdown()
        self.tools.shutdown()
        self.session.shutdown()
        event.accept()
