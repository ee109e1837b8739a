"""Small server-side SVG charts for dashboards: a trend line with its axes and values, and horizontal bars.

Presentation attributes only (no ``style``, no script), so they pass a strict Content-Security-Policy;
every label is XML-escaped. Each chart is an image with a ``<title>`` and a ``<desc>`` that says every
value in words, so a screen reader reads what the eye sees. The charts scale to their box
(``width="100%"`` over a ``viewBox``): drawn 360 units wide, their text stays legible on a 390 px phone.
The words (axis names, "target", "no data") come translated from the caller: this module knows no
language.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from xml.sax.saxutils import escape

INK, MUTED, GRID, ACCENT, TARGET = "#1d2733", "#5b6b7a", "#d9e1e7", "#0b6e4f", "#d55e00"


def fmt(value: float, decimal: str = ".") -> str:
    """A value with at most one decimal, without trailing zeros, with the given decimal mark."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", decimal)


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values for an axis covering ``low``..``high``: about ``count`` of them, 1, 2, 2.5 or 5 times
    a power of ten apart (0, 20, 40…; 10, 12.5, 15…)."""
    if high < low:
        low, high = high, low
    if high == low:
        low, high = low - 1, high + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    out = []
    value = first
    while value <= high + step * 1e-9:
        out.append(round(value, 9))
        value = first + len(out) * step
    if out[-1] < high - step * 1e-9:
        out.append(round(first + len(out) * step, 9))
    return out


def trend(
    points: Sequence[tuple[str, float | None]],
    *,
    width: int = 360,
    height: int = 200,
    target: float | None = None,
    title: str = "",
    desc: str = "",
    unit: str = "",
    x_label: str = "",
    y_label: str = "",
    target_label: str = "",
    missing: str = "—",
    decimal: str = ".",
) -> str:
    """A line through the known values (gaps where a period has none): a vertical axis with round ticks
    (each with its unit), the periods along the horizontal axis, the axes' names and each value printed
    at its point; a dashed line for the target."""
    known = [v for _, v in points if v is not None]
    description = "; ".join(
        f"{escape(label)}: {missing if value is None else escape(fmt(value, decimal) + unit)}"
        for label, value in points
    )
    if target is not None:
        description += f"; {escape(target_label)} {escape(fmt(target, decimal) + unit)}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(desc) + ' ' if desc else ''}{description}</desc>"
    )
    if not known:  # a short box saying so, not an empty chart
        return (
            head.replace(f"0 0 {width} {height}", f"0 0 {width} 30")
            + f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="12" fill="{MUTED}">{escape(missing)}</text></svg>'
        )
    compact = height < 140
    scale = ticks(
        min([*known, *([target] if target is not None else [])]),
        max([*known, *([target] if target is not None else [])]),
        3 if compact else 5,
    )
    low, high = scale[0], scale[-1]
    tick_width = max(len(fmt(t, decimal) + unit) for t in scale) * 6 + 6
    left = tick_width + (18 if y_label else 4)
    right, top = 14, 18
    bottom = 18 + (16 if x_label else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    inner = 20  # room for the first and last values and periods
    step = (plot_w - 2 * inner) / max(len(points) - 1, 1)
    offset = inner if len(points) > 1 else plot_w / 2

    def x(i: int) -> float:
        return round(left + offset + i * step, 1)

    def y(v: float) -> float:
        return round(top + (high - v) / (high - low) * plot_h, 1)

    parts = [head]
    for t in scale:  # the vertical axis: a grid line and a labelled tick per round value
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t)}" y2="{y(t)}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y(t) + 3.5}" text-anchor="end" font-size="10" fill="{MUTED}">'
            f"{escape(fmt(t, decimal) + unit)}</text>"
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}" stroke-width="1"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{MUTED}" '
        f'stroke-width="1"/>'
    )
    if y_label:
        middle = round(top + plot_h / 2, 1)
        parts.append(
            f'<text x="11" y="{middle}" text-anchor="middle" font-size="11" fill="{INK}" '
            f'transform="rotate(-90 11 {middle})">{escape(y_label)}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{round(left + plot_w / 2, 1)}" y="{height - 3}" text-anchor="middle" font-size="11" '
            f'fill="{INK}">{escape(x_label)}</text>'
        )
    if target is not None:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(target)}" y2="{y(target)}" stroke="{TARGET}" '
            f'stroke-dasharray="4 3" stroke-width="1"/>'
        )
        if target_label:
            parts.append(
                f'<text x="{width - right}" y="{y(target) - 3}" text-anchor="end" font-size="9" fill="{TARGET}">'
                f"{escape(target_label)} {escape(fmt(target, decimal) + unit)}</text>"
            )
    segment: list[str] = []
    for i, (_label, value) in enumerate([*points, ("", None)]):
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
            segment = []
            continue
        segment.append(f"{x(i)},{y(value)}")
    axis_y = top + plot_h
    for i, (label, value) in enumerate(points):
        parts.append(
            f'<text x="{x(i)}" y="{axis_y + 13}" text-anchor="middle" font-size="10" fill="{MUTED}">{escape(label)}</text>'
        )
        if value is None:
            continue
        shown = escape(fmt(value, decimal) + unit)
        parts.append(
            f'<circle cx="{x(i)}" cy="{y(value)}" r="3" fill="{ACCENT}"><title>{escape(label)}: {shown}</title></circle>'
            f'<text x="{x(i)}" y="{round(y(value) - 6, 1)}" text-anchor="middle" font-size="11" font-weight="bold" '
            f'fill="{INK}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    width: int = 360,
    unit: str = "",
    title: str = "",
    missing: str = "—",
    decimal: str = ".",
) -> str:
    """Horizontal bars, one per labelled value (e.g. the territories of a ranking): each label whole,
    wrapped over as many lines as it needs above its bar, and the value printed at the bar's end."""
    line_h, bar_h, gap = 13, 14, 8
    chars = max(20, (width - 8) // 6)
    labels = [textwrap.wrap(label, chars) or [""] for label, _ in rows]
    height = sum(len(lines) * line_h + bar_h + gap for lines in labels) + gap
    known = [v for _, v in rows if v is not None]
    top = max(known) if known else 1.0
    top = top if top > 0 else 1.0
    description = "; ".join(
        f"{escape(label)}: {missing if value is None else escape(fmt(value, decimal) + unit)}" for label, value in rows
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title><desc>{description}</desc>',
    ]
    y = gap
    for lines, (_label, value) in zip(labels, rows, strict=True):
        for line in lines:
            y += line_h
            parts.append(f'<text x="2" y="{y - 2}" font-size="11" fill="{INK}">{escape(line)}</text>')
        if value is None:
            parts.append(f'<text x="2" y="{y + 11}" font-size="11" fill="{MUTED}">{escape(missing)}</text>')
        else:
            length = round(max(value, 0) / top * (width - 60), 1)
            parts.append(
                f'<rect x="2" y="{y}" width="{length}" height="{bar_h}" fill="{ACCENT}"/>'
                f'<text x="{round(length + 6, 1)}" y="{y + 11}" font-size="11" font-weight="bold" fill="{INK}">'
                f"{escape(fmt(value, decimal) + unit)}</text>"
            )
        y += bar_h + gap
    parts.append("</svg>")
    return "".join(parts)
