"""The managers' tools on a small hand-built country: trend charts with axes and values, the list of the
children to act on beside each figure (denominator minus numerator, scoped, logged) and its downloads,
CSV files with a byte-order mark, Spanish headers and whole counts, and a PDF report whose labels are
never cut and whose rankings carry their values."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from crecer.audit.models import Action, AuditEvent
from crecer.core.downloads import safe_cell
from crecer.lib import minicharts, periods
from crecer.monitoring import definitions, engine, snapshots
from crecer.monitoring.models import Target
from crecer.territories.models import Territory
from tests.conftest import SYSTEM
from tests.test_indicators import D, deliver, kid, measure

P = periods.parse("2025")
LONG_NAME = "Comuna Baja de los Esteros Largos del Valle Central y de sus Alrededores Rurales"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def births(country: dict[str, Any]) -> dict[str, Any]:
    """Newborns of 2025 (welcome kit: higher is better). In Comuna Alta one got the kit on time (numerator),
    one late and one never (denominator only); one born in 2024 is in neither. In Comuna Baja one got it,
    one did not."""
    made = {
        "on_time": kid(D(2025, 2, 1)),
        "late": kid(D(2025, 3, 1)),
        "never": kid(D(2025, 4, 1)),
        "last_year": kid(D(2024, 6, 1)),
        "baja_kit": kid(D(2025, 5, 1), territory="CL01002"),
        "baja_none": kid(D(2025, 6, 1), territory="CL01002"),
    }
    deliver(made["on_time"], "welcome_kit", D(2025, 2, 20))
    deliver(made["late"], "welcome_kit", D(2025, 6, 1))
    deliver(made["baja_kit"], "welcome_kit", D(2025, 5, 20))
    return made


def _freeze(monkeypatch: pytest.MonkeyPatch, *codes: str) -> None:
    """Snapshots hold only these indicators' figures (a full snapshot computes every indicator: slow for a
    test that reads one)."""
    monkeypatch.setattr(
        snapshots, "compute_all", lambda period: engine.compute_many([definitions.get(c) for c in codes], period)
    )


# --- 1. trend charts ---------------------------------------------------------------------------------------


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_a_trend_chart_has_named_axes_round_ticks_and_every_value_at_its_point():
    points = [("2022", 40.0), ("2023", None), ("2024", 52.5), ("2025", 61.25)]
    svg = minicharts.trend(
        points,
        target=70.0,
        title="Recién nacidos con set",
        desc="Tendencia:",
        unit="%",
        x_label="Periodo",
        y_label="Porcentaje",
        target_label="meta",
        missing="sin dato",
        decimal=",",
    )
    texts = _texts(svg)
    assert "Periodo" in texts and "Porcentaje" in texts  # both axes are named
    assert {"2022", "2023", "2024", "2025"} <= set(texts)  # every period under the axis
    assert {"40%", "52,5%", "61,2%"} <= set(texts)  # every value printed, decimal comma
    ticks = [t for t in texts if re.fullmatch(r"\d+%", t) and t not in ("40%",)]
    assert ticks and all(int(t[:-1]) % 10 == 0 for t in ticks)  # round ticks (40, 50, 60, 70)
    assert "70%" in texts and "meta 70%" in texts
    assert 'role="img"' in svg and "<title>Recién nacidos con set</title>" in svg
    desc = re.search(r"<desc>(.*)</desc>", svg).group(1)  # type: ignore[union-attr]
    assert desc == "Tendencia: 2022: 40%; 2023: sin dato; 2024: 52,5%; 2025: 61,2%; meta 70%"
    assert 'width="100%"' in svg and 'viewBox="0 0 360 ' in svg  # scales to a 390 px phone
    assert minicharts.ticks(3.2, 9.7) == [2, 4, 6, 8, 10]


def test_the_indicator_page_draws_its_trend_with_axes_and_values_in_spanish(births, cast, monkeypatch):
    _freeze(monkeypatch, "welcome_kit")
    snapshots.take(SYSTEM, periods.parse("2024"))
    snapshots.take(SYSTEM, P)
    page = _client(cast["coordinator_alta"]).get("/monitoring/welcome_kit/", {"period": "2025"})
    assert page.status_code == 200
    svg = page.context["trend_svg"]
    texts = _texts(svg)
    assert "Periodo" in texts and "Porcentaje" in texts
    assert "33,3%" in texts  # 2025: 1 of 3 (the 2024 newborn had no kit: 0 %)
    assert "0%" in texts and "2024" in texts and "2025" in texts
    assert svg in page.content.decode()


# --- 2. the children to act on -----------------------------------------------------------------------------


def test_the_list_to_act_on_is_the_denominator_minus_the_numerator(births, cast, monkeypatch):
    indicator = definitions.get("welcome_kit")
    alta = Territory.objects.get(code="CL01001")

    def ids(side: str) -> set[int]:
        return set(engine.subjects(indicator, P, side).filter(territory=alta).values_list("pk", flat=True))

    assert ids("missing") == ids("denominator") - ids("numerator") == {births["late"].pk, births["never"].pk}
    assert engine.act_on(indicator) == "missing"
    # Lower is better: the ones to act on are the numerator (a stunted child); a median has none.
    assert engine.act_on(definitions.get("stunting_u5")) == "numerator"
    assert engine.act_on(definitions.get("referral_days_to_attention")) is None

    nurse = cast["nurse_alta"]
    page = _client(nurse).get("/monitoring/welcome_kit/subjects/", {"period": "2025", "side": "missing"})
    assert page.status_code == 200
    assert {c.pk for c in page.context["page"].object_list} == {births["late"].pk, births["never"].pk}
    # Each child shown is logged as read, with the list it came from.
    reads = AuditEvent.objects.filter(
        actor=nurse, action=Action.READ, note="figure list welcome_kit missing CL01001 2025"
    )
    assert set(reads.values_list("child_id", flat=True)) == {births["late"].pk, births["never"].pk}
    assert AuditEvent.objects.filter(actor=nurse, action=Action.SEARCH, note__contains="welcome_kit missing").exists()
    # The figure's page says how many there are, beside the figure, and links to the list.
    detail = _client(nurse).get("/monitoring/welcome_kit/", {"period": "2025"})
    assert detail.context["act_on_count"] == 2
    assert "side=missing" in detail.content.decode()
    _freeze(monkeypatch, "welcome_kit")
    snapshots.take(SYSTEM, P)
    dashboard = _client(cast["regional_norte"]).get("/monitoring/", {"period": "2025"})
    row = next(r for _, rows in dashboard.context["axes"] for r in rows if r["indicator"].code == "welcome_kit")
    assert row["act_on_count"] == 3  # the region: 2 in Alta, 1 in Baja
    assert "3 por atender" in dashboard.content.decode()


def test_the_list_to_act_on_is_scoped(births, cast):
    baja = cast["nurse_baja"]
    # Another municipality's list answers 404, as an unknown one does, and logs no read.
    for code in ("CL01001", "NOPE"):
        for path in ("subjects/", "subjects.csv"):
            response = _client(baja).get(
                f"/monitoring/welcome_kit/{path}", {"territory": code, "period": "2025", "side": "missing"}
            )
            assert response.status_code == 404, (code, path)
    assert not AuditEvent.objects.filter(actor=baja, action=Action.READ).exists()
    # Her own list holds only her municipality's child.
    own = _client(baja).get("/monitoring/welcome_kit/subjects/", {"period": "2025", "side": "missing"})
    assert [c.pk for c in own.context["page"].object_list] == [births["baja_none"].pk]
    # A regional manager sees the region's: those of both municipalities.
    region = _client(cast["regional_norte"]).get(
        "/monitoring/welcome_kit/subjects/", {"period": "2025", "side": "missing"}
    )
    assert {c.pk for c in region.context["page"].object_list} == {
        births["late"].pk,
        births["never"].pk,
        births["baja_none"].pk,
    }
    # No numerator, no such list.
    assert _client(baja).get("/monitoring/referral_days_to_attention/subjects/", {"side": "missing"}).status_code == 404


def test_the_list_to_act_on_downloads_as_csv_and_excel_and_each_child_is_logged(births, cast):
    nurse = cast["nurse_alta"]
    query = {"period": "2025", "side": "missing"}
    body = _body(_client(nurse).get("/monitoring/welcome_kit/subjects.csv", query))
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == ["Nombre", "Detalle", "Fecha de nacimiento", "Territorio", "Indicador", "Lista", "Periodo"]
    assert {(r[1], r[2]) for r in lines[1:]} == {
        (births["late"].registry_number, "2025-03-01"),
        (births["never"].registry_number, "2025-04-01"),
    }
    assert {r[3] for r in lines[1:]} == {"Comuna Alta"}
    logged = AuditEvent.objects.filter(actor=nurse, action=Action.READ, note__startswith="figure list csv welcome_kit")
    assert set(logged.values_list("child_id", flat=True)) == {births["late"].pk, births["never"].pk}
    export = AuditEvent.objects.get(actor=nurse, action=Action.EXPORT, entity="monitoring.child")
    assert export.after == {"count": 2, "format": "csv"}
    sheet = load_workbook(io.BytesIO(_body(_client(nurse).get("/monitoring/welcome_kit/subjects.xlsx", query)))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Nombre" and {r[1] for r in rows[1:]} == {
        births["late"].registry_number,
        births["never"].registry_number,
    }


def test_for_a_lower_is_better_indicator_the_numerator_is_to_act_on(country, cast):
    stunted, fine = kid(D(2024, 1, 10)), kid(D(2024, 2, 10))
    measure(stunted, D(2025, 5, 1), stunting=1)
    measure(fine, D(2025, 5, 1), stunting=0)
    detail = _client(cast["nurse_alta"]).get("/monitoring/stunting_u5/", {"period": "2025"})
    assert detail.context["act_on"] == "numerator" and detail.context["act_on_count"] == 1
    page = _client(cast["nurse_alta"]).get("/monitoring/stunting_u5/subjects/", {"period": "2025", "side": "numerator"})
    assert [c.pk for c in page.context["page"].object_list] == [stunted.pk]


# --- 3. CSV -------------------------------------------------------------------------------------------------


def test_a_whole_number_is_written_as_an_integer():
    assert safe_cell(12.0) == 12 and isinstance(safe_cell(12.0), int)
    assert safe_cell(12.5) == 12.5 and safe_cell(-0.0) == 0 and safe_cell(True) is True


def test_the_ranking_csv_has_a_bom_spanish_headers_and_whole_counts(births, cast):
    body = _body(
        _client(cast["regional_norte"]).get("/monitoring/welcome_kit/export.csv", {"period": "2025", "live": "1"})
    )
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == [
        "Indicador",
        "Código del territorio",
        "Territorio",
        "Periodo",
        "Numerador",
        "Denominador",
        "Valor",
        "Por atender",
        "Cifras",
    ]
    rows = {r[1]: r for r in lines[1:]}
    assert rows["CL01002"][4:8] == ["1", "2", "50", "1"]  # 1 of 2, no "1.0"
    assert rows["CL01001"][4:8] == ["1", "3", "33.33", "2"]
    assert rows["CL01001"][0] == "Recién nacidos que recibieron el set de implementos"
    assert rows["CL01001"][8] == "en vivo"


# --- 4. PDF -------------------------------------------------------------------------------------------------


def _pdf_strings(content: bytes) -> str:
    """The text a PDF draws, in order: the strings of its text operators (ReportLab writes the content
    streams ASCII85- and Flate-encoded, and escapes parentheses, backslashes and non-ASCII bytes)."""
    texts: list[str] = []
    for match in re.finditer(rb"stream\r?\n(.*?)\s*endstream", content, re.S):
        data = match.group(1).strip()
        try:
            if data.endswith(b"~>"):
                data = base64.a85decode(data.removeprefix(b"<~").removesuffix(b"~>"))
            data = zlib.decompress(data)
        except (ValueError, zlib.error):
            continue
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data, re.S):
            unescaped = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), raw)
            texts.append(re.sub(rb"\\(.)", rb"\1", unescaped).decode("cp1252"))
    return " ".join(" ".join(texts).split())


def test_the_pdf_report_never_cuts_a_label_and_ranks_with_values(births, cast):
    Territory.objects.filter(code="CL01002").update(name=LONG_NAME)
    long_indicator = definitions.get("childcare_vulnerable_0_4")
    assert len(long_indicator.name_es) > 60
    Target.objects.create(
        indicator=long_indicator.code,
        territory=Territory.objects.get(code="CL01"),
        period="2025",
        baseline=10,
        target=35,
    )
    response = _client(cast["regional_norte"]).get(
        "/monitoring/report.pdf", {"period": "2025", "territory": "CL01", "live": "1", "focus": "welcome_kit"}
    )
    text = _pdf_strings(_body(response))
    assert LONG_NAME in text  # wrapped over lines, whole
    assert long_indicator.name_es in text  # in the progress against targets, whole
    assert "Recién nacidos que recibieron el set de implementos" in text
    ranking = text[text.index("Ranking de territorios") :]
    # Best first (higher is better): Baja 1 of 2 (50), then Alta 1 of 3 (33,3), each with its value.
    assert re.search(rf"1 {re.escape(LONG_NAME)} 50 1 / 2 2 Comuna Alta 33,3 1 / 3", ranking), ranking[:400]
