"""Planning: a composite index computed from frozen snapshots (exact figures worked out by hand), phasing
plans prioritising a hand-built set of municipalities, coverage and rollout by cohort, proposals, scope
by territory and role, pages and downloads."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction as F
from typing import Any

import openpyxl
import pytest
from django.db import transaction
from django.db.models import Max
from django.test import Client

from crecer.audit.models import Action, AuditEvent
from crecer.audit.trail import Actor
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.planning import actions, phasing
from crecer.planning.models import Plan, Proposal
from crecer.territories.models import Territory
from crecer.validation import InputErrors
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db

# The cl profile's index: anc_before_14w (0..100, weight 0.20), check_ups_up_to_date_0_11m (0..100, 0.20),
# check_ups_up_to_date_24_59m (0..100, 0.15), eedp_18m (over the territories of the level, 0.25),
# stunting_u5 (0..40, lower is better, 0.20).
FIGURES = {
    "CL01001": {
        "anc_before_14w": 80,
        "check_ups_up_to_date_0_11m": 90,
        "check_ups_up_to_date_24_59m": 70,
        "eedp_18m": 60,
        "stunting_u5": 10,
    },
    "CL01002": {
        "anc_before_14w": 50,
        "check_ups_up_to_date_0_11m": 60,
        "check_ups_up_to_date_24_59m": 40,
        "eedp_18m": 40,
        "stunting_u5": 20,
    },
    "CL01": {
        "anc_before_14w": 65,
        "check_ups_up_to_date_0_11m": 75,
        "check_ups_up_to_date_24_59m": 55,
        "eedp_18m": 50,
        "stunting_u5": 15,
    },
    "CL02001": {"eedp_18m": 80},
}


def frozen(period: str, figures: dict[str, dict[str, float]]) -> Snapshot:
    """A frozen snapshot of ``period`` holding ``{territory code: {indicator: value}}`` (a new revision)."""
    territories = {t.code: t.pk for t in Territory.objects.all()}
    with transaction.atomic():
        last = Snapshot.objects.filter(period=period).aggregate(m=Max("revision"))["m"] or 0
        snapshot = Snapshot.objects.create(
            period=period, revision=last + 1, profile="cl", profile_version="test", definitions={}, fingerprint="0" * 64
        )
        SnapshotValue.objects.bulk_create(
            SnapshotValue(
                snapshot=snapshot,
                indicator=code,
                version=1,
                territory_id=territories[t],
                numerator=value,
                denominator=100,
                value=value,
            )
            for t, values in figures.items()
            for code, value in values.items()
        )
    return snapshot


@pytest.fixture
def world(cast: dict[str, Any], children: dict[str, Any]) -> dict[str, Any]:
    frozen("2025", FIGURES)
    return cast


def test_the_index_is_computed_from_the_frozen_snapshot(world, api_client):
    answer = api_client(world["regional_norte"]).get("/api/v1/indices/idit/values?territory=CL01&period=2025")
    assert answer.status_code == 200, answer.content
    values = {v["territory"]: v for v in answer.json()["values"]}
    # Comuna Alta: .8*.2 + .9*.2 + .7*.15 + eedp (60-40)/(80-40)=.5 * .25 + stunting (40-10)/40=.75 * .2
    # = .16 + .18 + .105 + .125 + .15 = .72 -> 72. Comuna Baja: .1 + .12 + .06 + 0 + .1 = 38.
    # Región Norte, alone at its level (eedp normalised 1): .13 + .15 + .0825 + .25 + .125 = 73.75.
    assert values["CL01001"]["value_exact"] == "72"
    assert values["CL01002"]["value_exact"] == "38"
    assert values["CL01"]["value_exact"] == "295/4"
    alta = {c["indicator"]: c for c in values["CL01001"]["components"]}
    assert alta["eedp_18m"] == {
        **alta["eedp_18m"],
        "value": 60.0,
        "normalised": 0.5,
        "weight": 0.25,
        "contribution": 12.5,
    }
    assert alta["stunting_u5"]["normalised"] == 0.75 and alta["stunting_u5"]["contribution"] == 15.0
    # A new revision of the period is what the index reads from then on.
    frozen("2025", {**FIGURES, "CL01001": {**FIGURES["CL01001"], "anc_before_14w": 100}})
    again = api_client(world["regional_norte"]).get("/api/v1/indices/idit/values?territory=CL01001&period=2025")
    assert again.json()["values"][0]["value"] == 76.0  # 72 + (1 - .8) * .2 * 100


def test_the_index_refuses_a_period_without_snapshot_and_hides_other_territories(world, api_client):
    client = api_client(world["regional_norte"])
    missing = client.get("/api/v1/indices/idit/values?territory=CL01&period=2024")
    assert missing.status_code == 422
    assert missing.json()["errors"]["period"][0]["code"] == "missing_snapshot"
    assert client.get("/api/v1/indices/idit/values?territory=CL02&period=2025").status_code == 404
    assert client.get("/api/v1/indices/nope/values?period=2025").status_code == 404
    assert client.get("/api/v1/indices/idit/values?period=2025-13").status_code == 422


def _plan(user: Any, territory: str = "CL", **over: Any) -> Plan:
    body = {
        "name": "Plan nacional",
        "territory_code": territory,
        "level": "municipality",
        "period": "2025",
        "weights": {"vulnerability": "2", "children": "1", "gaps": "1", "services": "1"},
        **over,
    }
    return actions.create_plan(Actor(user), body)


def test_prioritisation_ranks_the_hand_built_municipalities(world, api_client):
    plan = _plan(world["national"])
    answer = api_client(world["national"]).get(f"/api/v1/phasing/plans/{plan.pk}/priorities")
    assert answer.status_code == 200, answer.content
    ranked = answer.json()["results"]
    # vulnerability (stunting / 100): Alta .1, Baja .2, Austral none -> 0, 1, 0.
    # children under six: Alta 1, Baja 2, Austral 1 -> 0, 1, 0.
    # gaps (100 - index) / 100: Alta .28, Baja .62, Austral 0 (its one figure is the best) -> 14/31, 1, 0.
    # services per 1,000 children: Alta 2 per 1 child = 2000, Baja 1 per 2 = 500, Austral 2000 -> 0, 1, 0.
    # Scores (weights 2, 1, 1, 1 of 5) x 100: Baja 100, Alta (14/31) / 5 * 100 = 280/31, Austral 0.
    assert [(r["territory"], r["rank"], r["score_exact"]) for r in ranked] == [
        ("CL01002", 1, "100"),
        ("CL01001", 2, "280/31"),
        ("CL02001", 3, "0"),
    ]
    alta = ranked[1]["parts"]
    assert alta["gaps"] == {"raw": 0.28, "normalised": 0.4516, "weight": 1.0, "contribution": 9.03}
    assert alta["services"]["raw"] == 2000.0 and alta["children"]["raw"] == 1.0


def test_a_phase_takes_the_proposed_territories_and_counts_its_cohorts(world, api_client):
    national = world["national"]
    client = api_client(national)
    plan = client.post(
        "/api/v1/phasing/plans",
        {"name": "Crecer Juntos", "territory_code": "CL", "level": "municipality", "period": "2025"},
        content_type="application/json",
    )
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    first = client.post(
        f"/api/v1/phasing/plans/{plan_id}/phases",
        {"name": "Fase 1", "starts": "2024-01-01", "ends": "2025-12-31"},
        content_type="application/json",
    )
    assert first.status_code == 201 and first.json()["number"] == 1
    proposed = client.get(f"/api/v1/phasing/plans/{plan_id}/phases/1/proposal?count=2").json()
    codes = [t["code"] for t in proposed["territories"]]
    assert len(codes) == 2 and "CL02001" not in codes  # Austral ranks last (see the ranking above)
    taken = client.put(
        f"/api/v1/phasing/plans/{plan_id}/phases/1/territories", {"territories": codes}, content_type="application/json"
    )
    assert taken.status_code == 200
    assert AuditEvent.objects.filter(action=Action.UPDATE, entity="planning.phase", actor=national).exists()
    detail = client.get(f"/api/v1/phasing/plans/{plan_id}").json()
    assert detail["children"] == 4
    (phase,) = detail["phases"]
    # Alta 1 and Baja 2 children, all born 2024-03-10, after the phase began; 3 of the plan's 4.
    assert (phase["children"], phase["cohort"], phase["cumulative_share"]) == (3, 3, 0.75)
    by_year = {r["year"]: r for r in phase["rollout"]}
    assert by_year[2024] == {"year": 2024, "pregnancies": 0, "births": 3, "under_1": 3, "age_1_2": 0, "age_2_4": 0}
    assert by_year[2025] == {"year": 2025, "pregnancies": 0, "births": 0, "under_1": 0, "age_1_2": 3, "age_2_4": 0}
    # A second phase cannot take a territory of the first.
    client.post(
        f"/api/v1/phasing/plans/{plan_id}/phases",
        {"name": "Fase 2", "starts": "2027-01-01", "ends": "2030-12-31"},
        content_type="application/json",
    )
    clash = client.put(
        f"/api/v1/phasing/plans/{plan_id}/phases/2/territories",
        {"territories": ["CL01001"]},
        content_type="application/json",
    )
    assert clash.status_code == 422
    assert clash.json()["errors"]["territories"][0]["code"] == "in_another_phase"
    bad = client.post(
        f"/api/v1/phasing/plans/{plan_id}/phases",
        {"name": "Fase 3", "starts": "2031-01-01", "ends": "2030-12-31"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "ends" in bad.json()["errors"]


def test_who_plans_who_proposes_who_reads(world, api_client):
    regional, coordinator, auditor = world["regional_norte"], world["coordinator_alta"], world["auditor"]
    national_plan = _plan(world["national"])
    actions.add_phase(
        Actor(world["national"]), national_plan, {"name": "Fase 1", "starts": "2027-01-01", "ends": "2030-12-31"}
    )
    # A regional manager plans in their region only.
    refused = api_client(regional).post(
        "/api/v1/phasing/plans",
        {"name": "x", "territory_code": "CL", "level": "municipality", "period": "2025"},
        content_type="application/json",
    )
    assert refused.status_code == 422 and "territory_code" in refused.json()["errors"]
    assert (
        api_client(regional)
        .patch(f"/api/v1/phasing/plans/{national_plan.pk}", {"name": "mío"}, content_type="application/json")
        .status_code
        == 403
    )
    # Auditors and coordinators read; they cannot write.
    assert api_client(auditor).get(f"/api/v1/phasing/plans/{national_plan.pk}").status_code == 200
    assert (
        api_client(auditor)
        .post(f"/api/v1/phasing/plans/{national_plan.pk}/phases", {"name": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert api_client(world["nurse_alta"]).get("/api/v1/phasing/plans").status_code == 403
    # The coordinator sees only their municipality in the national plan's priorities.
    mine = api_client(coordinator).get(f"/api/v1/phasing/plans/{national_plan.pk}/priorities").json()["results"]
    assert [r["territory"] for r in mine] == ["CL01001"] and mine[0]["rank"] == 2
    # ... and proposes it for a phase; a regional manager of another region cannot see the proposal.
    made = api_client(coordinator).post(
        f"/api/v1/phasing/plans/{national_plan.pk}/phases/1/proposals",
        {"reason": "Muchos niños sin controles"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    twice = api_client(coordinator).post(
        f"/api/v1/phasing/plans/{national_plan.pk}/phases/1/proposals",
        {"reason": "otra vez"},
        content_type="application/json",
    )
    assert twice.status_code == 422 and twice.json()["errors"]["phase"][0]["code"] == "pending"
    proposal_id = made.json()["id"]
    assert (
        api_client(coordinator)
        .post(
            f"/api/v1/phasing/proposals/{proposal_id}/decide", {"decision": "accept"}, content_type="application/json"
        )
        .status_code
        == 403
    )
    decline = api_client(world["national"]).post(
        f"/api/v1/phasing/proposals/{proposal_id}/decide", {"decision": "decline"}, content_type="application/json"
    )
    assert decline.status_code == 422 and "answer" in decline.json()["errors"]
    accepted = api_client(world["national"]).post(
        f"/api/v1/phasing/proposals/{proposal_id}/decide", {"decision": "accept"}, content_type="application/json"
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert list(national_plan.phases.get(number=1).territories.values_list("code", flat=True)) == ["CL01001"]
    # A plan of the northern region is not seen from the south.
    north = _plan(regional, "CL01", name="Plan Norte")
    assert api_client(world["auditor_sur"]).get(f"/api/v1/phasing/plans/{north.pk}").status_code == 404
    assert Proposal.objects.filter(state="accepted").count() == 1


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_show_names_and_download_excel(world):
    national = world["national"]
    plan = _plan(national)
    actions.add_phase(Actor(national), plan, {"name": "Fase uno", "starts": "2024-01-01", "ends": "2026-12-31"})
    client = _signed_in(national)
    home = client.get("/planning/")
    assert (
        "Índice de Desarrollo Infantil Temprano" in home.content.decode() and "Plan nacional" in home.content.decode()
    )
    index = client.get("/planning/indices/idit/?territory=CL01&period=2025").content.decode()
    assert "Comuna Alta" in index and "72.0" in index and "Niños y niñas evaluados con EEDP a los 18 meses" in index
    priorities = client.get(f"/planning/plans/{plan.pk}/priorities/").content.decode()
    assert "Comuna Baja" in priorities and "CL01002" not in priorities
    phase = client.get(f"/planning/plans/{plan.pk}/phases/1/?propose=1").content.decode()
    assert 'value="CL01002" checked' in phase and 'value="CL01001" checked' not in phase
    saved = client.post(
        f"/planning/plans/{plan.pk}/phases/1/",
        {"name": "Fase uno", "starts": "2024-01-01", "ends": "2026-12-31", "territories": ["CL01002"]},
    )
    assert saved.status_code == 302
    page = client.get(f"/planning/plans/{plan.pk}/").content.decode()
    assert "Comuna Baja" in page and "Despliegue por cohorte" in page
    bad = client.post(f"/planning/plans/{plan.pk}/", {"do": "phase", "name": "", "starts": "x", "ends": ""})
    assert "Escriba una fecha como 2027-01-31." in bad.content.decode()
    for url in (
        f"/planning/plans/{plan.pk}/priorities.xlsx",
        "/planning/indices/idit/index.xlsx?territory=CL01&period=2025",
        f"/planning/plans/{plan.pk}/plan.xlsx",
    ):
        download = client.get(url)
        assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action=Action.EXPORT, entity="planning", actor=national).count() == 3
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    first = [c.value for c in sheet[2]]
    assert first[0] == "Fase uno" and first[3:6] == [1, 2, 2]  # Comuna Baja: 2 children, both born in the phase


def test_the_menu_shows_planning_only_to_roles_that_read_it(world):
    assert 'href="/planning/"' in _signed_in(world["coordinator_alta"]).get("/").content.decode()
    assert 'href="/planning/"' not in _signed_in(world["nurse_alta"]).get("/").content.decode()
    assert _signed_in(world["nurse_alta"]).get("/planning/").status_code == 404


def test_weights_are_checked(world):
    with pytest.raises(InputErrors) as caught:
        _plan(world["national"], weights={"children": "-1"})
    assert "weights" in caught.value.errors
    plan = _plan(world["national"], weights={})
    assert phasing.weights_of(plan)["vulnerability"] == F(35, 100)  # the profile's default
    assert phasing.years_before(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)


def test_many_territories_are_counted_each_on_its_own(world):
    from crecer.places.actions import create_territory

    for n in range(21):
        create_territory(SYSTEM, f"CL02{n + 100:03d}", f"Comuna Nueva {n}", "municipality", "CL02")
    territories = list(Territory.objects.filter(level="municipality").order_by("code"))
    assert len(territories) == 24  # more than 20: one shared prefix, added up per territory
    counts = {t.code: n for t, n in zip(territories, phasing.children_counts(territories).values(), strict=True)}
    assert (counts["CL01001"], counts["CL01002"], counts["CL02001"], counts["CL02100"]) == (1, 2, 1, 0)
