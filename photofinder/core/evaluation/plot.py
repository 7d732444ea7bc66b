"""The speed-vs-accuracy chart of a method comparison: what it shows and where, worked out once
here, drawn by Pillow into a PNG (`write_png`) and by Qt in the GUI."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]
Corner = Literal["upper right", "upper left", "lower left", "lower right"]
Area = tuple[float, float, float, float]  # left, top, right, bottom in pixels

WIDTH, HEIGHT = 900, 560  # of the PNG
MARGINS = (72.0, 40.0, 24.0, 56.0)  # left (tick labels, y label), top (title), right, bottom
DECADE_MARGIN = 0.05  # of a decade: a point this close to a power of ten gets one more
Y_HEADROOM = 0.05  # class mAP above the highest tenth
MINOR_STEPS = range(2, 10)  # minor gridlines at 2…9 × each power of ten
POINT_RADIUS = 5.0
LABEL_OFFSET = 6.0  # the method's name sits this far right of and above its point
LEGEND_PAD = 8.0
LEGEND_INSET = 10.0  # between the legend box and the axes
LEGEND_OPACITY = 0.8  # a point the legend cannot avoid still shows through, as in matplotlib
FONT_PX = 13
TITLE_PX = 15
SUPERSAMPLE = 2  # the PNG is drawn this much larger, then shrunk: smooth circles and text
PALETTE: tuple[Colour, ...] = (  # matplotlib's tab10, the colours the plot had before
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)
INK: Colour = (38, 38, 38)
GRID: Colour = (222, 222, 222)
PAPER: Colour = (255, 255, 255)
NOTHING_MEASURED = "no method was measured"
X_LABEL = "photos/s (log scale)"
Y_LABEL = "class mAP"
CORNERS: tuple[Corner, ...] = ("upper right", "upper left", "lower left", "lower right")


class Measured(Protocol):
    """One measured method as the chart needs it (a comparison's MethodResult is one)."""

    @property
    def name(self) -> str: ...
    @property
    def photos_per_s(self) -> float: ...
    @property
    def class_map(self) -> float: ...
    @property
    def neardup_recall_at_1(self) -> float: ...


@dataclass(frozen=True)
class ChartPoint:
    name: str
    photos_per_s: float
    class_map: float
    neardup_recall_at_1: float
    colour: Colour

    @property
    def legend(self) -> str:
        return f"{self.name} (near-duplicate rank-1 {self.neardup_recall_at_1:.2f})"


@dataclass(frozen=True)
class Tick:
    value: float
    label: str  # empty for a minor tick: a gridline without a label


@dataclass(frozen=True)
class SpeedAccuracyChart:
    """Photos/s on a log axis of whole decades against class mAP, one point per method."""

    title: str
    points: tuple[ChartPoint, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    x_label: str = X_LABEL
    y_label: str = Y_LABEL

    def x_fraction(self, photos_per_s: float) -> float:
        """0 at the left edge, 1 at the right (log scale)."""
        low, high = (math.log10(v) for v in self.x_range)
        return (math.log10(photos_per_s) - low) / (high - low)

    def y_fraction(self, class_map: float) -> float:
        """0 at the bottom edge, 1 at the top."""
        low, high = self.y_range
        return (class_map - low) / (high - low)


def build_chart(title: str, measured: Sequence[Measured]) -> SpeedAccuracyChart:
    """The chart of `measured` (each with a positive, finite photos/s)."""
    points = tuple(ChartPoint(m.name, m.photos_per_s, m.class_map, m.neardup_recall_at_1,
                              PALETTE[number % len(PALETTE)])
                   for number, m in enumerate(measured))
    low, high = whole_decades([p.photos_per_s for p in points])
    top = math.ceil(max([p.class_map for p in points] + [0.1]) * 10) / 10
    return SpeedAccuracyChart(title, points, (10.0**low, 10.0**high), (0.0, top + Y_HEADROOM),
                              _decade_ticks(low, high), _map_ticks(top))


def whole_decades(speeds: Sequence[float]) -> tuple[int, int]:
    """Powers of ten (exponents) around `speeds`, with no point on the edge."""
    if not speeds:
        return 0, 3
    low = math.floor(math.log10(min(speeds)) - DECADE_MARGIN)
    high = math.ceil(math.log10(max(speeds)) + DECADE_MARGIN)
    return low, high


def _decade_ticks(low: int, high: int) -> tuple[Tick, ...]:
    ticks = [Tick(10.0**exponent, f"{10.0**exponent:g}") for exponent in range(low, high + 1)]
    ticks += [Tick(step * 10.0**exponent, "") for exponent in range(low, high)
              for step in MINOR_STEPS]
    return tuple(ticks)


def _map_ticks(top: float) -> tuple[Tick, ...]:
    step, digits = (0.1, 1) if top >= 0.3 else (0.05, 2)
    count = round(top / step)
    return tuple(Tick(i * step, f"{i * step:.{digits}f}") for i in range(count + 1))


def plot_area(width: float, height: float) -> Area:
    """The axes' rectangle inside a picture of this size."""
    left, top, right, bottom = MARGINS
    return left, top, width - right, height - bottom


def to_pixel(chart: SpeedAccuracyChart, area: Area, photos_per_s: float,
             class_map: float) -> tuple[float, float]:
    left, top, right, bottom = area
    return (left + chart.x_fraction(photos_per_s) * (right - left),
            bottom - chart.y_fraction(class_map) * (bottom - top))


def legend_corner(chart: SpeedAccuracyChart, area: Area, box: tuple[float, float],
                  text_width: Callable[[str], float]) -> Corner:
    """The corner of the axes where a legend box of this size hides the fewest points and
    names (`text_width`: a name's width in pixels in the font it is drawn in)."""
    marks = [mark for p in chart.points
             for mark in point_marks(*to_pixel(chart, area, p.photos_per_s, p.class_map),
                                     text_width(p.name))]

    def hidden(corner: Corner) -> int:
        x0, y0, x1, y1 = legend_box(area, box, corner)
        return sum(x0 <= m_x1 and m_x0 <= x1 and y0 <= m_y1 and m_y0 <= y1
                   for m_x0, m_y0, m_x1, m_y1 in marks)
    return min(CORNERS, key=hidden)  # the first of equals: upper right, as matplotlib


def point_marks(x: float, y: float, name_width: float) -> tuple[Area, Area]:
    """The rectangles a point at (x, y) and its name cover."""
    dot = (x - POINT_RADIUS, y - POINT_RADIUS, x + POINT_RADIUS, y + POINT_RADIUS)
    name = (x + LABEL_OFFSET, y - LABEL_OFFSET - FONT_PX, x + LABEL_OFFSET + name_width,
            y - LABEL_OFFSET)
    return dot, name


def legend_box(area: Area, box: tuple[float, float], corner: Corner) -> Area:
    left, top, right, bottom = area
    width, height = box
    x0 = right - LEGEND_INSET - width if corner.endswith("right") else left + LEGEND_INSET
    y0 = top + LEGEND_INSET if corner.startswith("upper") else bottom - LEGEND_INSET - height
    return x0, y0, x0 + width, y0 + height


def write_png(chart: SpeedAccuracyChart, target: Path) -> Path:
    """Draw `chart` into a WIDTH × HEIGHT PNG at `target` (folders made as needed)."""
    large = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), PAPER)
    _PillowPainter(large, SUPERSAMPLE).draw(chart)
    target.parent.mkdir(parents=True, exist_ok=True)
    large.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(target, format="PNG")
    return target


