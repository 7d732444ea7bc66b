"""The compare dialog's speed-vs-accuracy chart, painted by Qt (the same layout as the PNG)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from photofinder.core.evaluation.plot import (
    FONT_PX,
    GRID,
    HEIGHT,
    INK,
    LABEL_OFFSET,
    LEGEND_OPACITY,
    LEGEND_PAD,
    NOTHING_MEASURED,
    PAPER,
    POINT_RADIUS,
    TITLE_PX,
    WIDTH,
    Area,
    Colour,
    SpeedAccuracyChart,
    legend_box,
    legend_corner,
    plot_area,
    to_pixel,
)


def _colour(rgb: Colour) -> QColor:
    return QColor(*rgb)


class ChartPainter:
    """Paints a chart into a width × height area of a QPainter."""

    def __init__(self, painter: QPainter, width: float, height: float) -> None:
        self.painter = painter
        self.width, self.height = width, height
        self.font = QFont(painter.font())
        self.font.setPixelSize(FONT_PX)
        self.title_font = QFont(self.font)
        self.title_font.setPixelSize(TITLE_PX)
        self.metrics = QFontMetricsF(self.font)

    def paint(self, chart: SpeedAccuracyChart) -> None:
        area = plot_area(self.width, self.height)
        left, top, right, bottom = area
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.painter.fillRect(QRectF(0, 0, self.width, self.height), _colour(PAPER))
        self._grid(chart, area)
        self.painter.setPen(_colour(INK))
        self.painter.setBrush(Qt.BrushStyle.NoBrush)
        self.painter.drawRect(QRectF(left, top, right - left, bottom - top))
        self._text(QRectF(0, 0, self.width, top), chart.title, Qt.AlignmentFlag.AlignCenter,
                   self.title_font)
        self._text(QRectF(left, self.height - 28, right - left, 24), chart.x_label,
                   Qt.AlignmentFlag.AlignCenter)
        self._vertical_text(16, (top + bottom) / 2, chart.y_label)
        if not chart.points:
            self._text(QRectF(left, top, right - left, bottom - top), NOTHING_MEASURED,
                       Qt.AlignmentFlag.AlignCenter)
            return
        for point in chart.points:
            x, y = to_pixel(chart, area, point.photos_per_s, point.class_map)
            self._dot(x, y, point.colour)
            self._text(QRectF(x + LABEL_OFFSET, y - LABEL_OFFSET - FONT_PX - 4,
                              self.metrics.horizontalAdvance(point.name) + 4, FONT_PX + 4),
                       point.name, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self._legend(chart, area)

    def _grid(self, chart: SpeedAccuracyChart, area: Area) -> None:
        left, top, right, bottom = area
        for tick in chart.x_ticks:
            x = to_pixel(chart, area, tick.value, chart.y_range[0])[0]
            self._line(x, top, x, bottom, GRID)
            if tick.label:
                self._line(x, bottom, x, bottom + 5, INK)
                self._text(QRectF(x - 40, bottom + 7, 80, FONT_PX + 4), tick.label,
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        for tick in chart.y_ticks:
            y = to_pixel(chart, area, chart.x_range[0], tick.value)[1]
            self._line(left, y, right, y, GRID)
            self._line(left - 5, y, left, y, INK)
            self._text(QRectF(left - 68, y - FONT_PX, 60, 2 * FONT_PX), tick.label,
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _legend(self, chart: SpeedAccuracyChart, area: Area) -> None:
        row = FONT_PX + 6.0
        swatch = 2 * POINT_RADIUS + 8
        width = swatch + max(self.metrics.horizontalAdvance(p.legend) for p in chart.points)
        box = (width + 2 * LEGEND_PAD, row * len(chart.points) + 2 * LEGEND_PAD - 6)
        corner = legend_corner(chart, area, box, self.metrics.horizontalAdvance)
        x0, y0, x1, y1 = legend_box(area, box, corner)
        self.painter.setPen(_colour(GRID))
        paper = _colour(PAPER)
        paper.setAlphaF(LEGEND_OPACITY)
        self.painter.setBrush(paper)
        self.painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        for number, point in enumerate(chart.points):
            middle = y0 + LEGEND_PAD + number * row + FONT_PX / 2
            self._dot(x0 + LEGEND_PAD + POINT_RADIUS, middle, point.colour)
            self._text(QRectF(x0 + LEGEND_PAD + swatch, middle - row / 2, width, row),
                       point.legend, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def _line(self, x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        self.painter.setPen(_colour(colour))
        self.painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))

    def _dot(self, x: float, y: float, colour: Colour) -> None:
        self.painter.setPen(Qt.PenStyle.NoPen)
        self.painter.setBrush(_colour(colour))
        self.painter.drawEllipse(QPointF(x, y), POINT_RADIUS, POINT_RADIUS)

    def _text(self, rect: QRectF, text: str, align: Qt.AlignmentFlag,
              font: QFont | None = None) -> None:
        self.painter.setFont(font or self.font)
        self.painter.setPen(_colour(INK))
        self.painter.drawText(rect, int(align), text)

    def _vertical_text(self, x: float, y: float, text: str) -> None:
        self.painter.save()
        self.painter.translate(x, y)
        self.painter.rotate(-90)
        self._text(QRectF(-200, -12, 400, 24), text, Qt.AlignmentFlag.AlignCenter)
        self.painter.restore()


def render_chart(chart: SpeedAccuracyChart, size: QSize = QSize(WIDTH, HEIGHT)) -> QImage:  # noqa: B008
    """The chart as an image of this size."""
    image = QImage(size, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        ChartPainter(painter, size.width(), size.height()).paint(chart)
    finally:
        painter.end()
    return image


class SpeedAccuracyPlot(QWidget):
    """Shows a comparison's speed-vs-accuracy chart at the widget's size, or a placeholder."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chart: SpeedAccuracyChart | None = None
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 220)

    def set_chart(self, chart: SpeedAccuracyChart | None) -> None:
        self._chart = chart
        self.update()

    def chart(self) -> SpeedAccuracyChart | None:
        return self._chart

    def image(self) -> QImage:
        """The chart as drawn at the widget's size (a null image while there is none)."""
        return QImage() if self._chart is None else render_chart(self._chart, self.size())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(WIDTH * 2 // 3, HEIGHT * 2 // 3)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        if self._chart is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
            return
        ChartPainter(painter, self.width(), self.height()).paint(self._chart)
