"""Tools → Compare methods…: run the method comparison on a labelled folder, table and plot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.progress import CancelToken
from photofinder.gui.jobs import JobContext, JobQueue
from photofinder.gui.speed_accuracy_plot import SpeedAccuracyPlot

if TYPE_CHECKING:
    from photofinder.core.evaluation.compare import CompareReport, MethodResult
    from photofinder.core.evaluation.plot import SpeedAccuracyChart

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("method", "family", "dim", "photos/s", "mAP", "P@10", "dup R@1", "bytes/photo",
           "pros", "cons")


def _cells(r: MethodResult) -> tuple[str, ...]:
    if not r.available:
        return (r.name, r.family, str(r.dim), "–", "–", "–", "–", "–", r.pros, r.cons)
    return (r.name, r.family, str(r.dim), f"{r.photos_per_s:.1f}", f"{r.class_map:.3f}",
            f"{r.precision_at_10:.3f}", f"{r.neardup_recall_at_1:.3f}",
            f"{r.bytes_per_photo:,.0f}", r.pros, r.cons)


class CompareTableModel(QAbstractTableModel):
    """One row per method: the measured columns, then the article's pros and cons."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: list[MethodResult] = []

    def set_results(self, results: Sequence[MethodResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._results)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._results):
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        result = self._results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cells(result)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return result.reason or f"{result.name} {result.version}"
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= index.column() <= 7:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return section + 1


@dataclass(frozen=True)
class CompareOutcome:
    report: CompareReport
    chart: SpeedAccuracyChart


def compare(
    folder: Path, methods: list[str], data_dir: Path | None, log: Callable[[str], None],
    cancel: CancelToken,
) -> CompareOutcome:
    """Runs on a worker thread: the comparison, then its speed-vs-accuracy plot."""
    from photofinder.core.evaluation.compare import run_compare, speed_accuracy_chart

    report = run_compare(folder, methods, data_dir=data_dir, log=log, cancel=cancel)
    return CompareOutcome(report, speed_accuracy_chart(report))


def _list_methods() -> list[MethodInfo]:
    from photofinder.core.embedders import list_methods

    return list_methods()


class CompareMethodsDialog(QDialog):
    """Pick a labelled folder (one subfolder per class) and methods; run; read table and plot."""

    log_message = Signal(str)  # emitted by the worker thread, shown here

    def __init__(self, data_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare methods")
        self.resize(1000, 720)
        self._data_dir = data_dir
        self._cancel = CancelToken()
        self._seen: list[str] = []
        self.report: CompareReport | None = None
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("A folder with one subfolder of photos per class")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.boxes: dict[str, QCheckBox] = {}
        self.methods_box = QGroupBox("Methods")
        self.methods_grid = QGridLayout(self.methods_box)
        self.methods_grid.addWidget(QLabel("Listing methods…"), 0, 0)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the comparison (within a batch of photos; learning a "
                                    "method's codebook finishes first)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.model = CompareTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.plot = SpeedAccuracyPlot("The speed-vs-accuracy plot appears here")
        row = QHBoxLayout()
        row.addWidget(QLabel("Labelled folder"))
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.close_button)
        results = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.log, self.table, self.plot):
            results.addWidget(widget)
        results.setSizes([120, 220, 320])
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.methods_box)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(results, 1)
        self.log_message.connect(self._on_log)
        self.jobs = JobQueue("photofinder-compare", self)
        self.jobs.submit(lambda _: _list_methods(), self._on_methods)
        self._comparing = False

    @property
    def running(self) -> bool:
        return self._comparing

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder with one subfolder per class")
        if folder:
            self.folder.setText(folder)

    def _on_methods(self, methods: list[MethodInfo]) -> None:
        while (item := self.methods_grid.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        for number, info in enumerate(methods):
            box = QCheckBox(info.name)
            box.setEnabled(info.available)
            tip = f"{info.family}: {info.description}"
            box.setToolTip(tip if info.available else f"{tip}\nUnavailable: {info.reason}")
            self.methods_grid.addWidget(box, number // 4, number % 4)
            self.boxes[info.name] = box

    def chosen(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    @Slot()
    def run(self) -> None:
        folder, methods = Path(self.folder.text().strip()), self.chosen()
        if not self.folder.text().strip() or not folder.is_dir():
            self.status.setText("Choose a folder with one subfolder of photos per class.")
            return
        if not methods:
            self.status.setText("Tick at least one method.")
            return
        self._seen = []
        self.log.clear()
        self.progress.setRange(0, len(methods))
        self.progress.setValue(0)
        self._set_running(True)
        self.status.setText(f"Comparing {len(methods)} method(s) on {folder}…")
        data_dir, log = self._data_dir, self.log_message.emit

        def work(context: JobContext) -> CompareOutcome:
            return compare(folder, methods, data_dir, log, context.token)

        self._cancel = CancelToken()
        self.jobs.submit(work, self._on_done, failed=self._on_failed,
                         cancelled=self._on_stopped, token=self._cancel)

    @Slot()
    def stop(self) -> None:
        self._cancel.cancel()
        self.stop_button.setEnabled(False)
        self.status.setText("Stopping…")

    def _set_running(self, running: bool) -> None:
        self._comparing = running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.methods_box.setEnabled(not running)
        self.folder.setEnabled(not running)

    @Slot(str)
    def _on_log(self, message: str) -> None:
        self.log.appendPlainText(message)
        name = message.split(":", 1)[0]
        if ":" in message and name in self.boxes and name not in self._seen:
            self._seen.append(name)
            self.progress.setValue(len(self._seen) - 1)
        self.status.setText(message)

    def _on_done(self, outcome: CompareOutcome) -> None:
        from photofinder.core.evaluation.compare import format_table

        self._set_running(False)
        self.report = outcome.report
        self.progress.setValue(self.progress.maximum())
        self.model.set_results(outcome.report.methods)
        self.table.resizeColumnsToContents()
        self.plot.set_chart(outcome.chart)
        self.log.appendPlainText(format_table(outcome.report))
        self.status.setText(f"Done: {outcome.report.photos} photos.")

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.status.setText(f"Comparison failed: {message}")

    def _on_stopped(self) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.status.setText("Stopped.")

    def shutdown(self) -> None:
        """Stop the comparison and wait for it (never leave it running)."""
        self.jobs.shutdown()

    def done(self, code: int) -> None:
        self.shutdown()
        super().done(code)
