"""The printable report of a tranche's evaluation and the award certificate (PDF, ReportLab)."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crecer.results.models import AwardEdition, Evaluation, Tranche
from crecer.results.payloads import money_text


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def tranche_pdf(tranche: Tranche, item: Evaluation, rows: list[list[Any]]) -> bytes:
    agreement = tranche.agreement
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.5 * cm, bottomMargin=1.5 * cm
    )
    styles = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph(f"{agreement.name}", styles["Title"]),
        Paragraph(
            _("Agreement %(code)s with %(party)s · period %(period)s · tranche %(n)s, evaluation version %(v)s")
            % {
                "code": agreement.code,
                "party": agreement.territory.name,
                "period": agreement.period,
                "n": tranche.number,
                "v": item.version,
            },
            styles["Normal"],
        ),
        Paragraph(
            _("Computed %(when)s on the frozen snapshots %(ids)s; printed %(today)s.")
            % {
                "when": timezone.localtime(item.created_at).strftime("%Y-%m-%d %H:%M"),
                "ids": ", ".join(str(i) for i in item.snapshot_ids()),
                "today": timezone.localdate(),
            },
            styles["Normal"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    header = [
        _("Indicator"),
        _("Territory"),
        _("Period"),
        _("Value"),
        _("Baseline"),
        _("Target"),
        _("Weight"),
        _("Compliance"),
    ]
    body = [
        [
            Paragraph(str(r[1]), styles["BodyText"]),
            r[2],
            r[4],
            _fmt(r[5]),
            _fmt(r[6]),
            _fmt(r[7]),
            _fmt(r[8]),
            f"{r[9] * 100:.2f} %",
        ]
        for r in rows
    ]
    table = Table(
        [header, *body],
        colWidths=[6 * cm, 1.9 * cm, 1.7 * cm, 1.6 * cm, 1.6 * cm, 1.6 * cm, 1.3 * cm, 2 * cm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe9")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3da")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    totals = [
        [_("Weighted compliance"), f"{float(item.weighted_display) * 100:.2f} % ({item.weighted_compliance})"],
        [_("Amount of the tranche"), f"{money_text(tranche.amount_cents)} {agreement.currency}"],
        [
            _("Payment rule"),
            tranche.get_payment_rule_display() + (f" ({tranche.floor})" if tranche.floor is not None else ""),
        ],
        [_("Amount to transfer"), f"{money_text(item.amount_cents)} {agreement.currency}"],
    ]
    summary = Table(totals, colWidths=[6 * cm, 8 * cm])
    summary.setStyle(
        TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9), ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3da"))])
    )
    story += [table, Spacer(1, 0.4 * cm), summary]
    if item.reason:
        story += [Spacer(1, 0.3 * cm), Paragraph(_("Reason: %(reason)s") % {"reason": item.reason}, styles["Normal"])]
    doc.build(story)
    return buffer.getvalue()


def certificate_pdf(edition: AwardEdition, row: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), topMargin=3 * cm)
    styles = getSampleStyleSheet()
    story = [
        Paragraph(edition.name, styles["Title"]),
        Spacer(1, 1 * cm),
        Paragraph(_("Certificate of recognition"), styles["Heading1"]),
        Spacer(1, 0.6 * cm),
        Paragraph(
            _(
                "awarded to %(name)s (%(code)s), level %(level)s, rank %(rank)s of the category %(category)s, with a score of %(score)s, for the period %(period)s."
            )
            % {
                "name": row["name"],
                "code": row["code"],
                "level": row["level_label"],
                "rank": row["rank"],
                "category": row["category_name"] or row["category"],
                "score": row["score"],
                "period": edition.period,
            },
            styles["Heading3"],
        ),
        Spacer(1, 1.2 * cm),
        Paragraph(_("Issued %(date)s.") % {"date": timezone.localdate()}, styles["Normal"]),
    ]
    doc.build(story)
    return buffer.getvalue()
