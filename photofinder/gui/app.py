"""Start the desktop app: application identity, palette, icon, main window."""

from __future__ import annotations

import argparse
import gc
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from photofinder.core.errors import PhotoFinderError
from photofinder.core.storage.paths import resolve_paths
from photofinder.core.storage.sqlite_errors import user_facing_error
from photofinder.gui import chrome
from photofinder.gui.main_window import MainWindow

APP_NAME = "PhotoFinder"


def make_application(argv: Sequence[str]) -> QApplication:
    """The QApplication (or the existing one), named so QSettings and the desktop find it."""
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QGuiApplication.setApplicationDisplayName(APP_NAME)
    QGuiApplication.setDesktopFileName("photofinder")
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setWindowIcon(chrome.app_icon())
    return app


def show_start_error(message: str) -> None:
    """Say in a dialog why the library could not be opened (a damaged catalogue, a full
    disk) and what to do, instead of a crash."""
    QMessageBox.critical(None, APP_NAME, f"PhotoFinder cannot open the library.\n\n{message}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    parser = argparse.ArgumentParser(prog="photofinder-gui", description="PhotoFinder desktop app")
    parser.add_argument("--data-dir", type=Path, default=None, help="library folder (tests)")
    options, qt_args = parser.parse_known_args(args[1:])
    app = make_application([args[0], *qt_args])
    try:
        window = MainWindow(options.data_dir)
    except (PhotoFinderError, sqlite3.Error, OSError) as exc:
        error = user_facing_error(exc, resolve_paths(options.data_dir).catalog)
        if error is None:
            raise
        show_start_error(str(error))
        return 1
    window.show()
    code = app.exec()
    del window
    gc.collect()  # free Qt wrappers while the application still exists
    return code


if __name__ == "__main__":
    raise SystemExit(main())
