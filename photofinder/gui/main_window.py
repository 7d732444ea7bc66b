"""The main window: welcome page or query | results grid | preview, with indexing status.
It builds and owns its widgets; pages and tools get what they need from it explicitly."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QStackedWidget, QWidget

from photofinder.core.embedders import DEFAULT_METHOD
from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.indexing.watcher import DEFAULT_DEBOUNCE_S
from photofinder.core.names import shown_name
from photofinder.core.progress import Progress
from photofinder.core.search.knn import SearchHit
from photofinder.gui import chrome, layout
from photofinder.gui.controls import DeviceCombo, MethodCombo
from photofinder.gui.drop import DropError, accepts, query_from_mime, query_from_path
from photofinder.gui.duplicates_page import DuplicatesPage
from photofinder.gui.folders_dialog import FoldersDialog
from photofinder.gui.method_switch import InspectTools, MethodSwitch, verified_note
from photofinder.gui.preview import PreviewPane, QueryPanel
from photofinder.gui.query import Query, QueryHistory
from photofinder.gui.result_actions import ResultActions
from photofinder.gui.results_model import ResultsModel
from photofinder.gui.session import Session, SessionHolder
from photofinder.gui.status_panel import IndexingPanel, format_report
from photofinder.gui.thumbnail_delegate import ThumbnailDelegate
from photofinder.gui.welcome import WelcomePage

QUERY_IMAGE_SIDE = 640  # the query panel shows it small: sharp there, quick to decode
BROWSE_REFRESH_MS = 1000  # while indexing, the browse grid grows at most once a second
PHOTO_FILTER = ("Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.bmp *.gif);;"
                "All files (*)")


def _bytes(value: object) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


class MainWindow(QMainWindow):
    def __init__(
        self,
        data_dir: Path | None = None,
        settings: QSettings | None = None,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("PhotoFinder")
        self.setWindowIcon(chrome.app_icon())
        self.setAcceptDrops(True)
        method = str(self.settings.value("method", DEFAULT_METHOD))
        device = str(self.settings.value("device", "auto"))
        self.sessions = SessionHolder(data_dir, method, device, debounce_s, self)
        self.history = QueryHistory(self)
        self.last_error = ""
        self._pending_query: Path | None = None
        self._browse_timer = QTimer(self)
        self._browse_timer.setSingleShot(True)
        self._browse_timer.setInterval(BROWSE_REFRESH_MS)
        self._browse_timer.timeout.connect(self.refresh_browse)
        self._build_browser()
        self._build_controls(method, device)
        self._build_chrome()
        self._build_tools()
        self._restore_settings()
        self.sessions.session_changed.connect(self._on_session_changed)
        self._connect_session(self.session)
        self._show_page()
        QTimer.singleShot(0, self._after_show)

    # --- construction --------------------------------------------------------------------------
    def _build_browser(self) -> None:
        """Welcome page, and the main page: query | results grid | preview."""
        self.welcome = WelcomePage(chrome.app_icon())
        self.welcome.add_folder_clicked.connect(self.ask_add_folder)
        self.model = ResultsModel(self.request_thumbnail)
        self.delegate = ThumbnailDelegate(self)
        self.view = layout.results_view(self.model, self.delegate)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _: self.preview_row(current.row()))
        self.result_actions = ResultActions(self.view, self.model, lambda: self.session, self)
        self.view.doubleClicked.connect(lambda _: self.result_actions.do_open())
        self.result_actions.find_similar.connect(self.find_similar)
        self.result_actions.preview.connect(
            lambda hit: self.preview_row(self.model.row_of(hit.file_id)))
        self.result_actions.message.connect(self.show_message)
        self.query_panel = QueryPanel()
        self.preview = PreviewPane()
        self.splitter = layout.browser(self.query_panel, self.view, self.preview)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.splitter)
        self.setCentralWidget(self.pages)

    def _build_controls(self, method: str, device: str) -> None:
        """Method and device choosers, thumbnail size, the indexing panel."""
        self.method_combo = MethodCombo(method)
        self.device_combo = DeviceCombo(device)
        self.method_combo.activated.connect(self._runtime_chosen)
        self.device_combo.activated.connect(self._runtime_chosen)
        self.size_slider = layout.size_slider()
        self.size_slider.valueChanged.connect(self.set_thumbnail_size)
        self.indexing = IndexingPanel()
        self.statusBar().addWidget(self.indexing, 1)

    def _build_chrome(self) -> None:
        commands = chrome.Commands(
            open_photo=self.ask_open_photo, paste=self.paste, add_folder=self.ask_add_folder,
            show_folders=self.show_folders, quit=self.close,
            back=lambda: self.go(-1), forward=lambda: self.go(1),
        )
        controls: list[list[tuple[str, QWidget]]] = [
            [("Method", self.method_combo), ("Device", self.device_combo)],
            [("Size", self.size_slider)],
        ]
        self.chrome = chrome.build_chrome(self, commands, self.result_actions.actions, controls)
        self.back_action, self.forward_action = self.chrome.back, self.chrome.forward
        self.history.changed.connect(self._update_history_actions)
        self._update_history_actions()

    def _build_tools(self) -> None:
        """The Duplicates page, method switching, the inspection tools."""
        self.duplicates = DuplicatesPage(self.sessions, self.pages, self.chrome.view_menu,
                                         self.chrome.toolbar, self)
        self.duplicates.closed.connect(self._show_page)
        self.duplicates.view.message.connect(self.show_message)
        self.duplicates.view.error.connect(self.show_error)
        self.duplicates.actions.trashed.connect(self._forget_files)
        self.switch = MethodSwitch(self.sessions, self.indexing, self.method_combo, self)
        self.switch.switched.connect(self._on_switched)
        self.switch.message.connect(self.show_message)
        self.switch.error.connect(self.show_error)
        self.tools = InspectTools(
            settings=self.settings, history=self.history, data_dir=self.sessions.data_dir,
            chrome=self.chrome, results=self.result_actions, view=self.view, model=self.model,
            preview=self.preview, parent=self,
        )
        self.tools.rerun.connect(self._rerun_query)
        self.tools.message.connect(self.show_message)

    @property
    def session(self) -> Session:
        return self.sessions.session

    @property
    def current_query(self) -> Query | None:
        return self.history.current

    def _connect_session(self, session: Session) -> None:
        """Wire a (new) session's workers to the window."""
        session.indexer.progress.connect(self.on_progress)
        session.indexer.finished.connect(self.on_index_finished)
        session.indexer.failed.connect(self.show_error)
        session.indexer.running_changed.connect(self.indexing.set_running)
        session.search.results.connect(self.on_results)
        session.search.error.connect(self.on_search_error)
        session.search.busy.connect(self.on_busy)
        session.search.devices.connect(self.device_combo.apply_statuses)
        session.search.methods.connect(self.method_combo.apply_methods)
        self.method_combo.wanted.connect(session.search.request_methods)
        session.images.thumbnails.connect(self.model.thumbnails_loaded)
        session.images.image.connect(self.on_image)
        session.images.listed.connect(self.on_listed)
        self.indexing.pause_clicked.connect(session.indexer.pause)
        self.indexing.resume_clicked.connect(session.indexer.resume)
        self.indexing.cancel_clicked.connect(session.indexer.cancel)

    def _on_session_changed(self, session: Session) -> None:
        """The old session's connections go with it (it is deleted); wire the new one."""
        self._connect_session(session)
        self.settings.setValue("method", session.library.info.name)
        self.settings.setValue("device", session.library.device)

    def _after_show(self) -> None:
        """Deferred so the window is on screen first: reconcile folders, start watching."""
        self.session.search.probe_devices()
        if not self.session.library.roots():
            return
        if not self.session.indexer.running:
            self.session.indexer.start()
        self.session.restart_watching()
        self.refresh_browse()
        pending, self._pending_query = self._pending_query, None
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
        """The main page once there are folders, the welcome page before."""
        has_roots = bool(self.session.library.roots())
        self.pages.setCurrentWidget(self.splitter if has_roots else self.welcome)

    @Slot(object)
    def on_progress(self, progress: Progress) -> None:
        self.indexing.show_progress(progress)
        indexing = self.current_query is None and progress.stage == "indexing"
        if indexing and not self._browse_timer.isActive():
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
        self._browse_timer.stop()
        self.refresh_browse()

    def _forget_files(self, ids: set[int]) -> None:
        for file_id in ids:
            self.model.remove_file(file_id)

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

    def ask_open_photo(self) -> None:
        """File → Open: search by a photo chosen in a file dialog."""
        name, _ = QFileDialog.getOpenFileName(self, "Find photos like…", "", PHOTO_FILTER)
        if name:
            try:
                self.run_query(query_from_path(Path(name)))
            except DropError as exc:
                self.show_error(str(exc))

    def find_similar(self, hit: SearchHit) -> None:
        self.run_query(Query(label=shown_name(hit.path), path=Path(hit.path), file_id=hit.file_id))

    def go(self, step: int) -> None:
        """Back (-1) or forward (+1) through the queries."""
        query = self.history.step(step)
        if query is not None:
            self.run_query(query, record=False)

    def _update_history_actions(self) -> None:
        self.back_action.setEnabled(self.history.can_go_back)
        self.forward_action.setEnabled(self.history.can_go_forward)

    def run_query(self, query: Query, record: bool = True) -> None:
        if record:
            self.history.record(query)
        self.history.current = query
        self.pages.setCurrentWidget(self.splitter)
        image = QImage.fromData(query.data) if query.data else None
        self.query_panel.show_query(query.label, image)
        if query.path is not None:
            self.session.images.request_image("query", str(query.path), QUERY_IMAGE_SIDE)
        self.show_message(f"Searching for photos like {query.label}…", busy=True)
        self.session.search.submit(replace(query, verify=self.tools.precise.isChecked()))

    def _rerun_query(self) -> None:
        if self.current_query is not None:
            self.run_query(self.current_query, record=False)

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

    # --- messages ------------------------------------------------------------------------------
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

    # --- method and device ---------------------------------------------------------------------
    def _runtime_chosen(self) -> None:
        """The user picked a method or device: switch to it, or (the one in use picked
        again) abandon a pending switch."""
        method, device = self.method_combo.value(), self.device_combo.value()
        library = self.session.library
        if (method, device) == (library.info.name, library.device):
            self.switch.cancel()
        else:
            self.reopen(method, device)

    def reopen(self, method: str, device: str) -> None:
        """Switch method (indexed in the background: MethodSwitch) or device (at once)."""
        if self.switch.request(method, device):
            return
        self.sessions.adopt(self.sessions.open_or_default(method, device))
        self.model.set_hits([])
        self.model.cache.clear()
        self.history.current = None
        self._after_show()

    def _on_switched(self, _method: str) -> None:
        """The new method's index is ready: its answer to the current query, or its photos."""
        if self.current_query is not None:
            self.run_query(self.current_query, record=False)
        else:
            self.refresh_browse()

    # --- settings and closing ------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = self.settings
        geometry = _bytes(settings.value("window/geometry"))
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        state = _bytes(settings.value("window/state"))
        if state is not None:
            self.restoreState(state)
        splitter = _bytes(settings.value("window/splitter"))
        if splitter is not None:
            self.splitter.restoreState(splitter)
        try:
            side = int(str(settings.value("view/thumbnail_size", layout.DEFAULT_THUMBNAIL)))
        except ValueError:
            side = layout.DEFAULT_THUMBNAIL
        self.size_slider.setValue(side)
        self.set_thumbnail_size(self.size_slider.value())
        last = settings.value("view/last_query")
        if isinstance(last, str) and last and Path(last).is_file():
            self._pending_query = Path(last)

    def _save_settings(self) -> None:
        settings = self.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("view/thumbnail_size", self.size_slider.value())
        query = self.current_query
        settings.setValue("view/last_query", str(query.path) if query and query.path else "")
        settings.setValue("method", self.session.library.info.name)
        settings.setValue("device", self.session.library.device)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._save_settings()
        if QGuiApplication.overrideCursor():
            QGuiApplication.restoreOverrideCursor()
        self._browse_timer.stop()
        self.duplicates.shutdown()
        self.tools.shutdown()
        self.switch.cancel()
        self.sessions.shutdown()
        event.accept()
