"""Server-side SVG of a WHO growth chart: the reference SD lines and one child's measurements.

Pure Python (plus the numpy the curves already use): no Django, no charting library, no script.
The SVG uses presentation attributes only (``fill``, ``stroke``, ``font-size`` ...), never a
``style`` attribute or ``<style>`` element, so it renders under a Content-Security-Policy of
``style-src 'self'``. Every text taken from the caller is XML-escaped. The output depends only on
the arguments (same input, same string) and scales to the width of its container (``viewBox``,
``width="100%"``).

>>> from crecer.lib.growth.chart import ChartLabels, ChartPoint, render_chart
>>> svg = render_chart(
...     "wfa", 2, [ChartPoint(365.25, 9.6, "12 meses · 9,6 kg · z 0,7")],
...     labels=ChartLabels(title="Peso para la edad", x_axis="Edad", y_axis="Peso"),
... )
>>> svg.startswith("<svg")
True
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .compute import DAYS_PER_MONTH
from .curves import reference_curve

__all__ = ["CHART_INDICATORS", "ChartLabels", "ChartPoint", "render_chart"]

SDS: tuple[int, ...] = (-3, -2, 0, 2, 3)
_SD_TEXT = {-3: "−3", -2: "−2", 0: "0", 2: "+2", 3: "+3"}  # U+2212 minus sign
# Okabe-Ito palette (safe for the common colour-vision deficiencies); dash patterns tell the lines apart too.
_SD_COLOUR = {3: "#000000", 2: "#D55E00", 0: "#009E73"}
_POINT_COLOUR = "#0072B2"
_GRID_COLOUR = "#E4E4E4"
_FRAME_COLOUR = "#8C8C8C"
_TEXT_COLOUR = "#333333"

_SAMPLES = 120  # points per reference line

# Age-based indicators: the chart's domain in months (the curves exist there) and the y unit.
_AGE_DOMAIN_MONTHS = {"wfa": (0, 120), "lhfa": (0, 228), "bmi": (0, 228), "hcfa": (0, 60), "acfa": (3, 60)}
# The curve's own domain in days where it is narrower than the displayed one (tables end at day 1826).
_AGE_DOMAIN_DAYS = {"hcfa": (0.0, 1826.0), "acfa": (91.0, 1826.0)}
_UNDER_FIVE_MONTHS = 60  # also the range shown without measurements
_LAST_STANDARDS_DAY = 1826.0
_LENGTH_DOMAIN_CM = {"wfl": (45, 110), "wfh": (65, 120)}
_Y_UNIT = {"wfa": "kg", "lhfa": "cm", "bmi": "kg/m²", "hcfa": "cm", "acfa": "cm", "wfl": "kg", "wfh": "kg"}
CHART_INDICATORS: tuple[str, ...] = (*_AGE_DOMAIN_MONTHS, *_LENGTH_DOMAIN_CM, "wflh")

_MONTH_STEPS = (1, 3, 6, 12, 24)
_CM_STEPS = (1, 2, 5, 10, 20)
_Y_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
_MIN_SPAN = {"months": 12.0, "cm": 10.0}
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # not allowed in XML 1.0


class ChartPoint(NamedTuple):
    """One measurement: ``x`` in the curve's units (age in days, or length/height in cm), ``y`` the value.

    ``label`` is the tooltip, formatted by the caller (e.g. ``"12 meses · 9,6 kg · z −0,4"``).
    """

    x: float
    y: float
    label: str = ""


@dataclass(frozen=True)
class ChartLabels:
    """The words of the chart, translated by the caller; all are escaped when embedded.

    ``title`` is the accessible name (``aria-label`` and ``<title>``). The axis titles get their
    unit appended: ``"Edad"`` becomes ``"Edad (meses)"`` with ``months="meses"``, ``"Peso"`` becomes
    ``"Peso (kg)"``. ``decimal`` is the decimal separator of tick labels.
    """

    title: str
    x_axis: str
    y_axis: str
    months: str = "meses"
    decimal: str = ","


def render_chart(
    indicator: str,
    sex: int,
    points: Iterable[tuple[float, float, str]],
    *,
    labels: ChartLabels,
    measure: str | None = None,
    x_range: tuple[float, float] | None = None,
    width: int = 640,
    height: int = 400,
) -> str:
    """Render one WHO growth chart as an ``<svg>`` element string.

    Args:
        indicator: ``wfa``, ``lhfa``, ``bmi``, ``hcfa``, ``acfa`` (x = age in days, drawn in
            months) or ``wfl`` (45-110 cm), ``wfh`` (65-120 cm), ``wflh`` (``wfh`` if
            ``measure == "h"`` else ``wfl``) (x = length/height in cm).
        sex: 1 = male, 2 = female.
        points: the child's measurements, ``(x, y, label)`` (see :class:`ChartPoint`), any order;
            those with a missing (NaN) x or y are skipped.
        labels: the chart's words (:class:`ChartLabels`).
        measure: ``"l"`` or ``"h"`` for ``wflh``.
        x_range: ``(low, high)`` in the units of the points' x (days or cm); default: fitted to the
            points with some padding (0-60 months or the whole length range without points),
            always within the reference's domain. Points outside the x range are not drawn.
        width, height: the size of the ``viewBox``; the SVG itself is ``width="100%"``.

    Returns:
        The ``<svg>`` element (UTF-8 text, no XML declaration), ready to embed in a page.
    """
    if indicator == "wflh":
        indicator = "wfh" if (measure or "").lower() == "h" else "wfl"
    if indicator not in _Y_UNIT:
        raise ValueError(f"unknown indicator {indicator!r}; expected one of {CHART_INDICATORS}")
    if sex not in (1, 2):
        raise ValueError("sex must be 1 (male) or 2 (female)")
    if width < 200 or height < 150:
        raise ValueError("the chart needs a viewBox of at least 200 x 150")
    by_age = indicator in _AGE_DOMAIN_MONTHS
    scale = DAYS_PER_MONTH if by_age else 1.0  # curve units (days or cm) per displayed unit (months or cm)
    domain = _AGE_DOMAIN_MONTHS[indicator] if by_age else _LENGTH_DOMAIN_CM[indicator]
    steps = _MONTH_STEPS if by_age else _CM_STEPS

    # Points in displayed units, finite only.
    given = []
    for raw_x, raw_y, label in points:
        x, y = float(raw_x), float(raw_y)
        if math.isfinite(x) and math.isfinite(y):
            given.append((x / scale, y, str(label)))
    given.sort(key=lambda p: (p[0], p[1]))

    fs = width / 32  # base font size: about 11 px when the chart is shrunk to a 360 px phone
    k = width / 640  # line widths scale with the chart
    layout = _Layout(width, height, fs)
    max_x_ticks = max(2, int(layout.plot_width() / (fs * 2.6)))

    if x_range is None:
        inside = [p for p in given if domain[0] <= p[0] <= domain[1]]
        x_lo, x_hi, x_step = _auto_x_range(inside, domain, steps, by_age, max_x_ticks)
    else:
        lo, hi = float(x_range[0]) / scale, float(x_range[1]) / scale
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("x_range must be finite")
        x_lo, x_hi = max(lo, domain[0]), min(hi, domain[1])
        if x_lo >= x_hi:
            raise ValueError(f"x_range {x_range} is empty or outside the reference's domain")
        x_step = _pick_step(x_hi - x_lo, steps, max_x_ticks)
    shown = [p for p in given if x_lo <= p[0] <= x_hi]

    _samples, values = _reference(indicator, sex, x_lo, x_hi)

    finite = values[np.isfinite(values)]
    ys = [*finite.tolist(), *(p[1] for p in shown)]
    if not ys:
        raise ValueError("nothing to draw: no reference values in the x range")
    y_lo, y_hi = min(ys), max(ys)
    pad = max((y_hi - y_lo) * 0.04, 0.05)
    max_y_ticks = max(2, int(layout.plot_height() / (fs * 2.2)))
    y_step = _pick_step(y_hi - y_lo + 2 * pad, _Y_STEPS, max_y_ticks)
    low = math.floor((y_lo - pad) / y_step) * y_step
    y_lo = low if y_lo < 0 else max(0.0, low)  # padding never takes a positive measure's axis below 0
    y_hi = math.ceil((y_hi + pad) / y_step) * y_step
    y_decimals = max(0, -math.floor(math.log10(y_step) + 1e-9))

    y_labels = [_fmt_tick(v, y_decimals, labels.decimal) for v in _ticks(y_lo, y_hi, y_step)]
    layout.fit_left(max(len(t) for t in y_labels))
    px = _Scale(x_lo, x_hi, layout.left, layout.right)
    py = _Scale(y_lo, y_hi, layout.bottom, layout.top)

    x_unit = labels.months if by_age else "cm"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{_attr(labels.title)}" '
        f'font-family="sans-serif" class="growth-chart">',
        f"<title>{_text(labels.title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#FFFFFF"/>',
    ]

    # Grid and ticks.
    x_ticks = _ticks(x_lo, x_hi, x_step)
    y_ticks = _ticks(y_lo, y_hi, y_step)
    grid = [f"M{_n(px(v))} {_n(layout.top)}V{_n(layout.bottom)}" for v in x_ticks]
    grid += [f"M{_n(layout.left)} {_n(py(v))}H{_n(layout.right)}" for v in y_ticks]
    out.append(f'<path d="{"".join(grid)}" fill="none" stroke="{_GRID_COLOUR}" stroke-width="{_n(k)}"/>')
    out.append(
        f'<rect x="{_n(layout.left)}" y="{_n(layout.top)}" width="{_n(layout.right - layout.left)}" '
        f'height="{_n(layout.bottom - layout.top)}" fill="none" stroke="{_FRAME_COLOUR}" stroke-width="{_n(k)}"/>'
    )
    tick_fs = fs * 0.9
    out.append(f'<g font-size="{_n(tick_fs)}" fill="{_TEXT_COLOUR}" text-anchor="middle">')
    x_decimals = 0 if all(float(v).is_integer() for v in x_ticks) else 1
    x_label_y = _n(layout.bottom + tick_fs * 1.2)
    for v in x_ticks:
        out.append(f'<text x="{_n(px(v))}" y="{x_label_y}">{_fmt_tick(v, x_decimals, labels.decimal)}</text>')
    out.append("</g>")
    out.append(f'<g font-size="{_n(tick_fs)}" fill="{_TEXT_COLOUR}" text-anchor="end">')
    for v, text in zip(y_ticks, y_labels, strict=True):
        out.append(f'<text x="{_n(layout.left - fs * 0.35)}" y="{_n(py(v))}" dy="0.35em">{text}</text>')
    out.append("</g>")

    # Axis titles.
    out.append(
        f'<text x="{_n((layout.left + layout.right) / 2)}" y="{_n(height - fs * 0.45)}" font-size="{_n(fs)}" '
        f'fill="{_TEXT_COLOUR}" text-anchor="middle">{_text(f"{labels.x_axis} ({x_unit})")}</text>'
    )
    yx, yy = fs * 1.0, (layout.top + layout.bottom) / 2
    out.append(
        f'<text x="{_n(yx)}" y="{_n(yy)}" transform="rotate(-90 {_n(yx)} {_n(yy)})" font-size="{_n(fs)}" '
        f'fill="{_TEXT_COLOUR}" text-anchor="middle">{_text(f"{labels.y_axis} ({_Y_UNIT[indicator]})")}</text>'
    )

    # Reference lines (outer first, so the median is drawn on top) and their labels at the right end.
    ends: list[tuple[float, int]] = []
    paths = _reference_paths(
        indicator, sex, x_lo, x_hi, (x_lo, x_hi, layout.left, layout.right), (y_lo, y_hi, layout.bottom, layout.top)
    )
    for i in sorted(range(len(SDS)), key=lambda i: -abs(SDS[i])):
        sd = SDS[i]
        d, last_y = paths[i]
        if not d:
            continue
        colour = _SD_COLOUR[abs(sd)]
        if sd == 0:
            dash = ""
            sw = 2.4 * k
        elif abs(sd) == 2:
            dash = f' stroke-dasharray="{_n(8 * k)} {_n(5 * k)}"'
            sw = 1.8 * k
        else:
            dash = f' stroke-dasharray="{_n(2 * k)} {_n(3.5 * k)}"'
            sw = 1.8 * k
        out.append(
            f'<path class="sd" data-sd="{sd}" d="{d}" fill="none" stroke="{colour}" stroke-width="{_n(sw)}"'
            f'{dash} stroke-linejoin="round"/>'
        )
        ends.append((last_y, sd))
    out.append(f'<g font-size="{_n(fs)}" font-weight="bold" text-anchor="start">')
    for y, sd in _spread(sorted(ends), fs * 0.95, layout.top, layout.bottom):
        out.append(
            f'<text x="{_n(layout.right + fs * 0.3)}" y="{_n(y)}" dy="0.35em" '
            f'fill="{_SD_COLOUR[abs(sd)]}">{_SD_TEXT[sd]}</text>'
        )
    out.append("</g>")

    # The child's measurements: a thin line in x order, then the points with their tooltips.
    if len(shown) > 1:
        coords = " ".join(f"{_n(px(x))},{_n(py(y))}" for x, y, _ in shown)
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{_POINT_COLOUR}" stroke-width="{_n(1.4 * k)}" '
            f'stroke-linejoin="round"/>'
        )
    if shown:
        out.append(f'<g fill="{_POINT_COLOUR}" stroke="#FFFFFF" stroke-width="{_n(1.2 * k)}">')
        r = _n(fs * 0.33)
        for x, y, label in shown:
            circle = f'<circle cx="{_n(px(x))}" cy="{_n(py(y))}" r="{r}"'
            out.append(f"{circle}><title>{_text(label)}</title></circle>" if label else f"{circle}/>")
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


@functools.lru_cache(maxsize=256)
def _reference(indicator: str, sex: int, x_lo: float, x_hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The reference lines (one row per SD of :data:`SDS`) sampled evenly over the x range (in displayed
    units), in the curve's own units and within its domain; and the sampled x. Static tables: computed
    once per process for each range (read-only arrays)."""
    by_age = indicator in _AGE_DOMAIN_MONTHS
    scale = DAYS_PER_MONTH if by_age else 1.0
    xs = np.linspace(x_lo, x_hi, _SAMPLES)
    curve_x = xs * scale
    if indicator in _AGE_DOMAIN_DAYS:
        curve_x = np.clip(curve_x, *_AGE_DOMAIN_DAYS[indicator])
    elif by_age and x_hi == _UNDER_FIVE_MONTHS:
        # A range ending at 5 years ends on the 2006 standards (their last day), not on the first
        # value of the 2007 reference, which starts exactly at 60 months and is a little off.
        curve_x[-1] = _LAST_STANDARDS_DAY
    values = np.asarray(reference_curve(indicator, sex, SDS, curve_x).values)
    xs.setflags(write=False)
    values.setflags(write=False)
    return xs, values