class _PillowPainter:
    """Draws a chart with Pillow, in WIDTH × HEIGHT units scaled by `scale` pixels each."""

    def __init__(self, image: Image.Image, scale: int) -> None:
        self.image = image
        self.scale = scale
        self.pen = ImageDraw.Draw(image)
        self.font = ImageFont.load_default(size=FONT_PX * scale)
        self.title_font = ImageFont.load_default(size=TITLE_PX * scale)

    def draw(self, chart: SpeedAccuracyChart) -> None:
        area = plot_area(WIDTH, HEIGHT)
        self._grid(chart, area)
        self._line((area[0], area[1], area[2], area[1], area[2], area[3], area[0], area[3],
                    area[0], area[1]), INK)
        self._text((WIDTH / 2, area[1] / 2), chart.title, "mm", self.title_font)
        self._text(((area[0] + area[2]) / 2, HEIGHT - 12), chart.x_label, "ms")
        self._vertical_text((16, (area[1] + area[3]) / 2), chart.y_label)
        if not chart.points:
            self._text(((area[0] + area[2]) / 2, (area[1] + area[3]) / 2), NOTHING_MEASURED,
                       "mm")
            return
        for point in chart.points:
            x, y = to_pixel(chart, area, point.photos_per_s, point.class_map)
            self._dot(x, y, point.colour)
            self._text((x + LABEL_OFFSET, y - LABEL_OFFSET), point.name, "ld")
        self._legend(chart, area)

    def _grid(self, chart: SpeedAccuracyChart, area: Area) -> None:
        left, top, right, bottom = area
        for tick in chart.x_ticks:
            x = to_pixel(chart, area, tick.value, chart.y_range[0])[0]
            self._line((x, top, x, bottom), GRID)
            if tick.label:
                self._line((x, bottom, x, bottom + 5), INK)
                self._text((x, bottom + 8), tick.label, "mt")
        for tick in chart.y_ticks:
            y = to_pixel(chart, area, chart.x_range[0], tick.value)[1]
            self._line((left, y, right, y), GRID)
            self._line((left - 5, y, left, y), INK)
            self._text((left - 8, y), tick.label, "rm")

    def _legend(self, chart: SpeedAccuracyChart, area: Area) -> None:
        row = FONT_PX + 6.0
        swatch = 2 * POINT_RADIUS + 8
        width = swatch + max(self._width(p.legend) for p in chart.points) + 2 * LEGEND_PAD
        box = (width, row * len(chart.points) + 2 * LEGEND_PAD - 6)
        x0, y0, x1, y1 = legend_box(area, box, legend_corner(chart, area, box, self._width))
        s = self.scale
        frame = (int(x0 * s), int(y0 * s), int(x1 * s), int(y1 * s))
        behind = self.image.crop(frame)
        paper = Image.new("RGB", behind.size, PAPER)
        self.image.paste(Image.blend(behind, paper, LEGEND_OPACITY), frame[:2])
        self.pen.rectangle(frame, outline=GRID, width=s)
        for number, point in enumerate(chart.points):
            middle = y0 + LEGEND_PAD + number * row + FONT_PX / 2
            self._dot(x0 + LEGEND_PAD + POINT_RADIUS, middle, point.colour)
            self._text((x0 + LEGEND_PAD + swatch, middle), point.legend, "lm")

    def _width(self, text: str) -> float:
        return self.pen.textlength(text, font=self.font) / self.scale

    def _line(self, xy: tuple[float, ...], colour: Colour) -> None:
        self.pen.line([v * self.scale for v in xy], fill=colour, width=self.scale)

    def _dot(self, x: float, y: float, colour: Colour) -> None:
        r, s = POINT_RADIUS, self.scale
        self.pen.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=colour)

    def _text(self, xy: tuple[float, float], text: str, anchor: str,
              font: ImageFont.FreeTypeFont | ImageFont.ImageFont | None = None) -> None:
        self.pen.text((xy[0] * self.scale, xy[1] * self.scale), text, fill=INK,
                      font=font or self.font, anchor=anchor)

    def _vertical_text(self, centre: tuple[float, float], text: str) -> None:
        left, top, right, bottom = self.pen.textbbox((0, 0), text, font=self.font, anchor="lt")
        strip = Image.new("L", (int(right - left) + 2, int(bottom - top) + 2), 0)
        ImageDraw.Draw(strip).text((1, 1), text, fill=255, font=self.font, anchor="lt")
        upright = strip.rotate(90, expand=True)
        x = int(centre[0] * self.scale - upright.width / 2)
        y = int(centre[1] * self.scale - upright.height / 2)
        self.image.paste(Image.new("RGB", upright.size, INK), (x, y), upright)
