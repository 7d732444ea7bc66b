"""The main window's widgets: welcome page, query | results grid | preview, toolbar controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QSlider, QSplitter, QStackedWidget

from photofinder.gui import chrome
from photofinder.gui.controls import DeviceCombo, MethodCombo
from photofinder.gui.preview import PreviewPane, QueryPanel
from photofinder.gui.result_actions import ResultActions
from photofinder.gui.results_model import ResultsModel
from photofinder.gui.status_panel import IndexingPanel
from photofinder.gui.thumbnail_delegate import ThumbnailDelegate
from photofinder.gui.welcome import WelcomePage

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow


def build_widgets(window: MainWindow, method: str, device: str) -> None:
    window.welcome = WelcomePage(chrome.app_icon())
    window.welcome.add_folder_clicked.connect(window.ask_add_folder)
    window.model = ResultsModel(window.request_thumbnail)
    window.delegate = ThumbnailDelegate(window)
    window.view = QListView()
    window.view.setViewMode(QListView.ViewMode.IconMode)
    window.view.setResizeMode(QListView.ResizeMode.Adjust)
    window.view.setMovement(QListView.Movement.Static)
    window.view.setUniformItemSizes(True)
    window.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
    window.view.setModel(window.model)
    window.view.setItemDelegate(window.delegate)
    window.view.selectionModel().currentChanged.connect(
        lambda current, _: window.preview_row(current.row())
    )
    actions = ResultActions(window.view, window.model, lambda: window.session, window)
    window.result_actions = actions
    window.view.doubleClicked.connect(lambda _: actions.do_open())
    actions.find_similar.connect(window.find_similar)
    actions.preview.connect(lambda hit: window.preview_row(window.model.row_of(hit.file_id)))
    actions.message.connect(window.show_message)
    window.query_panel = QueryPanel()
    window.preview = PreviewPane()
    window.splitter = QSplitter(Qt.Orientation.Horizontal)
    for widget, stretch in ((window.query_panel, 0), (window.view, 1), (window.preview, 0)):
        window.splitter.addWidget(widget)
        window.splitter.setStretchFactor(window.splitter.count() - 1, stretch)
    window.splitter.setSizes([220, 640, 320])
    window.pages = QStackedWidget()
    window.pages.addWidget(window.welcome)
    window.pages.addWidget(window.splitter)
    window.setCentralWidget(window.pages)
    window.method_combo = MethodCombo(method)
    window.device_combo = DeviceCombo(device)
    window.size_slider = QSlider(Qt.Orientation.Horizontal)
    window.size_slider.setRange(64, 320)
    window.size_slider.setMaximumWidth(160)
    window.size_slider.setToolTip("Thumbnail size")
    window.size_slider.valueChanged.connect(window.set_thumbnail_size)
    window.indexing = IndexingPanel()
    window.statusBar().addWidget(window.indexing, 1)



def connect_session(window: MainWindow) -> None:
    """Wire a (new) session's workers to the window."""
    session = window.session
    session.indexer.progress.connect(window.on_progress)
    session.indexer.finished.connect(window.on_index_finished)
    session.indexer.failed.connect(window.show_error)
    session.indexer.running_changed.connect(window.indexing.set_running)
    session.search.results.connect(window.on_results)
    session.search.error.connect(window.on_search_error)
    session.search.busy.connect(window.on_busy)
    session.search.devices.connect(window.device_combo.apply_statuses)
    session.search.methods.connect(window.method_combo.apply_methods)
    window.method_combo.wanted.connect(session.search.request_methods)
    session.images.thumbnails.connect(window.model.thumbnails_loaded)
    session.images.image.connect(window.on_image)
    session.images.listed.connect(window.on_listed)
    window.indexing.pause_clicked.connect(session.indexer.pause)
    window.indexing.resume_clicked.connect(session.indexer.resume)
    window.indexing.cancel_clicked.connect(session.indexer.cancel)
