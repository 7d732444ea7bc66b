"""Window chrome: the application icon, the menus and the toolbar."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QToolBar, QWidget

from photofinder.core.storage.resources import app_icon_files


@cache
def app_icon() -> QIcon:
    icon = QIcon()
    for path in app_icon_files():
        icon.addFile(str(path))
    return icon


@dataclass(frozen=True)
class Commands:
    """What the File and Go menus do (the window's methods)."""

    open_photo: Callable[[], object]
    paste: Callable[[], object]
    add_folder: Callable[[], object]
    show_folders: Callable[[], object]
    quit: Callable[[], object]
    back: Callable[[], object]
    forward: Callable[[], object]


@dataclass(frozen=True)
class Chrome:
    """The menus and toolbar that pages and tools add their actions to."""

    toolbar: QToolBar
    photo_menu: QMenu
    view_menu: QMenu
    tools_menu: QMenu
    back: QAction
    forward: QAction


PHOTO_ACTIONS = ("similar", "open", "preview", "reveal", "copy", "trash")


def _action(
    window: QMainWindow, text: str, slot: Callable[[], object],
    keys: QKeySequence | None = None,
) -> QAction:
    action = QAction(text, window)
    if keys is not None:
        action.setShortcut(keys)
    action.triggered.connect(slot)
    return action


def build_chrome(
    window: QMainWindow, commands: Commands, photo_actions: Mapping[str, QAction],
    controls: Sequence[Sequence[tuple[str, QWidget]]],
) -> Chrome:
    """File, Go, Photo, View and Tools menus and the main toolbar, with groups of labelled
    `controls` on it."""
    std = QKeySequence.StandardKey
    open_action = _action(window, "&Open photo…", commands.open_photo, QKeySequence(std.Open))
    paste = _action(window, "&Paste image", commands.paste, QKeySequence(std.Paste))
    add = _action(window, "&Add folder…", commands.add_folder)
    folders = _action(window, "&Folders…", commands.show_folders)
    quit_action = _action(window, "&Quit", commands.quit, QKeySequence(std.Quit))
    back = _action(window, "Back", commands.back, QKeySequence(std.Back))
    forward = _action(window, "Forward", commands.forward, QKeySequence(std.Forward))
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
    photo_menu = bar.addMenu("&Photo")
    for key in PHOTO_ACTIONS:
        photo_menu.addAction(photo_actions[key])
    window.addAction(paste)
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    for action in (back, forward, open_action, add, folders):
        toolbar.addAction(action)
    for group in controls:
        toolbar.addSeparator()
        for label, widget in group:
            toolbar.addWidget(QLabel(f" {label} "))
            toolbar.addWidget(widget)
    return Chrome(toolbar, photo_menu, bar.addMenu("&View"), bar.addMenu("&Tools"), back,
                  forward)
