"""The printable municipal report (PDF): figures against targets, a ranking chart, data quality.

Built with ReportLab (a Python package: no external tool, no font download, works offline)."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crecer.lib.periods import Period
from crecer.monitoring import definitions, quality
from crecer.monitoring.models import Snapshot
from crecer.territories.models import Territory


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _value(values: dict[Any, Any], code: str, territory_id: int) -> float | None:
    figure = values.get((code, territory_id, ""))
    return None if figure is None else figure.value


def _target_chart(
    territory: Territory, values: dict[Any, Any], targets: dict[Any, Any], language: str, width: float, styles: Any
) -> list[Any]:
    """Value and target side by side for every percentage indicator with a target."""
    rows = [
        (i.name(language), _value(values, i.code, territory.pk) or 0.0, targets[(i.code, territory.pk)].target)
        for i in definitions.indicators()
        if i.unit == "percent" and (i.code, territory.pk) in targets
    ]
    if not rows:
        return []
    height = 22 * len(rows) + 40
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 190, 25, width - 210, height - 35
    chart.data = [[r[1] for r in rows], [r[2] for r in rows]]
    chart.categoryAxis.categoryNames = [r[0] if len(r[0]) <= 45 else r[0][:44] + "…" for r in rows]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#0b6e4f")
    chart.bars[1].fillColor = colors.HexColor("#d55e00")
    drawing.add(chart)
    legend = Paragraph(
        _("Value (green) and target (orange), in percent, for the indicators with a target."), styles["BodyText"]
    )
    return [Paragraph(_("Progress against targets"), styles["Heading2"]), legend, drawing, Spacer(1, 0.3 * cm)]


def _bar_chart(rows: list[tuple[str, float]], width: float) -> Drawing:
    height = 14 * len(rows) + 30
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 110, 15, width - 130, height - 25
    chart.data = [[v for _, v in rows]]
    chart.categoryAxis.categoryNames = [name[:22] for name, _ in rows]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#0b6e4f")
    drawing.add(chart)
    return drawing


def render_pdf(
    territory: Territory,
    period: Period,
    snapshot: Snapshot | None,
    values: dict[Any, Any],
    targets: dict[Any, Any],
    below: list[Territory],
    language: str,
) -> bytes:
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
        Paragraph(f"Crecer — {territory.name} ({territory.code})", styles["Title"]),
        Paragraph(
            _("Period %(period)s · %(source)s · printed %(date)s")
            % {"period": period.code, "source": source, "date": timezone.localdate()},
            styles["Normal"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    story += _target_chart(territory, values, targets, language, doc.width, styles)
    for axis, label in definitions.AXIS_LABELS.items():
        items = [i for i in definitions.indicators() if i.axis == axis]
        if not items:
            continue
        story.append(Paragraph(str(label), styles["Heading2"]))
        rows = [[_("Indicator"), _("Numerator"), _("Denominator"), _("Value"), _("Target")]]
        for indicator in items:
            v = values.get((indicator.code, territory.pk, ""))
            t = targets.get((indicator.code, territory.pk))
            rows.append(
                [
                    Paragraph(indicator.name(language), styles["BodyText"]),
                    _fmt(v.numerator if v else None),
                    _fmt(v.denominator if v else None),
                    _fmt(v.value if v else None),
                    _fmt(t.target if t else None),
                ]
            )
        table = Table(rows, colWidths=[9 * cm, 2 * cm, 2.2 * cm, 1.8 * cm, 1.6 * cm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe9")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3da")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ]
            )
        )
        story += [table, Spacer(1, 0.3 * cm)]
    if below:
        indicator = definitions.indicators()[0]
        chart_rows = [(t.name, _value(values, indicator.code, t.pk) or 0.0) for t in below]
        story += [Paragraph(indicator.name(language), styles["Heading2"]), _bar_chart(chart_rows, doc.width)]
    story.append(Paragraph(_("Data quality"), styles["Heading2"]))
    quality_rows = [[_("Check"), _("Value")]] + [
        [
            Paragraph(q.name(language), styles["BodyText"]),
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
