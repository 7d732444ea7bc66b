"""The status bar's indexing panel: done/total, photos/s, time left; pause, resume, cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.progress import Progress


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s left"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


def format_progress(progress: Progress) -> str:
    if progress.stage == "indexing":
        parts = [f"Indexing {progress.done:,} / {progress.total:,}"]
        if progress.rate > 0:
            parts.append(f"{progress.rate:.1f} photos/s")
        eta = format_eta(progress.eta_s)
        if eta:
            parts.append(eta)
        return " · ".join(parts)
    if progress.stage == "scanning":
        return f"Scanning folders… {progress.done:,} photos found"
    if progress.stage == "loading model":
        return f"Loading the model… ({progress.total:,} photos to index)"
    return f"{progress.stage.capitalize()}… {progress.message}".strip()


def format_report(report: IndexReport) -> str:
    if report.cancelled:
        return f"Indexing stopped: {report.embedded:,} photos indexed so far (resumes next time)"
    parts = []
    if report.embedded + report.copied:
        parts.append(f"{report.embedded + report.copied:,} photos indexed")
    if report.moved:
        parts.append(f"{report.moved:,} moved")
    if report.deleted:
        parts.append(f"{report.deleted:,} removed")
    if report.failed:
        parts.append(f"{report.failed:,} unreadable")
    if not parts:
        return "Up to date"
    return "Up to date: " + ", ".join(parts) + f" in {report.elapsed_s:.1f} s"


class IndexingPanel(QWidget):
    pause_clicked = Signal()
    resume_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(False)
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.bar.setVisible(running)
        self.pause_button.setVisible(running)
        self.cancel_button.setVisible(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def show_progress(self, progress: Progress) -> None:
        text = format_progress(progress)
        if self.pause_button.isChecked():
            text = "Paused · " + text
        self.label.setText(text)
        if progress.total > 0:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
        else:
            self.bar.setRange(0, 0)  # busy

    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.label.setText("Paused · " + self.label.text())
            self.pause_clicked.emit()
        else:
            self.label.setText(self.label.text().removeprefix("Paused · "))
            self.resume_clicked.emit()
