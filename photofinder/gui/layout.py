"""The main page's widgets, built for the window that owns them: results grid, browser split."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QSlider, QSplitter, QWidget

from photofinder.gui.results_model import ResultsModel
from photofinder.gui.thumbnail_delegate import ThumbnailDelegate

SPLITTER_SIZES = [220, 640, 320]  # query | results | preview, before the user resizes them
THUMBNAIL_SIDES = (64, 320)  # the size slider's range, in pixels
DEFAULT_THUMBNAIL = 160


def results_view(model: ResultsModel, delegate: ThumbnailDelegate) -> QListView:
    """The results grid: icons, one selected at a time."""
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setSelectionMode(QListView.SelectionMode.SingleSelection)
    view.setModel(model)
    view.setItemDelegate(delegate)
    return view


def browser(query: QWidget, results: QWidget, preview: QWidget) -> QSplitter:
    """Query | results | preview, the results taking the extra width."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    for widget, stretch in ((query, 0), (results, 1), (preview, 0)):
        splitter.addWidget(widget)
        splitter.setStretchFactor(splitter.count() - 1, stretch)
    splitter.setSizes(SPLITTER_SIZES)
    return splitter


def size_slider() -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(*THUMBNAIL_SIDES)
    slider.setMaximumWidth(160)
    slider.setToolTip("Thumbnail size")
    return slider
