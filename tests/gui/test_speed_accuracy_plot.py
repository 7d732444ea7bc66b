"""The compare dialog's chart, painted by Qt: each point where the PNG has it, and no matplotlib
anywhere on the way."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from photofinder.core.evaluation import plot
from photofinder.core.evaluation.compare import speed_accuracy_chart
from photofinder.gui.speed_accuracy_plot import SpeedAccuracyPlot, render_chart
from tests.gui.test_methods_gui import labelled_folder
from tests.support.blocked_imports import run_without
from tests.test_plot import MEASURED

ROOT = Path(__file__).resolve().parents[2]


def near(image: QImage, centre: tuple[float, float], colour: plot.Colour) -> bool:
    """Some pixel within two of `centre` is `colour` give or take a little antialiasing."""
    x, y = round(centre[0]), round(centre[1])
    wanted = QColor(*colour)
    return any(max(abs(got.red() - wanted.red()), abs(got.green() - wanted.green()),
                   abs(got.blue() - wanted.blue())) <= 8
               for got in (image.pixelColor(x + dx, y + dy)
                           for dx in range(-2, 3) for dy in range(-2, 3)))


def test_qt_paints_each_point_where_the_chart_puts_it(qtbot: QtBot) -> None:
    chart = speed_accuracy_chart(MEASURED)
    size = QSize(700, 420)
    image = render_chart(chart, size)
    area = plot.plot_area(size.width(), size.height())
    for point in chart.points:
        at = plot.to_pixel(chart, area, point.photos_per_s, point.class_map)
        assert near(image, at, point.colour), point.name
    assert near(image, (area[0] + 2, area[3] - 2), plot.PAPER)


def test_the_widget_shows_its_chart_at_its_size(qtbot: QtBot) -> None:
    widget = SpeedAccuracyPlot("nothing yet")
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    assert widget.image().isNull()
    chart = speed_accuracy_chart(MEASURED)
    widget.set_chart(chart)
    assert widget.chart() is chart
    grabbed = widget.grab().toImage()
    area = plot.plot_area(widget.width(), widget.height())
    first = chart.points[0]
    at = plot.to_pixel(chart, area, first.photos_per_s, first.class_map)
    ratio = grabbed.devicePixelRatio()
    assert near(grabbed, (at[0] * ratio, at[1] * ratio), first.colour)
    assert widget.image().size() == QSize(500, 300)


def test_the_compare_dialog_measures_and_plots_without_matplotlib(tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "labelled")
    code = ("import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'; "
            "from pathlib import Path; from PySide6.QtWidgets import QApplication; "
            "app = QApplication([]); from photofinder.core.progress import CancelToken; "
            "from photofinder.gui.compare_methods_dialog import CompareMethodsDialog, compare; "
            f"outcome = compare(Path({str(folder)!r}), ['hog'], Path({str(tmp_path / 'data')!r}), "
            "lambda _m: None, CancelToken()); "
            "dialog = CompareMethodsDialog(); dialog.plot.set_chart(outcome.chart); "
            "dialog.plot.resize(600, 400); print([p.name for p in outcome.chart.points], "
            "dialog.plot.image().isNull()); dialog.shutdown()")
    result = run_without(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['hog'] False"
