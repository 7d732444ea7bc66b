"""Window chrome: the application icon, menus, toolbar, and settings that survive a restart."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel

from photofinder.gui.drop import DropError, query_from_path

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
DEFAULT_THUMBNAIL = 160


@cache
def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("photofinder.svg", "photofinder-256.png"):
        if (ICONS / name).exists():
            icon.addFile(str(ICONS / name))
    return icon


def _action(
    window: MainWindow, text: str, slot: Callable[[], object], keys: QKeySequence | None = None
) -> QAction:
    action = QAction(text, window)
    if keys is not None:
        action.setShortcut(keys)
    action.triggered.connect(slot)
    return action


def build_menus(window: MainWindow) -> None:
    std = QKeySequence.StandardKey
    open_action = _action(
        window, "&Open photo…", lambda: ask_open(window), QKeySequence(std.Open)
    )
    paste = _action(window, "&Paste image", window.paste, QKeySequence(std.Paste))
    add = _action(window, "&Add folder…", window.ask_add_folder)
    folders = _action(window, "&Folders…", window.show_folders)
    quit_action = _action(window, "&Quit", window.close, QKeySequence(std.Quit))
    back = _action(window, "Back", lambda: go(window, -1), QKeySequence(std.Back))
    forward = _action(window, "Forward", lambda: go(window, 1), QKeySequence(std.Forward))
    window.back_action, window.forward_action = back, forward
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (open_action, paste, None, add, folders, None, quit_action):
        if action is None:
            file_menu.addSeparator()
        else:
            file_menu.addAction(action)
    go_menu = bar.addMenu("&Go")
    go_menu.addAction(back)
    go_menu.addAction(forward)
    results = bar.addMenu("&Photo")
    for key in ("similar", "open", "preview", "reveal", "copy", "trash"):
        results.addAction(window.result_actions.actions[key])
    window.addAction(paste)
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    for action in (back, forward, open_action, add, folders):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addWidget(QLabel(" Method "))
    toolbar.addWidget(window.method_combo)
    toolbar.addWidget(QLabel(" Device "))
    toolbar.addWidget(window.device_combo)
    toolbar.addSeparator()
    toolbar.addWidget(QLabel(" Size "))
    toolbar.addWidget(window.size_slider)
    window.method_combo.activated.connect(lambda _: _choose_runtime(window))
    window.device_combo.activated.connect(lambda _: _choose_runtime(window))
    update_history_actions(window)


def _choose_runtime(window: MainWindow) -> None:
    method, device = window.method_combo.value(), window.device_combo.value()
    if (method, device) != (window.session.library.info.name, window.session.library.device):
        window.reopen(method, device)


def ask_open(window: MainWindow) -> None:
    """File → Open: search by a photo chosen in a file dialog."""
    name, _ = QFileDialog.getOpenFileName(
        window, "Find photos like…", "", "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp "
        "*.tif *.tiff *.bmp *.gif);;All files (*)"
    )
    if name:
        try:
            window.run_query(query_from_path(Path(name)))
        except DropError as exc:
            window.show_error(str(exc))


def go(window: MainWindow, step: int) -> None:
    """Back (-1) or forward (+1) through the queries."""
    position = window.history_pos + step
    if 0 <= position < len(window.history):
        window.history_pos = position
        window.run_query(window.history[position], record=False)


def update_history_actions(window: MainWindow) -> None:
    window.back_action.setEnabled(window.history_pos > 0)
    window.forward_action.setEnabled(window.history_pos < len(window.history) - 1)


def _bytes(value: object) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def restore_settings(window: MainWindow) -> None:
    settings = window.settings
    geometry = _bytes(settings.value("window/geometry"))
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(1200, 760)
    state = _bytes(settings.value("window/state"))
    if state is not None:
        window.restoreState(state)
    splitter = _bytes(settings.value("window/splitter"))
    if splitter is not None:
        window.splitter.restoreState(splitter)
    try:
        side = int(str(settings.value("view/thumbnail_size", DEFAULT_THUMBNAIL)))
    except ValueError:
        side = DEFAULT_THUMBNAIL
    window.size_slider.setValue(side)
    window.set_thumbnail_size(window.size_slider.value())
    last = settings.value("view/last_query")
    if isinstance(last, str) and last and Path(last).is_file():
        window.pending_query = Path(last)


def save_settings(window: MainWindow) -> None:
    settings = window.settings
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    settings.setValue("window/splitter", window.splitter.saveState())
    settings.setValue("view/thumbnail_size", window.size_slider.value())
    query = window.current_query
    settings.setValue("view/last_query", str(query.path) if query and query.path else "")
    settings.setValue("method", window.session.library.info.name)
    settings.setValue("device", window.session.library.device)
    settings.sync()
