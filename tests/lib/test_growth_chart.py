"""crecer.lib.growth.chart.render_chart: the SVG growth chart, read back with ElementTree."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from crecer.lib.growth import DAYS_PER_MONTH, reference_curve
from crecer.lib.growth.chart import CHART_INDICATORS, ChartLabels, ChartPoint, render_chart

SVG = "{http://www.w3.org/2000/svg}"
LABELS = ChartLabels(title="Peso para la edad", x_axis="Edad", y_axis="Peso")
SD_TEXT = ["−3", "−2", "0", "+2", "+3"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it


def sd_paths(root: ET.Element) -> dict[int, list[tuple[float, float]]]:
    out = {}
    for path in root.iter(f"{SVG}path"):
        if path.get("class") == "sd":
            coords = re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d", ""))
            out[int(path.get("data-sd", ""))] = [(float(x), float(y)) for x, y in coords]
    return out


def y_on(path: list[tuple[float, float]], x: float) -> float:
    xs, ys = zip(*path, strict=True)
    assert xs[0] <= x <= xs[-1]
    return float(np.interp(x, xs, ys))


def circles(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}circle"))


def ticks(root: ET.Element, anchor: str) -> dict[str, ET.Element]:
    """Tick labels of the x axis (anchor "middle") or the y axis (anchor "end"), by their text."""
    groups = [g for g in root.iter(f"{SVG}g") if g.get("text-anchor") == anchor]
    assert len(groups) == 1
    return {t.text or "": t for t in groups[0].iter(f"{SVG}text")}


def sd_labels(root: ET.Element) -> list[ET.Element]:
    groups = [g for g in root.iter(f"{SVG}g") if g.get("font-weight") == "bold"]
    assert len(groups) == 1
    return list(groups[0].iter(f"{SVG}text"))


def frame(root: ET.Element) -> tuple[float, float, float, float]:
    rect = next(r for r in root.iter(f"{SVG}rect") if r.get("x") is not None)
    x, y = float(rect.get("x", "")), float(rect.get("y", ""))
    return x, y, x + float(rect.get("width", "")), y + float(rect.get("height", ""))


def median(indicator: str, sex: int, x: float, measure: str | None = None) -> float:
    return float(reference_curve(indicator, sex, (0,), [x], measure=measure).values[0, 0])


# --------------------------------------------------------------------------- reference lines


@pytest.mark.parametrize("indicator", CHART_INDICATORS)
@pytest.mark.parametrize("sex", [1, 2])
def test_every_indicator_draws_five_labelled_reference_lines(indicator, sex):
    root = parse(render_chart(indicator, sex, [], labels=LABELS))
    paths = sd_paths(root)
    assert sorted(paths) == [-3, -2, 0, 2, 3]
    for path in paths.values():
        assert 2 <= len(path) <= 120
    # Ordered at the right end: +3 on top (smaller y), -3 at the bottom.
    ends = [paths[sd][-1][1] for sd in (3, 2, 0, -2, -3)]
    assert ends == sorted(ends)
    assert [t.text for t in sd_labels(root)] == SD_TEXT[::-1]


def test_line_styles_tell_the_sds_apart():
    root = parse(render_chart("wfa", 1, [], labels=LABELS))
    style = {
        int(p.get("data-sd", "")): (p.get("stroke"), p.get("stroke-dasharray"))
        for p in root.iter(f"{SVG}path")
        if p.get("class") == "sd"
    }
    assert style[0][1] is None  # the median is solid
    assert style[2] == style[-2] and style[3] == style[-3]
    assert style[2][1] and style[3][1] and style[2] != style[3] != style[0]


def test_sd_labels_do_not_overlap_where_the_lines_are_close():
    # Near birth the five weight-for-age lines are within a few kg of each other.
    root = parse(render_chart("wfa", 1, [], labels=LABELS, x_range=(0, 20)))
    ys = [float(t.get("y", "")) for t in sd_labels(root)]
    assert ys == sorted(ys)
    font = 640 / 32
    assert all(b - a >= 0.9 * font for a, b in itertools.pairwise(ys))


# --------------------------------------------------------------------------- scales


@pytest.mark.parametrize(("indicator", "sex", "xs"), [("wfa", 2, [100, 400, 1000]), ("lhfa", 1, [50, 900, 1700])])
def test_a_point_on_the_median_is_drawn_on_the_median_line(indicator, sex, xs):
    points = [ChartPoint(x, median(indicator, sex, x), f"p{x}") for x in xs]
    root = parse(render_chart(indicator, sex, points, labels=LABELS))
    path = sd_paths(root)[0]
    found = circles(root)
    assert len(found) == len(xs)
    for c in found:
        assert abs(float(c.get("cy", "")) - y_on(path, float(c.get("cx", "")))) < 1.0


def test_a_point_on_the_weight_for_length_median_is_on_the_median_line():
    points = [ChartPoint(cm, median("wfl", 1, cm), "") for cm in (62.0, 70.5, 81.3)]
    root = parse(render_chart("wflh", 1, points, labels=LABELS, measure="l"))
    path = sd_paths(root)[0]
    for c in circles(root):
        assert abs(float(c.get("cy", "")) - y_on(path, float(c.get("cx", "")))) < 1.0


def test_points_are_placed_on_the_tick_scales():
    # 12 months (365.25 days) and 10 kg fall exactly on a tick of each axis.
    root = parse(render_chart("wfa", 1, [ChartPoint(12 * DAYS_PER_MONTH, 10.0, "")], labels=LABELS))
    (c,) = circles(root)
    assert c.get("cx") == ticks(root, "middle")["12"].get("x")
    assert c.get("cy") == ticks(root, "end")["10"].get("y")


def test_axis_titles_get_their_units_and_decimal_separator():
    labels = ChartLabels(title="t", x_axis="Age", y_axis="Weight", months="months", decimal=".")
    root = parse(render_chart("wfa", 1, [], labels=labels, x_range=(0, 60)))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Age (months)" in texts and "Weight (kg)" in texts
    tall = {"x_range": (0, 60), "width": 640, "height": 900}  # room for y ticks every 0.5 kg
    assert "3.5" in ticks(parse(render_chart("wfa", 1, [], labels=labels, **tall)), "end")
    assert "3,5" in ticks(parse(render_chart("wfa", 1, [], labels=LABELS, **tall)), "end")
    root = parse(render_chart("wflh", 2, [], labels=LABELS, measure="h"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Edad (cm)" in texts and "Peso (kg)" in texts


# --------------------------------------------------------------------------- x range


def tick_values(root: ET.Element) -> list[float]:
    return [float(t) for t in ticks(root, "middle")]


def test_without_points_age_charts_show_the_first_five_years():
    root = parse(render_chart("lhfa", 1, [], labels=LABELS))
    values = tick_values(root)
    assert values[0] == 0 and values[-1] == 60
    assert values[1] - values[0] in (3, 6, 12)
    assert circles(root) == [] and list(root.iter(f"{SVG}polyline")) == []


def test_a_five_year_range_ends_on_the_standards_not_on_the_2007_reference():
    # The 2007 reference takes over exactly at 60 months, a little off the 2006 standards' last day.
    root = parse(render_chart("wfa", 1, [], labels=LABELS))
    (_, y0), (_, y1), (_, y2) = sd_paths(root)[3][-3:]
    assert abs((y2 - y1) - (y1 - y0)) < 0.5  # the last segment continues the line


@pytest.mark.parametrize(("measure", "low", "high"), [("l", 45, 110), ("h", 65, 120)])
def test_weight_for_length_range_is_clipped_to_the_table(measure, low, high):
    points = [ChartPoint(cm, 9.0, f"{cm} cm") for cm in (low - 5, low + 10, high - 10, high + 5)]
    root = parse(render_chart("wflh", 1, points, labels=LABELS, measure=measure))
    values = tick_values(root)
    assert low <= values[0] and values[-1] <= high
    assert len(circles(root)) == 2  # the two outside the table are not drawn
    # An explicit range beyond the table is clipped the same way: the lines span the whole plot.
    root = parse(render_chart("wflh", 1, [], labels=LABELS, measure=measure, x_range=(0, 500)))
    x0, _, x1, _ = frame(root)
    path = sd_paths(root)[0]
    assert path[0][0] == x0 and path[-1][0] == x1
    values = tick_values(root)
    assert values[0] >= low and values[-1] <= high
    # And without points, the whole table.
    values = tick_values(parse(render_chart("wflh", 1, [], labels=LABELS, measure=measure)))
    assert values[0] - low < 10 and high - values[-1] < 10


def test_range_fits_the_points_with_padding():
    points = [ChartPoint(d, 12.0, "") for d in (20 * DAYS_PER_MONTH, 30 * DAYS_PER_MONTH)]
    root = parse(render_chart("wfa", 1, points, labels=LABELS))
    values = tick_values(root)
    assert 12 <= values[0] < 20 and 30 < values[-1] <= 40
    x0, _, x1, _ = frame(root)
    for c in circles(root):
        assert x0 < float(c.get("cx", "")) < x1


def test_older_children_widen_the_range_beyond_five_years():
    root = parse(render_chart("wfa", 1, [ChartPoint(7 * 365.25, 22.0, "7 años")], labels=LABELS))
    assert max(tick_values(root)) >= 84
    assert len(circles(root)) == 1 and len(sd_paths(root)) == 5
    root = parse(render_chart("lhfa", 2, [ChartPoint(d, 100.0, "") for d in (400, 6000)], labels=LABELS))
    assert 6000 / DAYS_PER_MONTH < max(tick_values(root)) <= 228
    # Head circumference stops at 5 years: a later point is left out, the range stays within 60 months.
    root = parse(render_chart("hcfa", 1, [ChartPoint(d, 48.0, "") for d in (1500, 2500)], labels=LABELS))
    assert max(tick_values(root)) <= 60 and len(circles(root)) == 1


def test_a_single_point_gets_a_readable_range():
    root = parse(render_chart("wfa", 2, [ChartPoint(400, 9.0, "13 meses")], labels=LABELS))
    values = tick_values(root)
    assert values[-1] - values[0] >= 12
    assert len(circles(root)) == 1 and list(root.iter(f"{SVG}polyline")) == []


def test_points_outside_an_explicit_range_or_missing_are_not_drawn():
    points = [ChartPoint(100, 6.0, "a"), ChartPoint(500, 9.0, "b"), ChartPoint(900, float("nan"), "c")]
    root = parse(render_chart("wfa", 1, points, labels=LABELS, x_range=(0, 365)))
    assert [c.findtext(f"{SVG}title") for c in circles(root)] == ["a"]


def test_y_range_includes_points_far_beyond_the_lines():
    points = [ChartPoint(300, 30.0, "heavy"), ChartPoint(400, 1.0, "light")]
    root = parse(render_chart("wfa", 1, points, labels=LABELS))
    _, y0, _, y1 = frame(root)
    for c in circles(root):
        assert y0 <= float(c.get("cy", "")) <= y1


def test_polyline_joins_the_points_in_x_order():
    points = [ChartPoint(700, 11.0, "c"), ChartPoint(100, 5.0, "a"), ChartPoint(400, 8.0, "b")]
    root = parse(render_chart("wfa", 1, points, labels=LABELS))
    (line,) = root.iter(f"{SVG}polyline")
    xs = [float(pair.split(",")[0]) for pair in (line.get("points") or "").split()]
    assert xs == sorted(xs) and len(xs) == 3
    assert [c.findtext(f"{SVG}title") for c in circles(root)] == ["a", "b", "c"]


# --------------------------------------------------------------------------- safety and form


def test_tooltips_and_labels_are_escaped():
    evil = "<script>alert(\"x\")</script> & 'co' \x00\x1b"
    labels = ChartLabels(title=evil, x_axis=evil, y_axis=evil, months=evil)
    svg = render_chart("wfa", 1, [ChartPoint(200, 7.0, evil)], labels=labels)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)  # well-formed despite the control characters
    clean = evil[:-2]
    assert root.get("aria-label") == clean
    assert root.findtext(f"{SVG}title") == clean
    assert circles(root)[0].findtext(f"{SVG}title") == clean
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", "script")]


@pytest.mark.parametrize("indicator", ["wfa", "wflh"])
def test_no_style_no_script_no_event_handlers(indicator):
    points = [ChartPoint(70, 8.0, "x"), ChartPoint(80, 10.0, "y")]
    svg = render_chart(indicator, 2, points, labels=LABELS, x_range=None if indicator == "wflh" else (0, 400))
    assert "style" not in svg.replace("growth-chart", "")
    for element in parse(svg).iter():
        assert element.tag.removeprefix(SVG) not in {"style", "script", "foreignObject", "image", "a"}
        assert "style" not in element.attrib
        assert not [name for name in element.attrib if name.lower().startswith("on")]


def test_responsive_and_accessible_root():
    root = parse(render_chart("wfa", 1, [], labels=LABELS, width=480, height=360))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 480 360"
    assert root.get("width") == "100%" and root.get("height") is None
    assert root.get("preserveAspectRatio")
    assert root.get("role") == "img" and root.get("aria-label") == "Peso para la edad"
    assert root[0].tag == f"{SVG}title" and root[0].text == "Peso para la edad"
    # Every text has a font size, on itself or on its group.
    sized = {id(t) for t in root.iter(f"{SVG}text") if t.get("font-size")}
    for g in root.iter(f"{SVG}g"):
        if g.get("font-size"):
            sized |= {id(t) for t in g.iter(f"{SVG}text")}
    assert sized == {id(t) for t in root.iter(f"{SVG}text")}


def test_deterministic_and_independent_of_point_order():
    points = [ChartPoint(d, 4 + d / 150, f"{d} días") for d in (30, 200, 90, 400)]
    a = render_chart("wfa", 2, points, labels=LABELS)
    assert render_chart("wfa", 2, points, labels=LABELS) == a
    assert render_chart("wfa", 2, list(reversed(points)), labels=LABELS) == a
    assert render_chart("wfa", 2, [tuple(p) for p in points], labels=LABELS) == a


def test_compact_coordinates():
    svg = render_chart("lhfa", 1, [ChartPoint(d, 50 + d / 20, "") for d in range(0, 1800, 60)], labels=LABELS)
    for path in parse(svg).iter(f"{SVG}path"):
        assert not re.search(r"\d\.\d\d", path.get("d", ""))
    assert len(svg.encode()) < 16_000


def test_invalid_arguments():
    with pytest.raises(ValueError, match="indicator"):
        render_chart("tfa", 1, [], labels=LABELS)
    with pytest.raises(ValueError, match="sex"):
        render_chart("wfa", 3, [], labels=LABELS)
    with pytest.raises(ValueError, match="x_range"):
        render_chart("wflh", 1, [], labels=LABELS, x_range=(10, 20))
    with pytest.raises(ValueError, match="x_range"):
        render_chart("wfa", 1, [], labels=LABELS, x_range=(100, 100))


def test_the_chart_module_imports_no_django():
    code = (
        "import sys, crecer.lib.growth.chart as c\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'ninja')], 'django imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - a fresh interpreter, our own code
