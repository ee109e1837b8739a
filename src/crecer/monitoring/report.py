"""The printable municipal report (PDF): figures against targets, a ranking chart, data quality.

Built with ReportLab (a Python package: no external tool, no font download, works offline)."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crecer.lib.periods import Period
from crecer.monitoring import definitions, quality
from crecer.monitoring.models import Snapshot
from crecer.territories.models import Territory

#: the colours of the charts (the dashboards' own)
VALUE_COLOUR, TARGET_COLOUR, LINE_COLOUR = colors.HexColor("#0b6e4f"), colors.HexColor("#d55e00"), "#c9d3da"


def _fmt(value: Any) -> str:
    """A figure as printed: counts whole, values with at most one decimal, in the language's notation."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def _value(values: dict[Any, Any], code: str, territory_id: int) -> float | None:
    figure = values.get((code, territory_id, ""))
    return None if figure is None else figure.value


def _bar(value: float | None, top: float, width: float, target: float | None = None) -> Drawing:
    """One row's bar: its value's length on a common scale (``top``), and the target as a tick."""
    drawing = Drawing(width, 10)
    drawing.add(Rect(0, 1, width, 8, fillColor=colors.HexColor("#f1f4f6"), strokeColor=None))
    if value is not None and top > 0:
        drawing.add(Rect(0, 1, max(value, 0) / top * width, 8, fillColor=VALUE_COLOUR, strokeColor=None))
    if target is not None and top > 0:
        x = min(max(target, 0) / top * width, width - 1)
        drawing.add(Rect(x, 0, 1.5, 10, fillColor=TARGET_COLOUR, strokeColor=None))
    return drawing


def _table(rows: list[list[Any]], widths: list[float], *, numbers_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe9")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor(LINE_COLOUR)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (numbers_from, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _target_chart(
    territory: Territory, values: dict[Any, Any], targets: dict[Any, Any], language: str, width: float, styles: Any
) -> list[Any]:
    """Value and target side by side for every percentage indicator with a target: each indicator's whole
    name (wrapped, never cut), its value and target in figures, and a bar with the target's tick."""
    rows = [
        (i.name(language), _value(values, i.code, territory.pk), targets[(i.code, territory.pk)].target)
        for i in definitions.indicators()
        if i.unit == "percent" and (i.code, territory.pk) in targets
    ]
    if not rows:
        return []
    bar_width = width - 12.6 * cm
    table = _table(
        [
            [_("Indicator"), _("Value"), _("Target"), _("Value (green) and target (orange), 0–100 %")],
            *[
                [
                    Paragraph(escape(name), styles["BodyText"]),
                    _fmt(value),
                    _fmt(target),
                    _bar(value, 100, bar_width, target),
                ]
                for name, value, target in rows
            ],
        ],
        [8.6 * cm, 1.8 * cm, 1.8 * cm, bar_width + 0.4 * cm],
    )
    legend = Paragraph(
        _("Value (green) and target (orange), in percent, for the indicators with a target."), styles["BodyText"]
    )
    return [Paragraph(_("Progress against targets"), styles["Heading2"]), legend, table, Spacer(1, 0.3 * cm)]


def _ranking(
    indicator: definitions.Indicator, ranking: list[tuple[Territory, Any]], language: str, width: float, styles: Any
) -> list[Any]:
    """The territories below ranked by an indicator (best first): rank, whole name, value, numerator and
    denominator, and a bar on a common scale."""
    known = [v.value for _, v in ranking if v is not None and v.value is not None]
    top = max(known, default=0) or 1.0
    bar_width = width - 13.2 * cm
    median = indicator.unit == "median_days"
    rows: list[list[Any]] = [
        ["#", _("Territory"), _("Value"), _("Cases") if median else _("Numerator / denominator"), ""]
    ]
    for rank, (territory, v) in enumerate(ranking, start=1):
        value = v.value if v is not None else None
        counts = "—" if v is None else _fmt(v.denominator) if median else f"{_fmt(v.numerator)} / {_fmt(v.denominator)}"
        rows.append(
            [
                str(rank),
                Paragraph(escape(territory.name), styles["BodyText"]),
                _fmt(value),
                counts,
                _bar(value, top, bar_width),
            ]
        )
    better = _("higher is better") if indicator.direction == "higher" else _("lower is better")
    return [
        Paragraph(
            escape(_("Ranking of territories: %(name)s") % {"name": indicator.name(language)}), styles["Heading2"]
        ),
        Paragraph(_("Best first (%(better)s).") % {"better": better}, styles["BodyText"]),
        _table(rows, [0.8 * cm, 6.6 * cm, 1.8 * cm, 3.6 * cm, bar_width + 0.2 * cm], numbers_from=2),
        Spacer(1, 0.3 * cm),
    ]


def render_pdf(
    territory: Territory,
    period: Period,
    snapshot: Snapshot | None,
    values: dict[Any, Any],
    targets: dict[Any, Any],
    ranking: list[tuple[Territory, Any]],
    language: str,
    focus: definitions.Indicator | None = None,
) -> bytes:
    """The report of ``territory``: figures by axis against targets, the territories below ranked by
    ``focus`` (the first indicator by default) with their values, and data quality."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=1.6 * cm, rightMargin=1.6 * cm, topMargin=1.5 * cm, bottomMargin=1.5 * cm
    )
    styles = getSampleStyleSheet()
    source = (
        _("snapshot %(period)s, revision %(revision)s, fingerprint %(fp)s")
        % {"period": snapshot.period, "revision": snapshot.revision, "fp": snapshot.fingerprint[:12]}
        if snapshot
        else _("computed live (no snapshot of this period)")
    )
    story: list[Any] = [
        Paragraph(escape(f"Crecer — {territory.name} ({territory.code})"), styles["Title"]),
        Paragraph(
            _("Period %(period)s · %(source)s · printed %(date)s")
            % {
                "period": period.code,
                "source": source,
                "date": formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
            },
            styles["Normal"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    story += _target_chart(territory, values, targets, language, doc.width, styles)
    for axis, label in definitions.AXIS_LABELS.items():
        items = [i for i in definitions.indicators() if i.axis == axis]
        if not items:
            continue
        story.append(Paragraph(escape(str(label)), styles["Heading2"]))
        rows = [[_("Indicator"), _("Numerator"), _("Denominator"), _("Value"), _("Target")]]
        for indicator in items:
            v = values.get((indicator.code, territory.pk, ""))
            t = targets.get((indicator.code, territory.pk))
            rows.append(
                [
                    Paragraph(escape(indicator.name(language)), styles["BodyText"]),
                    _fmt(v.numerator if v else None),
                    _fmt(v.denominator if v else None),
                    _fmt(v.value if v else None),
                    _fmt(t.target if t else None),
                ]
            )
        table = _table(rows, [9 * cm, 2 * cm, 2.2 * cm, 1.8 * cm, 1.6 * cm])
        story += [table, Spacer(1, 0.3 * cm)]
    if ranking:
        story += _ranking(focus or definitions.indicators()[0], ranking, language, doc.width, styles)
    story.append(Paragraph(_("Data quality"), styles["Heading2"]))
    quality_rows = [[_("Check"), _("Value")]] + [
        [
            Paragraph(escape(q.name(language)), styles["BodyText"]),
            _fmt(_value(values, q.code, territory.pk)),
        ]
        for q in quality.QUALITY
    ]
    table = Table(quality_rows, colWidths=[13 * cm, 3 * cm])
    table.setStyle(
        TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3da"))])
    )
    story.append(table)
    doc.build(story)
    return buffer.getvalue()
