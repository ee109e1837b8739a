"""Small server-side SVG charts for dashboards: a trend line and horizontal bars.

Presentation attributes only (no ``style``, no script), so they pass a strict Content-Security-Policy;
every label is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

INK, MUTED, ACCENT, TARGET = "#1d2733", "#5b6b7a", "#0b6e4f", "#d55e00"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend(
    points: Sequence[tuple[str, float | None]],
    *,
    width: int = 320,
    height: int = 90,
    target: float | None = None,
    title: str = "",
) -> str:
    """A line through the known values (gaps where a period has none), period labels underneath."""
    known = [v for _, v in points if v is not None]
    pad_x, pad_top, pad_bottom = 24, 12, 18
    if not known:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(title)}"><text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="11" '
            f'fill="{MUTED}">—</text></svg>'
        )
    low, high = (
        min([*known, *([target] if target is not None else [])]),
        max([*known, *([target] if target is not None else [])]),
    )
    if high == low:
        low, high = low - 1, high + 1
    span = high - low
    low, high = low - span * 0.1, high + span * 0.1
    step = (width - 2 * pad_x) / max(len(points) - 1, 1)

    def y(v: float) -> float:
        return round(pad_top + (high - v) / (high - low) * (height - pad_top - pad_bottom), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if target is not None:
        parts.append(
            f'<line x1="{pad_x}" x2="{width - pad_x}" y1="{y(target)}" y2="{y(target)}" stroke="{TARGET}" stroke-dasharray="4 3" stroke-width="1"/>'
        )
    segment: list[str] = []
    for i, (_label, value) in enumerate(points):
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
            segment = []
            continue
        segment.append(f"{round(pad_x + i * step, 1)},{y(value)}")
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for i, (label, value) in enumerate(points):
        x = round(pad_x + i * step, 1)
        if value is not None:
            parts.append(
                f'<circle cx="{x}" cy="{y(value)}" r="3" fill="{ACCENT}"><title>{escape(label)}: {_fmt(value)}</title></circle>'
            )
        parts.append(
            f'<text x="{x}" y="{height - 4}" text-anchor="middle" font-size="9" fill="{MUTED}">{escape(label)}</text>'
        )
    last = next((v for _, v in reversed(points) if v is not None), None)
    if last is not None:
        parts.append(
            f'<text x="{width - 2}" y="{pad_top}" text-anchor="end" font-size="11" fill="{INK}">{_fmt(last)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(rows: Sequence[tuple[str, float | None]], *, width: int = 480, unit: str = "", title: str = "") -> str:
    """Horizontal bars, one per labelled value (e.g. the territories of a ranking)."""
    bar_h, gap, label_w = 16, 6, 160
    height = max(len(rows), 1) * (bar_h + gap) + gap
    known = [v for _, v in rows if v is not None]
    top = max(known) if known else 1.0
    top = top if top > 0 else 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" font-size="11" fill="{INK}">{escape(label[:28])}</text>'
        )
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 12}" font-size="11" fill="{MUTED}">—</text>')
            continue
        length = round(max(value, 0) / top * (width - label_w - 50), 1)
        parts.append(f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar_h}" fill="{ACCENT}"/>')
        parts.append(
            f'<text x="{label_w + length + 4}" y="{y + 12}" font-size="11" fill="{INK}">{_fmt(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def projection(
    observed: Sequence[tuple[float, float]],
    points: Sequence[tuple[int, float, float, float]],
    *,
    targets: Sequence[tuple[int, float]] = (),
    width: int = 360,
    height: int = 220,
    unit: str = "",
    title: str = "",
) -> str:
    """An observed series (x a decimal year, value) as dots, its trend (year, value, low, high) as a line
    in a shaded band, yearly targets as crosses; a value axis with four ticks and a year axis."""
    values = [v for _, v in observed] + [v for p in points for v in p[1:]] + [t for _, t in targets]
    years = [x for x, _ in observed] + [p[0] + 0.5 for p in points] + [y + 0.5 for y, _ in targets]
    if not values:
        return trend([], width=width, height=height, title=title)
    pad_left, pad_right, pad_top, pad_bottom = 40, 10, 12, 24
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    span = high - low
    low, high = low - span * 0.05, high + span * 0.05
    first, last = int(min(years)), int(max(years)) + 1
    if last == first:
        last += 1

    def x(v: float) -> float:
        return round(pad_left + (v - first) / (last - first) * (width - pad_left - pad_right), 1)

    def y(v: float) -> float:
        return round(pad_top + (high - v) / (high - low) * (height - pad_top - pad_bottom), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_left}" x2="{pad_left}" y1="{pad_top}" y2="{height - pad_bottom}" stroke="{MUTED}" stroke-width="1"/>',
        f'<line x1="{pad_left}" x2="{width - pad_right}" y1="{height - pad_bottom}" y2="{height - pad_bottom}" stroke="{MUTED}" stroke-width="1"/>',
    ]
    for i in range(4):
        tick = low + (high - low) * i / 3
        parts.append(
            f'<text x="{pad_left - 4}" y="{y(tick) + 3}" text-anchor="end" font-size="9" fill="{MUTED}">{_fmt(tick)}{escape(unit)}</text>'
        )
        parts.append(
            f'<line x1="{pad_left}" x2="{width - pad_right}" y1="{y(tick)}" y2="{y(tick)}" stroke="{MUTED}" stroke-opacity="0.2" stroke-width="1"/>'
        )
    step = max(1, (last - first) // 6)
    for year in range(first, last + 1, step):
        parts.append(
            f'<text x="{x(year)}" y="{height - 8}" text-anchor="middle" font-size="9" fill="{MUTED}">{year}</text>'
        )
    if points:
        upper = " ".join(f"{x(p[0] + 0.5)},{y(p[3])}" for p in points)
        lower = " ".join(f"{x(p[0] + 0.5)},{y(p[2])}" for p in reversed(points))
        parts.append(f'<polygon points="{upper} {lower}" fill="{ACCENT}" fill-opacity="0.15" stroke="none"/>')
        line = " ".join(f"{x(p[0] + 0.5)},{y(p[1])}" for p in points)
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        end = points[-1]
        parts.append(
            f'<text x="{x(end[0] + 0.5)}" y="{y(end[1]) - 6}" text-anchor="end" font-size="10" fill="{INK}">{_fmt(end[1])}{escape(unit)}</text>'
        )
    for at, value in observed:
        parts.append(
            f'<circle cx="{x(at)}" cy="{y(value)}" r="3" fill="{INK}"><title>{_fmt(value)}{escape(unit)}</title></circle>'
        )
    for year, value in targets:
        cx, cy = x(year + 0.5), y(value)
        parts.append(
            f'<path d="M{cx - 4},{cy - 4}L{cx + 4},{cy + 4}M{cx - 4},{cy + 4}L{cx + 4},{cy - 4}" stroke="{TARGET}" stroke-width="2">'
            f"<title>{year}: {_fmt(value)}{escape(unit)}</title></path>"
        )
    parts.append("</svg>")
    return "".join(parts)
