"""Monitoring on a small synthetic country: additivity up the tree, drill-down lists that match the
counts, a reference of every figure (captured on SQLite; the PostgreSQL run must give the same), frozen
snapshots, the command line, dashboards, exports, the API, targets and scope."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from crecer.access.actions import create_token, create_user
from crecer.access.models import Role, User
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.lib import periods
from crecer.lib.growth import IMPLAUSIBLE
from crecer.lib.profiles import ProfileError, load
from crecer.monitoring import definitions, engine, quality, reading, snapshots
from crecer.monitoring.demo import DEMO_REASON, demo_periods, ensure_snapshots, ensure_targets
from crecer.monitoring.models import Snapshot, SnapshotImmutable, SnapshotValue, Target
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.territories.models import Territory
from crecer.tracking.models import Measurement
from tests.conftest import PASSWORD, SYSTEM, generated_country, shared_data

P = periods.parse("2025")
REFERENCE = Path(__file__).parent / "data" / "indicator_reference.csv"
ALL = (*definitions.indicators(), *quality.QUALITY)


@shared_data
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, User]:
    """400 synthetic children (seed 3, as of 2026-01-31) and a user per level, loaded once for the tests
    that read them (each test's writes are rolled back: tests/conftest.py)."""
    out = generated_country(tmp_path_factory, "--children", "400", "--seed", "3", "--as-of", "2026-01-31")
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    return {
        "national": create_user(SYSTEM, "nacional", Role.NATIONAL_MANAGER, "CL", PASSWORD),
        "regional": create_user(SYSTEM, "regional", Role.REGIONAL_MANAGER, "CL01", PASSWORD),
        "nurse": create_user(SYSTEM, "enfermera", Role.HEALTH_WORKER, "CL01001", PASSWORD, facility_code="F000001"),
        "inspector": create_user(SYSTEM, "inspector", Role.INSPECTOR, "CL01", PASSWORD),
    }


def _all_figures(period: periods.Period = P) -> list[engine.Figure]:
    return [f for i in ALL for f in engine.compute(i, period)]


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_reference_figures_are_the_same_on_every_database(synthetic):
    """Every figure (totals and disaggregations, every territory) of 2025 and of 2025-Q3 against the
    reference captured on SQLite. CI runs this on PostgreSQL too: identical figures on both."""
    codes = dict(Territory.objects.values_list("pk", "code"))
    rows = sorted(
        (
            f.indicator,
            codes[f.territory_id],
            f.period,
            f.group,
            f"{f.numerator:g}",
            f"{f.denominator:g}",
            "" if f.value is None else f"{f.value:g}",
        )
        for period in (P, periods.parse("2025-Q3"))
        for f in _all_figures(period)
    )
    if os.environ.get("CRECER_WRITE_REFERENCE") == "1":
        with REFERENCE.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(
                [("indicator", "territory", "period", "group", "numerator", "denominator", "value"), *rows]
            )
    with REFERENCE.open(encoding="utf-8") as fh:
        reference = [tuple(r) for r in list(csv.reader(fh))[1:]]
    assert len(rows) > 1000
    assert rows == reference


NUTRITION = {
    "stunting_u5": "stunting",
    "wasting_u5": "wasting",
    "underweight_u5": "underweight",
    "overweight_u5": "overweight",
    "anaemia_6_59m": "anaemia",
}


def _nutrition_by_hand(period: periods.Period) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The nutrition figures recomputed from the documented definition with a plain loop over rows:
    children aged within the indicator's range on the last day of the period; for each, its latest
    current measurement of the period whose value of the indicator is classified (a code from 0, or a
    haemoglobin result): WHO-implausible values are passed over."""
    territories = {t.pk: t for t in Territory.objects.all()}
    ancestors = {
        pk: [a.code for a in territories.values() if t.path.startswith(a.path)] for pk, t in territories.items()
    }
    measurements = defaultdict(list)
    for m in Measurement.unscoped.filter(is_current=True, measured_on__gte=period.start, measured_on__lte=period.end):
        measurements[m.child_id].append(m)
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    children = Child.unscoped.filter(voided_at__isnull=True, birth_date__isnull=False).select_related("household")
    for code, field in NUTRITION.items():
        ages = definitions.get(code).denominator[0].params
        for child in children:
            age = (period.end - child.birth_date).days
            if not ages["min_days"] <= age <= ages["max_days"]:
                continue
            plausible = [
                m
                for m in measurements[child.pk]
                if getattr(m, field) is not None and (field == "anaemia" or getattr(m, field) >= 0)
            ]
            if not plausible:
                continue
            latest = getattr(max(plausible, key=lambda m: (m.measured_on, m.pk)), field)
            counts = latest is True if field == "anaemia" else latest >= 1
            percentile = child.household.vulnerability_percentile if child.household else None
            band = next(
                b for days, b in ((365, "0-11m"), (730, "12-23m"), (1826, "24-59m"), (10**6, "60m+")) if age < days
            )
            groups = [
                "",
                f"sex={child.sex}",
                f"age_band={band}",
                "vulnerability="
                + (
                    "unknown"
                    if percentile is None
                    else "0-40"
                    if percentile <= 40
                    else "41-60"
                    if percentile <= 60
                    else "61-100"
                ),
            ]
            for territory in ancestors[child.territory_id]:
                for group in groups:
                    total = out[(code, territory, group)]
                    total[0] += counts
                    total[1] += 1
    return {k: (n, d) for k, (n, d) in out.items()}


def test_nutrition_figures_match_a_recomputation_by_hand_with_implausible_values(synthetic):
    """Some measurements of the synthetic country marked implausible in one indicator or another (as WHO's
    flags would): every nutrition figure, every territory and disaggregation, equals the plain
    recomputation of the documented definition — the implausible value is not classified and the
    child's latest plausible measurement of the period counts."""
    current = Measurement.unscoped.filter(is_current=True, measured_on__year=2025)
    for step, fields in ((5, ("stunting",)), (7, ("wasting", "overweight")), (11, ("underweight",))):
        ids = [pk for pk in current.values_list("pk", flat=True).order_by("pk") if pk % step == 0]
        current.filter(pk__in=ids).update(**{f: IMPLAUSIBLE for f in fields})
    codes = dict(Territory.objects.values_list("pk", "code"))
    checked = 0
    for period in (P, periods.parse("2025-Q3")):
        expected = _nutrition_by_hand(period)
        computed = {
            (f.indicator, codes[f.territory_id], f.group): (f.numerator, f.denominator)
            for code in NUTRITION
            for f in engine.compute(definitions.get(code), period)
        }
        assert computed == expected
        checked += len(expected)
    assert checked > 500


def test_regions_and_nation_are_the_sum_of_their_municipalities(synthetic):
    children = defaultdict(list)
    for t in Territory.objects.exclude(parent=None):
        children[t.parent_id].append(t.pk)
    for period in (P, periods.parse("2025-Q2"), periods.parse("2025-11")):
        figures = {(f.indicator, f.territory_id, f.group): f for f in _all_figures(period)}
        checked = 0
        for (code, territory, group), f in figures.items():
            if territory not in children or code == "referral_days_to_attention":
                continue  # a median does not add up
            below = [figures.get((code, c, group)) for c in children[territory]]
            assert f.numerator == sum(b.numerator for b in below if b), (code, territory, group)
            assert f.denominator == sum(b.denominator for b in below if b), (code, territory, group)
            checked += 1
        assert checked > 50


def test_drill_down_lists_match_the_counts(synthetic):
    """For every indicator and municipality, the list behind each side has exactly the figure's count
    (for a national manager, who may see everyone), the list of the denominator not in the numerator has
    denominator minus numerator, and the page lists the same number."""
    client = _client(synthetic["national"])
    municipalities = list(Territory.objects.filter(level="municipality"))
    for indicator in ALL:
        figures = {(f.territory_id, f.group): f for f in engine.compute(indicator, P, disaggregate=False)}
        for t in municipalities:
            f = figures.get((t.pk, ""))
            for side in ("numerator", "denominator"):
                expected = (
                    0
                    if f is None
                    else (f.denominator if side == "denominator" or indicator.unit == "median_days" else f.numerator)
                )
                qs = engine.subjects(indicator, P, side)
                field = engine.POPULATIONS[indicator.population].territory
                assert qs.filter(**{field: t.pk}).count() == expected, (indicator.code, t.code, side)
            if indicator.unit != "median_days":  # the list to act on of a figure with a numerator
                missing = engine.subjects(indicator, P, "missing").filter(**{field: t.pk}).count()
                assert missing == (0 if f is None else f.denominator - f.numerator), (indicator.code, t.code)
        # The page agrees (one municipality per indicator keeps the test fast).
        t = municipalities[0]
        f = figures.get((t.pk, ""))
        expected = 0 if f is None else (f.numerator if indicator.unit != "median_days" else f.denominator)
        response = client.get(
            f"/monitoring/{indicator.code}/subjects/", {"territory": t.code, "period": "2025", "side": "numerator"}
        )
        assert response.status_code == 200
        assert response.context["page"].paginator.count == expected, indicator.code


def test_drill_down_is_scoped_and_audited(synthetic):
    nurse = synthetic["nurse"]
    response = _client(nurse).get("/monitoring/stunting_u5/subjects/", {"period": "2025", "side": "denominator"})
    assert response.status_code == 200
    listed = {c.pk for c in response.context["page"].object_list}
    assert listed and listed <= set(scope.children(nurse).values_list("pk", flat=True))
    event = AuditEvent.objects.filter(actor=nurse, action=Action.SEARCH).latest("id")
    assert "stunting_u5 denominator CL01001 2025" in event.note
    # A municipality outside the nurse's own: 404, as for an unknown code.
    for code in ("CL01002", "NOPE"):
        assert _client(nurse).get("/monitoring/stunting_u5/subjects/", {"territory": code}).status_code == 404
    # An inspector (no monitoring role) sees no figures at all.
    assert _client(synthetic["inspector"]).get("/monitoring/").status_code == 404


def test_snapshot_is_frozen_and_a_recomputation_is_a_new_audited_revision(synthetic):
    national = synthetic["national"]
    first = snapshots.take(Actor(national, Channel.WEB), P, "transferencias 2025")
    frozen = list(
        SnapshotValue.objects.filter(snapshot=first)
        .order_by("pk")
        .values_list("indicator", "territory", "group", "numerator", "denominator", "value")
    )
    assert len(frozen) > 500 and len(first.definitions) == len(ALL) and len(first.fingerprint) == 64
    # Each figure records the version of the definition it was computed with (version 2: implausible
    # values are not classified; referral deadlines as of the end of the period).
    assert {c: first.definitions[c] for c in ("stunting_u5", "referrals_overdue", "welcome_kit")} == {
        "stunting_u5": 2,
        "referrals_overdue": 2,
        "welcome_kit": 1,
    }
    assert set(
        SnapshotValue.objects.filter(snapshot=first, indicator="stunting_u5").values_list("version", flat=True)
    ) == {2}
    # Data change: a newborn of 2025 and a voided child.
    registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Nueva",
            "paternal_surname": "Vida",
            "sex": "F",
            "birth_date": "2025-05-05",
            "territory_code": "CL01001",
        },
    )
    registry_actions.void_child(SYSTEM, Child.unscoped.filter(birth_date__year=2025).first(), "registro de prueba")
    assert (
        list(
            SnapshotValue.objects.filter(snapshot=first)
            .order_by("pk")
            .values_list("indicator", "territory", "group", "numerator", "denominator", "value")
        )
        == frozen
    )
    second = snapshots.take(Actor(national, Channel.CLI), P, "corrección de datos")
    assert (first.revision, second.revision) == (1, 2) and second.fingerprint != first.fingerprint
    nation = Territory.objects.get(code="CL")
    births = {
        s.pk: SnapshotValue.objects.get(snapshot=s, indicator="welcome_kit", territory=nation, group="").denominator
        for s in (first, second)
    }
    assert births[second.pk] == births[first.pk]  # one born, one voided
    events = AuditEvent.objects.filter(entity="monitoring.snapshot", action=Action.CREATE).order_by("id")
    assert [(e.actor_id, e.note) for e in events] == [
        (national.pk, "transferencias 2025"),
        (national.pk, "corrección de datos"),
    ]
    # The application and the database refuse to change a snapshot.
    with pytest.raises(SnapshotImmutable):
        first.save()
    with pytest.raises(SnapshotImmutable):
        SnapshotValue.objects.filter(snapshot=first).update(value=0)
    with pytest.raises(SnapshotImmutable):
        first.delete()
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE monitoring_snapshotvalue SET value = 0")