@functools.lru_cache(maxsize=1024)
def _reference_paths(
    indicator: str,
    sex: int,
    x_lo: float,
    x_hi: float,
    x_scale: tuple[float, float, float, float],
    y_scale: tuple[float, float, float, float],
) -> tuple[tuple[str, float], ...]:
    """The SVG path of each reference line (in :data:`SDS` order) and its last y, for these axes
    (``x_scale``/``y_scale``: the arguments of :class:`_Scale`). A pure function of its arguments, kept
    per process: charts of children with the same axes (most of them) share it."""
    xs, values = _reference(indicator, sex, x_lo, x_hi)
    px, py = _Scale(*x_scale), _Scale(*y_scale)
    return tuple(_path(xs, values[i], px, py) for i in range(len(SDS)))


class _Layout:
    """The plot rectangle inside the viewBox: room for tick labels, axis titles and SD labels."""

    def __init__(self, width: int, height: int, fs: float) -> None:
        self.fs = fs
        self.left = fs * 4.2
        self.right = width - fs * 2.2
        self.top = fs * 0.8
        self.bottom = height - fs * 2.9

    def fit_left(self, label_chars: int) -> None:
        # y title (rotated) + tick labels (about 0.55 em per character) + a gap.
        self.left = self.fs * (1.7 + 0.55 * 0.9 * label_chars + 0.45)

    def plot_width(self) -> float:
        return self.right - self.left

    def plot_height(self) -> float:
        return self.bottom - self.top


