"""The first-run page: what PhotoFinder does and an “Add folder…” button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    add_folder_clicked = Signal()

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        logo = QLabel()
        logo.setPixmap(icon.pixmap(128, 128))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("<h1>Welcome to PhotoFinder</h1>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Find photos that look alike in your own library, offline.<br><br>"
            "Add a folder of photos to begin: PhotoFinder indexes it in the background and "
            "keeps watching it for new photos.<br>Then drop a photo on this window, paste one "
            "(Ctrl+V) or open one to see the most similar photos you have."
        )
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setFixedWidth(560)
        text.setMinimumHeight(text.heightForWidth(560))
        self.button = QPushButton("Add folder…")
        self.button.setDefault(True)
        self.button.setMinimumWidth(180)
        self.button.clicked.connect(self.add_folder_clicked)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(logo)
        layout.addWidget(title)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(16)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