def test_fingerprint_depends_on_the_data_and_every_figure(synthetic):
    marker, figures = snapshots.data_marker(), _all_figures()
    print_ = snapshots.fingerprint(marker, figures)
    assert print_ == snapshots.fingerprint(marker, list(reversed(figures)))  # order does not matter
    changed = [figures[0].__class__(**{**figures[0].__dict__, "numerator": figures[0].numerator + 1}), *figures[1:]]
    assert snapshots.fingerprint(marker, changed) != print_
    assert (
        snapshots.fingerprint({**marker, "audit_last_write_id": marker["audit_last_write_id"] + 1}, figures) != print_
    )


def test_live_figures_follow_writes_and_dashboards_read_snapshots(synthetic):
    nation = Territory.objects.get(code="CL")
    before = reading.figures(P, [nation.pk], None)[("welcome_kit", nation.pk, "")].denominator
    registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Otra",
            "paternal_surname": "Vida",
            "sex": "M",
            "birth_date": "2025-06-06",
            "territory_code": "CL02001",
        },
    )
    assert reading.figures(P, [nation.pk], None)[("welcome_kit", nation.pk, "")].denominator == before + 1
    snapshot = snapshots.take(SYSTEM, P)
    client = _client(synthetic["national"])
    page = client.get("/monitoring/", {"period": "2025"})
    assert page.status_code == 200 and page.context["snapshot"] == snapshot
    assert snapshot.fingerprint[:12] in page.content.decode()
    live = client.get("/monitoring/", {"period": "2025", "live": "1"})
    assert live.context["snapshot"] is None


