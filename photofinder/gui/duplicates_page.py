"""The Duplicates view as a page of the main window: View → Duplicates (Ctrl+D), toolbar toggle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from photofinder.gui.duplicates_actions import DuplicatesActions
from photofinder.gui.duplicates_view import DuplicatesView

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow


class DuplicatesPage(QObject):
    """Adds the view to the window's pages and the toggle to its View menu and toolbar."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.view = DuplicatesView(lambda: window.session)
        self.actions = DuplicatesActions(self.view)
        window.pages.addWidget(self.view)
        self.action = QAction("&Duplicates", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+D"))
        self.action.setToolTip("Review duplicate photos and clean up (Ctrl+D)")
        self.action.toggled.connect(self.show_view)
        window.pages.currentChanged.connect(self._page_changed)
        self._view_menu().addAction(self.action)
        toolbar = window.findChild(QToolBar, "main-toolbar")
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.action)
        self.view.message.connect(window.show_message)
        self.view.error.connect(window.show_error)
        self.actions.trashed.connect(self._forget)

    def _view_menu(self) -> QMenu:
        bar = self.window.menuBar()
        for action in bar.actions():
            menu = action.menu()
            if isinstance(menu, QMenu) and action.text().replace("&", "") == "View":
                return menu
        return bar.addMenu("&View")

    def show_view(self, on: bool) -> None:
        """Switch to the Duplicates view (finding groups on first show) or back."""
        pages = self.window.pages
        if on and pages.currentWidget() is not self.view:
            pages.setCurrentWidget(self.view)
            self.view.ensure_loaded()
        elif not on and pages.currentWidget() is self.view:
            self.window._show_page()

    def _page_changed(self, _index: int) -> None:
        self.action.setChecked(self.window.pages.currentWidget() is self.view)

    def _forget(self, ids: set[int]) -> None:
        for file_id in ids:
            self.window.model.remove_file(file_id)

    def shutdown(self) -> None:
        if self.actions.compare_dialog is not None:
            self.actions.compare_dialog.close()
        self.view.shutdown()