class _Scale:
    """Linear map from data units to viewBox units."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        self.d0, self.r0 = d0, r0
        self.k = (r1 - r0) / (d1 - d0)

    def __call__(self, v: float) -> float:
        return self.r0 + (v - self.d0) * self.k


def _pick_step(span: float, steps: Sequence[float], max_ticks: int) -> float:
    for step in steps:
        if span / step <= max_ticks:
            return step
    return steps[-1] * math.ceil(span / (steps[-1] * max_ticks))


def _auto_x_range(
    points: list[tuple[float, float, str]],
    domain: tuple[float, float],
    steps: Sequence[float],
    by_age: bool,
    max_ticks: int,
) -> tuple[float, float, float]:
    """The points' x extent, padded, at least a minimum span, snapped to ticks, within the domain."""
    d_lo, d_hi = float(domain[0]), float(domain[1])
    if not points:
        lo, hi = (d_lo, min(d_hi, float(_UNDER_FIVE_MONTHS))) if by_age else (d_lo, d_hi)
        return lo, hi, _pick_step(hi - lo, steps, max_ticks)
    lo, hi = points[0][0], points[-1][0]
    pad = (hi - lo) * 0.08 + (1.0 if by_age else 2.0)
    lo, hi = lo - pad, hi + pad
    min_span = min(_MIN_SPAN["months" if by_age else "cm"], d_hi - d_lo)
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    lo, hi = max(lo, d_lo), min(hi, d_hi)
    if hi - lo < min_span:  # cut by a bound of the domain: extend on the other side
        lo, hi = (d_lo, d_lo + min_span) if lo == d_lo else (d_hi - min_span, d_hi)
    step = _pick_step(hi - lo, steps, max_ticks)
    lo = max(d_lo, math.floor(lo / step + 1e-9) * step)
    hi = min(d_hi, math.ceil(hi / step - 1e-9) * step)
    return lo, hi, step


