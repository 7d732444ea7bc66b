"""The speed-vs-accuracy chart: its axes and legend, and the PNG that the CLI writes with Pillow
alone (no matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.core.evaluation import plot
from photofinder.core.evaluation.compare import (
    CompareReport,
    MethodResult,
    plot_speed_accuracy,
    speed_accuracy_chart,
)
from tests.support.blocked_imports import run_without

ROOT = Path(__file__).resolve().parents[1]


def report(*methods: MethodResult) -> CompareReport:
    return CompareReport("labelled", 60, 3, 16, ["crop"], "cpu", list(methods))


MEASURED = report(
    MethodResult("hog", photos_per_s=380.0, class_map=0.11, neardup_recall_at_1=0.57),
    MethodResult("efficientnet-lite0", photos_per_s=50.0, class_map=0.8, neardup_recall_at_1=0.97),
    MethodResult("orb-bow", photos_per_s=95.0, class_map=0.2, neardup_recall_at_1=0.7),
    MethodResult("surf", available=False, reason="patented"),
)


def test_the_chart_has_every_measured_method_on_whole_decades() -> None:
    chart = speed_accuracy_chart(MEASURED)
    assert chart.title == "speed vs accuracy: 60 photos, 3 classes, device cpu"
    assert [p.name for p in chart.points] == ["hog", "efficientnet-lite0", "orb-bow"]
    assert chart.points[1].legend == "efficientnet-lite0 (near-duplicate rank-1 0.97)"
    assert len({p.colour for p in chart.points}) == 3
    assert chart.x_range == (10.0, 1000.0)
    assert [t.label for t in chart.x_ticks if t.label] == ["10", "100", "1000"]
    assert sorted(t.value for t in chart.x_ticks if not t.label)[:2] == [20.0, 30.0]
    assert chart.y_range == pytest.approx((0.0, 0.85))
    assert [t.label for t in chart.y_ticks] == [f"0.{i}" for i in range(9)]
    assert (chart.x_label, chart.y_label) == ("photos/s (log scale)", "class mAP")


def test_a_point_just_under_a_power_of_ten_gets_one_more_decade() -> None:
    assert plot.whole_decades([9.9, 100.0]) == (0, 3)
    assert plot.whole_decades([]) == (0, 3)


def test_methods_too_fast_to_time_or_not_measured_are_left_out() -> None:
    chart = speed_accuracy_chart(report(
        MethodResult("hog", photos_per_s=float("inf"), class_map=0.1),
        MethodResult("orb-bow", photos_per_s=0.0, class_map=0.1),
        MethodResult("surf", available=False),
    ))
    assert chart.points == ()
    assert [t.label for t in chart.y_ticks] == ["0.00", "0.05", "0.10"]


def test_the_legend_goes_to_a_corner_with_no_point_in_it() -> None:
    crowded_top_right = report(
        MethodResult("a", photos_per_s=900.0, class_map=0.8, neardup_recall_at_1=0.5),
        MethodResult("b", photos_per_s=800.0, class_map=0.1, neardup_recall_at_1=0.5),
        MethodResult("c", photos_per_s=2.0, class_map=0.8, neardup_recall_at_1=0.5),
    )
    chart = speed_accuracy_chart(crowded_top_right)
    area = plot.plot_area(plot.WIDTH, plot.HEIGHT)
    assert plot.legend_corner(chart, area, (300.0, 80.0), lambda text: 7.0 * len(text)) == (
        "lower left")


def colour_near(image: Image.Image, centre: tuple[float, float], colour: plot.Colour) -> bool:
    """Some pixel within two of `centre` is `colour` give or take a little antialiasing."""
    x, y = round(centre[0]), round(centre[1])
    pixels = np.asarray(image.convert("RGB"), np.int16)[y - 2:y + 3, x - 2:x + 3]
    return bool((np.abs(pixels - np.array(colour, np.int16)).max(axis=-1) <= 8).any())


def test_the_png_shows_each_point_where_the_chart_puts_it(tmp_path: Path) -> None:
    target = plot_speed_accuracy(MEASURED, tmp_path / "new folder" / "plot.png")
    assert target == tmp_path / "new folder" / "plot.png"
    chart = speed_accuracy_chart(MEASURED)
    area = plot.plot_area(plot.WIDTH, plot.HEIGHT)
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (plot.WIDTH, plot.HEIGHT)
        for point in chart.points:
            at = plot.to_pixel(chart, area, point.photos_per_s, point.class_map)
            assert colour_near(image, at, point.colour), point.name
        assert colour_near(image, (area[0] + 1, area[3] - 1), plot.PAPER)


def test_the_cli_plot_is_drawn_without_matplotlib(tmp_path: Path) -> None:
    target = tmp_path / "plot.png"
    code = ("from pathlib import Path; from tests.test_plot import MEASURED; "
            "from photofinder.core.evaluation.compare import plot_speed_accuracy; "
            f"plot_speed_accuracy(MEASURED, Path({str(target)!r}))")
    result = run_without(code)
    assert result.returncode == 0, result.stderr
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (plot.WIDTH, plot.HEIGHT)