def test_compute_command_writes_every_territory_of_the_level(synthetic, tmp_path):
    out = tmp_path / "m.csv"
    call_command(
        "indicators", "compute", "--period", "2025", "--level", "municipality", "--out", str(out), stdout=io.StringIO()
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["indicator", "territory_code", "period", "numerator", "denominator", "value"]
    municipalities = set(Territory.objects.filter(level="municipality").values_list("code", flat=True))
    assert len(rows) == len(definitions.indicators()) * len(municipalities)
    by_key = {(r["indicator"], r["territory_code"]): r for r in rows}
    figures = {
        (f.indicator, f.territory_id): f
        for f in engine.compute(definitions.get("stunting_u5"), P, disaggregate=False)
        if not f.group
    }
    for t in Territory.objects.filter(level="municipality"):
        f = figures.get(("stunting_u5", t.pk))
        row = by_key[("stunting_u5", t.code)]
        assert (int(row["numerator"]), int(row["denominator"])) == (
            (int(f.numerator), int(f.denominator)) if f else (0, 0)
        )
    one = tmp_path / "one.csv"
    call_command(
        "indicators",
        "compute",
        "--period",
        "2025-Q3",
        "--level",
        "region",
        "--indicator",
        "low_birth_weight",
        "--by",
        "sex",
        "--out",
        str(one),
        stdout=io.StringIO(),
    )
    groups = {(r["territory_code"], r["group"]) for r in csv.DictReader(one.open(encoding="utf-8"))}
    assert ("CL01", "") in groups and ("CL01", "sex=F") in groups


@pytest.mark.parametrize(
    "args,message",
    [
        (["--period", "2025-13", "--level", "region"], "--period"),
        (["--period", "2025", "--level", "barrio"], "barrio"),
        (["--period", "2025", "--level", "region", "--indicator", "nope"], "nope"),
    ],
)
def test_compute_command_errors(synthetic, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("indicators", "compute", *args, "--out", str(tmp_path / "x.csv"), stdout=io.StringIO())


def test_snapshot_command_records_who_and_why(synthetic):
    out = io.StringIO()
    call_command(
        "indicators", "snapshot", "--period", "2025-Q4", "--reason", "cierre", "--as-user", "nacional", stdout=out
    )
    snapshot = Snapshot.objects.get(period="2025-Q4")
    assert snapshot.created_by == synthetic["national"] and snapshot.reason == "cierre"
    assert str(snapshot.values.count()) in out.getvalue()
    with pytest.raises(CommandError):
        call_command("indicators", "snapshot", "--period", "2025", "--as-user", "nadie", stdout=io.StringIO())


def test_dashboard_pages_exports_and_report(synthetic):
    snapshots.take(SYSTEM, P)
    client = _client(synthetic["regional"])
    page = client.get("/monitoring/", {"period": "2025", "focus": "welcome_kit"})
    assert page.status_code == 200
    ranked = [t.code for t, _ in page.context["below"]]
    assert sorted(ranked) == ["CL01001", "CL01002"]  # the region's municipalities
    values = [v.value for _, v in page.context["below"] if v and v.value is not None]
    assert values == sorted(values, reverse=True)  # higher is better: best first
    # The nation is outside a regional manager's territory.
    assert client.get("/monitoring/", {"territory": "CL"}).status_code == 404
    assert client.get("/monitoring/", {"territory": "CL02001"}).status_code == 404
    detail = client.get("/monitoring/stunting_u5/", {"period": "2025", "territory": "CL01"})
    assert detail.status_code == 200 and "<svg" in detail.content.decode()
    assert len(detail.context["groups"]) == 3  # sex, age band and vulnerability
    for _, rows in detail.context["groups"]:
        assert sum(v.denominator for _, v in rows) == detail.context["value"].denominator
    assert client.get("/monitoring/nope/").status_code == 404
    csv_text = b"".join(client.get("/monitoring/stunting_u5/export.csv", {"period": "2025"}).streaming_content).decode(
        "utf-8-sig"
    )
    lines = list(csv.reader(io.StringIO(csv_text)))
    assert lines[0][:3] == ["Indicador", "Código del territorio", "Territorio"] and {r[1] for r in lines[1:]} == {
        "CL01001",
        "CL01002",
    }
    workbook = load_workbook(io.BytesIO(client.get("/monitoring/stunting_u5/export.xlsx", {"period": "2025"}).content))
    assert workbook.active.max_row == 3
    pdf = client.get("/monitoring/report.pdf", {"period": "2025", "territory": "CL01001"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF") and len(pdf.content) > 3000
    assert AuditEvent.objects.filter(entity="monitoring.report", action=Action.EXPORT).count() == 1


def test_api_indicators_values_and_snapshots(synthetic):
    snapshot = snapshots.take(SYSTEM, P)
    token = create_token(SYSTEM, synthetic["regional"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    listed = api.get("/api/v1/indicators").json()["results"]
    assert {i["code"] for i in listed} >= {"anc_before_14w", "dq_implausible"}
    body = api.get("/api/v1/indicators/stunting_u5/values", {"period": "2025", "by": "sex"}).json()
    assert body["snapshot"]["id"] == snapshot.pk
    territories = {v["territory"] for v in body["values"]}
    assert territories == {"CL01", "CL01001", "CL01002"}
    region = {v["group"]: v for v in body["values"] if v["territory"] == "CL01"}
    assert set(region) == {"", "sex=F", "sex=M"}
    assert region[""]["denominator"] == region["sex=F"]["denominator"] + region["sex=M"]["denominator"]
    live = api.get("/api/v1/indicators/stunting_u5/values", {"period": "2025", "live": "true"}).json()
    assert live["snapshot"] is None and {v["territory"] for v in live["values"]} == {"CL01", "CL01001", "CL01002"}
    assert api.get("/api/v1/indicators/stunting_u5/values", {"period": "2025", "territory": "CL02"}).status_code == 404
    bad = api.get("/api/v1/indicators/stunting_u5/values", {"period": "20x", "by": "colour"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"period", "by"}
    assert [s["id"] for s in api.get("/api/v1/snapshots").json()["results"]] == [snapshot.pk]
    got = api.get(f"/api/v1/snapshots/{snapshot.pk}", {"indicator": "stunting_u5"}).json()
    assert got["fingerprint"] == snapshot.fingerprint
    assert {v["territory"] for v in got["values"]} == {"CL01", "CL01001", "CL01002"}  # not the nation or the south
    assert api.get("/api/v1/snapshots/999999").status_code == 404
    # An inspector (no monitoring role) gets no indicators.
    inspector = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(SYSTEM, synthetic['inspector'])}")
    assert inspector.get("/api/v1/indicators").status_code == 404


def test_targets_import_page_and_progress(synthetic, tmp_path):
    source = tmp_path / "targets.csv"
    source.write_text(
        "indicator,territory_code,period,baseline,target\n"
        "welcome_kit,CL01,2025,80,90\n"
        "welcome_kit,CL01001,2025,70,85\n"
        "nope,CL01,2025,1,2\n"
        "welcome_kit,XX,2025,1,2\n"
        "welcome_kit,CL01,2025-13,1,2\n"
        "welcome_kit,CL02,2025,abc,120\n"
        "welcome_kit,CL01,2025,80,95\n",
        encoding="utf-8",
    )
    result = run_import("targets", source, SYSTEM)
    assert (result.created, len(result.rejected)) == (2, 5)
    reasons = {r.line: set(r.errors) for r in result.rejected}
    assert reasons == {
        4: {"indicator"},
        5: {"territory_code"},
        6: {"period"},
        7: {"baseline", "target"},
        8: {"indicator"},
    }
    again = run_import("targets", source, SYSTEM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    target = Target.objects.get(indicator="welcome_kit", territory__code="CL01", period="2025")
    assert target.progress(85.0) == 0.5
    client = _client(synthetic["regional"])
    page = client.get("/monitoring/targets/", {"period": "2025"})
    assert {t.territory.code for t in page.context["targets"]} == {"CL01", "CL01001"}
    saved = client.post(
        "/monitoring/targets/?period=2025",
        {"indicator": "welcome_kit", "territory_code": "CL01002", "period": "2025", "baseline": "60", "target": "75"},
    )
    assert saved.status_code == 200 and saved.context["saved"] == "created"
    assert (
        AuditEvent.objects.filter(entity="monitoring.target", action=Action.CREATE, actor=synthetic["regional"]).count()
        == 1
    )
    # Outside the manager's region, or a bad number: refused, nothing changes.
    count = Target.objects.count()
    refused = client.post(
        "/monitoring/targets/",
        {"indicator": "welcome_kit", "territory_code": "CL02", "period": "2025", "baseline": "1", "target": "x"},
    )
    assert refused.status_code == 400 and set(refused.context["errors"]) == {"territory_code", "target"}
    assert Target.objects.count() == count
    assert _client(synthetic["nurse"]).post("/monitoring/targets/", {"indicator": "welcome_kit"}).status_code == 404
    snapshots.take(SYSTEM, P)
    dashboard = client.get("/monitoring/", {"period": "2025"})
    row = next(r for _, rows in dashboard.context["axes"] for r in rows if r["indicator"].code == "welcome_kit")
    assert row["target"].target == 90 and row["progress"] == max(
        0, min(100, round(target.progress(row["value"].value) * 100))
    )


def test_demo_freezes_recent_periods_and_sets_synthetic_targets(synthetic):
    actor = Actor(synthetic["national"], Channel.SYSTEM)
    today = timezone.localdate()
    assert ensure_snapshots(actor) == 6
    frozen = list(Snapshot.objects.all())
    assert {s.period for s in frozen} == {p.code for p in demo_periods(today)}  # last year, this year, 4 quarters
    assert {s.reason for s in frozen} == {DEMO_REASON}  # labelled as demo figures of synthetic data
    assert ensure_snapshots(actor) == 0
    made = ensure_targets(actor)
    assert made > 10 and Target.objects.count() == made
    # Each target's baseline is last year's frozen figure, for this year.
    last_year = Snapshot.objects.get(period=str(today.year - 1))
    for target in Target.objects.all():
        frozen_value = SnapshotValue.objects.get(
            snapshot=last_year, indicator=target.indicator, territory=target.territory, group=""
        ).value
        assert (target.period, target.baseline) == (str(today.year), round(frozen_value, 1)), target.indicator
    assert ensure_targets(actor) == 0


def test_indicator_definitions_are_validated():
    base = {
        "code": "x",
        "version": 1,
        "name_es": "x",
        "name_en": "x",
        "axis": "management",
        "population": "child",
        "unit": "percent",
        "period": "year",
        "direction": "higher",
        "source": "s",
        "denominator": [{"fact": "born_in_period"}],
        "numerator": [{"fact": "has_document"}],
    }
    assert definitions.parse({"version": "1", "indicator": [base]}, "t")[0].code == "x"
    for change, message in (
        ({"unit": "kg"}, "'unit'"),
        ({"denominator": [{"fact": "nope"}]}, "unknown fact 'nope'"),
        ({"numerator": []}, "'numerator' is required"),
        ({"disaggregations": ["service"]}, "not available"),
        ({"numerator": [{"fact": "birth_weight_below"}]}, "grams"),
        ({"name_en": ""}, "'name_en'"),
    ):
        with pytest.raises(ProfileError, match=message):
            definitions.parse({"version": "1", "indicator": [{**base, **change}]}, "t")
    with pytest.raises(ProfileError, match="repeats"):
        definitions.parse({"version": "1", "indicator": [base, base]}, "t")
    wrong = definitions.parse(
        {
            "version": "1",
            "indicator": [{**base, "numerator": [{"fact": "screened_in_period", "instruments": ["eedp"]}]}],
        },
        "t",
    )
    with pytest.raises(ProfileError, match="instrument 'eedp'"):
        definitions.check_references(wrong, load("sv"), "t")
    for profile_id in ("cl", "pe", "sv"):
        assert len(definitions.indicators(profile_id)) >= 20


def test_api_payload_is_json_serialisable_for_every_indicator(synthetic):
    token = create_token(SYSTEM, synthetic["national"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for indicator in ALL:
        response = api.get(f"/api/v1/indicators/{indicator.code}/values", {"period": "2025", "live": "true"})
        assert response.status_code == 200, indicator.code
        json.dumps(response.json())


@pytest.mark.django_db(transaction=True)
def test_parallel_computation_gives_the_same_figures(tmp_path):
    """Outside a transaction, indicators are computed on parallel connections: same figures."""
    out = tmp_path / "country"
    call_command(
        "generate",
        "--children",
        "150",
        "--seed",
        "4",
        "--as-of",
        "2026-01-31",
        "--out",
        str(out),
        "--quiet",
        stdout=io.StringIO(),
    )
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    parallel = engine.compute_many(ALL, P, jobs=2)
    sequential = [f for i in ALL for f in engine.compute(i, P)]
    assert parallel == sequential and len(parallel) > 100


def test_one_grouped_query_per_population_whatever_the_number_of_indicators(synthetic):
    """Every indicator of a population is counted in the same pass over its subjects: the child indicators
    and data-quality checks are one query, not one each, and split into parts they give the same cells."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    children = [i for i in ALL if i.population == "child"]
    assert len(children) > 15
    with CaptureQueriesContext(db) as queries:
        cells = engine._batch_cells("child", children, P, True, None)
    counts = [q["sql"] for q in queries if "enable_sort" not in q["sql"] and "SAVEPOINT" not in q["sql"]]
    assert len(counts) == 1 and "registry_child" in counts[0]  # besides PostgreSQL's planner setting
    one_by_one = {i.code: engine._batch_cells("child", [i], P, True, None)[i.code] for i in children}
    assert cells == one_by_one
    assert sum(den for key, (num, den) in cells["stunting_u5"].items()) > 0
    with CaptureQueriesContext(db) as queries:
        parts = engine._parts("child", 3)
    # both ends of the key, each read as one row in key order (SQLite scans the whole table for a MIN
    # and a MAX in one query)
    assert len(queries) == 2 and all("LIMIT 1" in q["sql"] for q in queries)
    low, high = Child.unscoped.order_by("pk").first().pk, Child.unscoped.order_by("pk").last().pk
    assert parts[0][0] == low and parts[-1][1] == high + 1 and len(parts) == 3
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    merged: dict[str, dict[Any, list[int]]] = defaultdict(dict)
    for part in parts:
        for code, part_cells in engine._batch_cells("child", children, P, True, part).items():
            for key, (num, den) in part_cells.items():
                total = merged[code].setdefault(key, [0, 0])
                total[0] += num
                total[1] += den
    assert {code: {k: tuple(v) for k, v in c.items()} for code, c in merged.items()} == cells