def _ticks(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(i * step, 6) for i in range(first, last + 1)]


def _path(xs: np.ndarray, ys: np.ndarray, px: _Scale, py: _Scale) -> tuple[str, float]:
    """SVG path data through the finite samples (a gap where the curve is undefined); and the last y."""
    parts: list[str] = []
    pen_down = False
    previous = ""
    last_y = math.nan
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if not math.isfinite(y):
            pen_down = False
            continue
        last_y = py(y)
        xy = f"{_n(px(x))} {_n(last_y)}"
        if pen_down and xy == previous:
            continue
        parts.append(("L" if pen_down else "M") + xy)
        pen_down, previous = True, xy
    return "".join(parts), last_y


def _spread(items: list[tuple[float, int]], gap: float, top: float, bottom: float) -> list[tuple[float, int]]:
    """Move label positions (sorted by y) apart by at least ``gap``, keeping them between top and bottom."""
    ys = [y for y, _ in items]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    if ys and ys[-1] > bottom:
        ys[-1] = bottom
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    ys = [max(y, top) for y in ys]
    return [(y, sd) for y, (_, sd) in zip(ys, items, strict=True)]


def _n(v: float) -> str:
    """A coordinate rounded to 1 decimal, without a trailing ``.0`` or a negative zero."""
    s = f"{round(v, 1):.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def _fmt_tick(v: float, decimals: int, sep: str) -> str:
    return _text(f"{v:.{decimals}f}".replace(".", sep).replace("-", "−"))


def _text(s: str) -> str:
    """Escape text content (and drop characters XML cannot carry)."""
    s = _CONTROL_CHARS.sub("", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(s: str) -> str:
    """Escape an attribute value in double quotes."""
    return _text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;").replace("\r", "&#13;")
