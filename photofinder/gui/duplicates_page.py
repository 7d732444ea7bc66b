"""The Duplicates view as a page of the main window: View → Duplicates (Ctrl+D), toolbar toggle."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStackedWidget, QToolBar

from photofinder.gui.duplicates_actions import DuplicatesActions
from photofinder.gui.duplicates_view import DuplicatesView
from photofinder.gui.session import SessionHolder


class DuplicatesPage(QObject):
    """Adds the view to `pages` and its toggle to the View menu and the toolbar."""

    closed = Signal()  # the user switched the page off: the owner shows its main page

    def __init__(
        self, sessions: SessionHolder, pages: QStackedWidget, view_menu: QMenu,
        toolbar: QToolBar, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pages = pages
        self.view = DuplicatesView(sessions)
        self.actions = DuplicatesActions(self.view)
        pages.addWidget(self.view)
        self.action = QAction("&Duplicates", self)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+D"))
        self.action.setToolTip("Review duplicate photos and clean up (Ctrl+D)")
        self.action.toggled.connect(self.show_view)
        pages.currentChanged.connect(self._page_changed)
        view_menu.addAction(self.action)
        toolbar.addSeparator()
        toolbar.addAction(self.action)

    def show_view(self, on: bool) -> None:
        """Switch to the Duplicates view (finding groups on first show) or back."""
        pages = self._pages
        if on and pages.currentWidget() is not self.view:
            pages.setCurrentWidget(self.view)
            self.view.ensure_loaded()
        elif not on and pages.currentWidget() is self.view:
            self.closed.emit()

    def _page_changed(self, _index: int) -> None:
        self.action.setChecked(self._pages.currentWidget() is self.view)

    def shutdown(self) -> None:
        if self.actions.compare_dialog is not None:
            self.actions.compare_dialog.close()
        self.view.shutdown()
