"""Money on results: agreements evaluated on frozen snapshots, appeals, scope, incentives and awards."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Max

from crecer.audit.models import Action, AuditEvent
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import snapshots
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.registry import actions as registry_actions
from crecer.results import actions, programmes
from crecer.results.models import Agreement, Appeal, AppealState, Evaluation, Frozen
from crecer.territories.models import Territory
from crecer.validation import InputErrors
from tests.conftest import SYSTEM

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def frozen(period: str, figures: dict[tuple[str, str], float | None], denominator: float = 100) -> Snapshot:
    """A frozen snapshot of ``period`` holding ``{(indicator, territory code): value}`` (a new revision)."""
    territories = {t.code: t.pk for t in Territory.objects.all()}
    with transaction.atomic():
        last = Snapshot.objects.filter(period=period).aggregate(m=Max("revision"))["m"] or 0
        snapshot = Snapshot.objects.create(
            period=period,
            revision=last + 1,
            profile="cl",
            profile_version="test",
            definitions={code: 1 for code, _ in figures},
            fingerprint="0" * 64,
        )
        SnapshotValue.objects.bulk_create(
            SnapshotValue(
                snapshot=snapshot,
                indicator=code,
                version=1,
                territory_id=territories[t],
                numerator=(value or 0) * denominator / 100,
                denominator=denominator,
                value=value,
            )
            for (code, t), value in figures.items()
        )
    return snapshot


def agreement_body(code: str = "CONV-ALTA", territory: str = "CL01001", **tranche: Any) -> dict[str, Any]:
    first = {
        "number": 1,
        "share": "40",
        "due_date": "2025-07-31",
        "payment_rule": "proportional",
        "conditions": [
            {
                "indicator": "check_ups_up_to_date_0_11m",
                "rule": "months_met",
                "months": MONTHS,
                "k": 5,
                "baseline": 60,
                "target": 80,
                "weight": 2,
            },
            {"indicator": "low_birth_weight", "rule": "at_period_end", "period": "2025", "baseline": 10, "target": 6},
        ],
        **tranche,
    }
    second = {
        "number": 2,
        "share": "60",
        "due_date": "2025-12-31",
        "payment_rule": "threshold",
        "floor": "0.6",
        "conditions": [
            {"indicator": "welcome_kit", "rule": "at_period_end", "period": "2025", "baseline": 60, "target": 80}
        ],
    }
    return {
        "code": code,
        "name": "Convenio Chile Crece Contigo 2025",
        "party_kind": "municipality",
        "territory_code": territory,
        "period": "2025",
        "total": "10000000.01",
        "currency": "CLP",
        "tranches": [first, second],
    }


def monthly(values: list[float | None], territory: str = "CL01001") -> list[Snapshot]:
    return [frozen(m, {("check_ups_up_to_date_0_11m", territory): v}) for m, v in zip(MONTHS, values, strict=True)]


@pytest.fixture
def agreement(cast) -> Agreement:
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    return actions.sign(national, actions.create_agreement(national, agreement_body()))


def test_an_agreement_splits_its_total_into_tranches_exactly_and_is_audited(api_client, cast):
    response = api_client(cast["national"]).post(
        "/api/v1/agreements", agreement_body(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total_cents"] == 1_000_000_001
    # 40 % and 60 % of 1 000 000 001 cents: 400 000 000.4 and 600 000 000.6 → the leftover cent to the larger remainder
    assert [t["amount_cents"] for t in data["tranches"]] == [400_000_000, 600_000_001]
    assert data["state"] == "draft"
    created = AuditEvent.objects.get(entity="results.agreement", entity_id=data["id"], action=Action.CREATE)
    assert created.actor == cast["national"]
    signed = api_client(cast["national"]).post(f"/api/v1/agreements/{data['id']}/sign")
    assert signed.json()["state"] == "signed"
    assert AuditEvent.objects.filter(entity="results.agreement", entity_id=data["id"], note="sign").exists()


def test_a_bad_agreement_is_refused_field_by_field(api_client, cast):
    body = agreement_body()
    body["tranches"][0]["share"] = "30"
    body["tranches"][0]["conditions"][0]["indicator"] = "nope"
    body["total"] = "12.345"
    response = api_client(cast["national"]).post("/api/v1/agreements", body, content_type="application/json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"tranches", "tranches.0.conditions.0.indicator", "total"} <= set(errors)
    assert not Agreement.objects.exists()


def test_evaluation_five_of_six_months_and_period_end(api_client, cast, agreement):
    months = monthly([82, 79, 85, 80, 90, 81])  # met in 5 of 6 months → 1
    year = frozen("2025", {("low_birth_weight", "CL01001"): 8.0, ("welcome_kit", "CL01001"): 72.0})
    url = f"/api/v1/agreements/{agreement.pk}/tranches/1/evaluate"
    response = api_client(cast["national"]).post(url)
    assert response.status_code == 201, response.content
    data = response.json()
    # low birth weight 8 % from baseline 10 % towards 6 %: half way; weights 2 and 1 → (2×1 + 1×½) / 3 = 5/6
    assert [(c["indicator"], c["territory"], c["compliance"]) for c in data["conditions"]] == [
        ("check_ups_up_to_date_0_11m", "CL01001", 1.0),
        ("low_birth_weight", "CL01001", 0.5),
    ]
    assert data["conditions"][0]["detail"]["met"] == 5
    assert data["conditions"][1]["value"] == 8.0 and data["conditions"][1]["target"] == 6.0
    assert data["weighted_compliance_exact"] == "5/6"
    # tranche 1 is 400 000 000 cents × 5/6 = 333 333 333.33 → 333 333 333
    assert data["amount_cents"] == 333_333_333
    assert data["amount"] == "3333333.33"
    assert sorted(data["snapshots"]) == sorted([s.pk for s in months] + [year.pk])
    assert Agreement.objects.get(pk=agreement.pk).state == "in_execution"


def test_threshold_tranche_pays_at_its_floor(api_client, cast, agreement):
    # welcome kit 72 % from 60 towards 80: 12/20 = 0.6, exactly the floor → 600 000 001 × 0.6 = 360 000 000.6 → …001
    frozen("2025", {("welcome_kit", "CL01001"): 72.0})
    data = api_client(cast["national"]).post(f"/api/v1/agreements/{agreement.pk}/tranches/2/evaluate").json()
    assert data["weighted_compliance_exact"] == "3/5"
    assert data["amount_cents"] == 360_000_001
    # a new revision of the year just below the floor pays nothing
    frozen("2025", {("welcome_kit", "CL01001"): 71.9})
    below = api_client(cast["national"]).post(f"/api/v1/agreements/{agreement.pk}/tranches/2/evaluate").json()
    assert below["amount_cents"] == 0 and below["version"] == 2


def test_evaluation_is_refused_naming_the_period_without_a_snapshot(api_client, cast, agreement):
    monthly([82, 79, 85, 80, 90, 81])[:5]  # every month, but no snapshot of the year 2025
    response = api_client(cast["national"]).post(f"/api/v1/agreements/{agreement.pk}/tranches/1/evaluate")
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]["snapshots"]]
    assert len(messages) == 1 and "2025" in messages[0]
    assert not Evaluation.objects.exists()


def test_an_evaluation_is_unchanged_after_the_data_under_it_changes(cast, make_child, agreement):
    """On a real snapshot: the children of Alta have no document (100 % missing); registering documented
    children later changes the live figure, not the evaluation nor a re-evaluation on the same snapshot."""
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    for i in range(2):
        make_child(given_names=f"Sin Documento {i}", birth_date="2024-01-10")
    body = agreement_body("CONV-DQ")
    body["tranches"] = [
        {
            "number": 1,
            "share": "100",
            "due_date": "2025-12-31",
            "payment_rule": "proportional",
            "conditions": [
                {
                    "indicator": "dq_missing_document",
                    "rule": "at_period_end",
                    "period": "2025",
                    "baseline": 100,
                    "target": 0,
                }
            ],
        }
    ]
    dq = actions.sign(national, actions.create_agreement(national, body))
    snapshots.take(SYSTEM, parse_period("2025"), "test")
    tranche = dq.tranches.get()
    first = actions.evaluate(national, tranche)
    assert first.conditions[0]["value"] == 100.0 and first.amount_cents == 0
    stored = (first.pk, first.conditions, first.weighted_compliance, first.amount_cents, first.snapshots)
    for i in range(3):
        registry_actions.create_child(
            SYSTEM,
            {
                "given_names": f"Con Documento {i}",
                "paternal_surname": "Rojas",
                "sex": "F",
                "birth_date": "2024-02-10",
                "territory_code": "CL01001",
                "national_id": ["11111111-1", "22222222-2", "33333333-3"][i],
            },
        )
    again = Evaluation.objects.get(pk=first.pk)
    assert (again.pk, again.conditions, again.weighted_compliance, again.amount_cents, again.snapshots) == stored
    second = actions.evaluate(national, tranche)  # same snapshot: same figures, a new version
    assert second.version == 2
    assert (second.conditions, second.amount_cents, second.snapshots) == (stored[1], stored[3], stored[4])
    with pytest.raises(Frozen):
        again.amount_cents = 1
        again.save()
    with pytest.raises(Frozen):
        Evaluation.objects.filter(pk=first.pk).update(amount_cents=1)


@pytest.mark.django_db(transaction=False)
def test_the_database_refuses_to_rewrite_an_evaluation(cast, agreement):
    frozen("2025", {("welcome_kit", "CL01001"): 90.0})
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    item = actions.evaluate(national, agreement.tranches.get(number=2))
    with pytest.raises(Exception, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE results_evaluation SET amount_cents = 1 WHERE id = %s", [item.pk])


def test_an_appeal_with_evidence_recomputes_on_a_new_snapshot_revision_with_its_audit(
    api_client, cast, make_child, agreement, settings, tmp_path
):
    settings.CRECER_UPLOAD_DIR = tmp_path
    national, coordinator = cast["national"], cast["coordinator_alta"]
    make_child(given_names="Uno", birth_date="2024-01-10")
    frozen("2025", {("welcome_kit", "CL01001"): 50.0})  # a figure the appeal says is wrong
    url = f"/api/v1/agreements/{agreement.pk}/tranches/2"
    first = api_client(national).post(f"{url}/evaluate").json()
    assert first["amount_cents"] == 0
    evidence = {"name": "acta.pdf", "content_base64": base64.b64encode(b"%PDF-1.4 acta").decode()}
    filed = api_client(coordinator).post(
        f"{url}/appeal",
        {"text": "Los kits entregados en diciembre no estaban registrados.", "file": evidence},
        content_type="application/json",
    )
    assert filed.status_code == 201, filed.content
    appeal = Appeal.objects.get(pk=filed.json()["id"])
    assert appeal.original_name == "acta.pdf" and (tmp_path / "results" / appeal.stored_name).read_bytes().startswith(
        b"%PDF"
    )
    # the coordinator cannot decide their own appeal
    refused = api_client(coordinator).post(
        f"/api/v1/appeals/{appeal.pk}/decide",
        {"decision": "recompute", "reason": "x" * 10},
        content_type="application/json",
    )
    assert refused.status_code == 403
    before = Snapshot.objects.filter(period="2025").count()
    decided = api_client(national).post(
        f"/api/v1/appeals/{appeal.pk}/decide",
        {"decision": "recompute", "reason": "Registros tardíos verificados"},
        content_type="application/json",
    )
    assert decided.status_code == 200, decided.content
    new = decided.json()["evaluation"]
    assert new["version"] == 2 and new["appeal"] == appeal.pk
    revision = Snapshot.objects.filter(period="2025").order_by("-revision").first()
    assert Snapshot.objects.filter(period="2025").count() == before + 1
    assert new["snapshots"] == [revision.pk] and first["snapshots"] != new["snapshots"]
    # who and why: the new snapshot revision, the evaluation and the decision are audited as the national manager
    why = f"Apelación {appeal.pk}: Registros tardíos verificados"  # the reason, in the user's language
    assert AuditEvent.objects.filter(
        entity="monitoring.snapshot", entity_id=revision.pk, actor=national, note=why
    ).exists()
    assert AuditEvent.objects.filter(
        entity="results.evaluation", entity_id=new["id"], actor=national, note=why
    ).exists()
    decision = AuditEvent.objects.get(entity="results.appeal", entity_id=appeal.pk, action=Action.UPDATE)
    assert decision.actor == national and decision.after["state"] == AppealState.RECOMPUTED
    # every version is kept and shown
    shown = api_client(coordinator).get(f"/api/v1/agreements/{agreement.pk}").json()["tranches"][1]
    assert [e["version"] for e in shown["evaluations"]] == [2, 1]
    assert shown["appeals"][0]["state"] == "recomputed"
    assert Evaluation.objects.get(pk=first["id"]).amount_cents == 0


def test_an_appeal_rejected_keeps_the_evaluation(api_client, cast, agreement):
    frozen("2025", {("welcome_kit", "CL01001"): 50.0})
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    coordinator = SYSTEM.__class__(cast["coordinator_alta"], SYSTEM.channel)
    item = actions.evaluate(national, agreement.tranches.get(number=2))
    appeal = actions.file_appeal(coordinator, item, "No estamos de acuerdo con la cifra.")
    assert actions.decide_appeal(national, appeal, "reject", "La cifra está verificada") is None
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REJECTED and appeal.decision == "La cifra está verificada"
    assert Evaluation.objects.filter(tranche=item.tranche).count() == 1


def test_a_municipality_sees_only_its_own_agreements(api_client, cast):
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    alta = actions.create_agreement(national, agreement_body("CONV-ALTA", "CL01001"))
    baja = actions.create_agreement(national, agreement_body("CONV-BAJA", "CL01002"))
    austral = actions.create_agreement(national, agreement_body("CONV-AUSTRAL", "CL02001"))
    coordinator = api_client(cast["coordinator_alta"])
    assert [a["code"] for a in coordinator.get("/api/v1/agreements").json()["results"]] == ["CONV-ALTA"]
    assert coordinator.get(f"/api/v1/agreements/{alta.pk}").status_code == 200
    assert coordinator.get(f"/api/v1/agreements/{baja.pk}").status_code == 404
    # reading is not managing
    assert coordinator.post(f"/api/v1/agreements/{alta.pk}/sign").status_code == 403
    assert (
        coordinator.post(
            "/api/v1/agreements", agreement_body("X", "CL01001"), content_type="application/json"
        ).status_code
        == 403
    )
    regional = api_client(cast["regional_norte"])
    assert [a["code"] for a in regional.get("/api/v1/agreements").json()["results"]] == ["CONV-ALTA", "CONV-BAJA"]
    assert regional.post(f"/api/v1/agreements/{austral.pk}/sign").status_code == 404
    assert len(api_client(cast["auditor"]).get("/api/v1/agreements").json()["results"]) == 3
    assert api_client(cast["auditor"]).post(f"/api/v1/agreements/{alta.pk}/sign").status_code == 403
    assert api_client(cast["nurse_alta"]).get("/api/v1/agreements").json()["results"] == []
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/agreements/{alta.pk}").status_code == 404


def test_the_same_agreement_for_every_municipality_of_a_region_by_formula(api_client, cast, make_child):
    for i in range(3):
        make_child(given_names=f"Niño {i}", territory_code="CL01001")
    make_child(given_names="Niña", territory_code="CL01002")
    body = {**agreement_body("CCC25"), "region_code": "CL01", "base": "1000000", "per_child": "1500.50"}
    response = api_client(cast["regional_norte"]).post("/api/v1/agreements", body, content_type="application/json")
    assert response.status_code == 201, response.content
    by_code = {a["code"]: a for a in response.json()["results"]}
    assert set(by_code) == {"CCC25-CL01001", "CCC25-CL01002"}
    assert by_code["CCC25-CL01001"]["total_cents"] == 100_000_000 + 3 * 150_050
    assert by_code["CCC25-CL01002"]["total_cents"] == 100_000_000 + 150_050
    baja = Agreement.objects.get(code="CCC25-CL01002")
    assert {c.territory.code for t in baja.tranches.all() for c in t.conditions.all()} == {"CL01002"}
    # a regional manager of the north cannot create them for the south
    south = {**body, "code": "CCC25S", "region_code": "CL02"}
    assert (
        api_client(cast["regional_norte"])
        .post("/api/v1/agreements", south, content_type="application/json")
        .status_code
        == 403
    )


def test_incentive_distribution_sums_exactly_to_the_budget_and_is_reproducible(api_client, cast):
    frozen(
        "2025",
        {
            ("welcome_kit", "CL01001"): 80.0,  # compliance 1
            ("welcome_kit", "CL01002"): 70.0,  # 1/2
            ("welcome_kit", "CL02001"): 65.0,  # 1/4
        },
    )
    body = {
        "code": "FED-2025",
        "name": "Fondo de estímulo",
        "period": "2025",
        "budget": "1000.00",
        "territory_codes": ["CL01001", "CL01002", "CL02001"],
        "conditions": [
            {"indicator": "welcome_kit", "rule": "at_period_end", "period": "2025", "baseline": 60, "target": 80}
        ],
    }
    client = api_client(cast["national"])
    created = client.post("/api/v1/incentives", body, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    first = client.post(f"/api/v1/incentives/{pk}/distribute").json()
    # 100 000 cents by 1 : 1/2 : 1/4 (= 4:2:1) → 57 142.86, 28 571.43, 14 285.71 → floors 57 142, 28 571, 14 285
    # (99 998); the two cents left go to the largest remainders (.86 and .71)
    assert {r["territory"]: r["amount_cents"] for r in first["results"]} == {
        "CL01001": 57_143,
        "CL01002": 28_571,
        "CL02001": 14_286,
    }
    assert first["distributed_cents"] == 100_000
    again = client.post(f"/api/v1/incentives/{pk}/distribute").json()
    assert again["results"] == first["results"] and again["version"] == 2
    read = client.get(f"/api/v1/incentives/{pk}/distribution").json()
    assert read["version"] == 2 and read["snapshots"] == first["snapshots"]
    # the coordinator of Alta reads the programme's row of Alta only
    mine = api_client(cast["coordinator_alta"]).get(f"/api/v1/incentives/{pk}/distribution").json()
    assert [r["territory"] for r in mine["results"]] == ["CL01001"]


def test_incentive_by_child_population_reads_the_population_from_the_snapshot(cast):
    frozen("2025", {("welcome_kit", "CL01001"): 80.0, ("welcome_kit", "CL01002"): 80.0})
    snap = Snapshot.objects.get(period="2025")
    SnapshotValue.objects.bulk_create(
        [
            SnapshotValue(
                snapshot=snap,
                indicator="dq_mother_pending",
                version=1,
                territory=Territory.objects.get(code=c),
                numerator=0,
                denominator=n,
                value=0,
            )
            for c, n in (("CL01001", 300), ("CL01002", 100))
        ]
    )
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    programme = programmes.create_programme(
        national,
        {
            "code": "FED-POB",
            "period": "2025",
            "budget": "10",
            "by_population": True,
            "territory_codes": ["CL01001", "CL01002"],
            "conditions": [{"indicator": "welcome_kit", "period": "2025", "baseline": 60, "target": 80}],
        },
    )
    rows = {r["code"]: r for r in programmes.distribute(national, programme).rows}
    assert (rows["CL01001"]["amount_cents"], rows["CL01002"]["amount_cents"]) == (750, 250)
    assert rows["CL01001"]["population"] == 300


def test_award_results_score_rank_level_and_data_quality(api_client, cast):
    frozen(
        "2025",
        {
            ("welcome_kit", "CL01001"): 90.0,
            ("low_birth_weight", "CL01001"): 5.0,
            ("dq_missing_document", "CL01001"): 2.0,
            ("welcome_kit", "CL01002"): 90.0,
            ("low_birth_weight", "CL01002"): 9.0,
            ("dq_missing_document", "CL01002"): 1.0,
            ("welcome_kit", "CL02001"): 95.0,
            ("low_birth_weight", "CL02001"): 4.0,
            ("dq_missing_document", "CL02001"): 30.0,  # poor data: not eligible
        },
    )
    body = {
        "code": "SELLO-2025",
        "name": "Sello Municipio Crece",
        "period": "2025",
        "criteria": [
            {"indicator": "welcome_kit", "threshold": 85, "weight": 1},
            {"indicator": "low_birth_weight", "threshold": 6, "weight": 1},
        ],
        "quality": [{"indicator": "dq_missing_document", "max": 5}],
        "levels": [
            {"code": "gold", "name": "Oro", "min_score": 100},
            {"code": "bronze", "name": "Bronce", "min_score": 50},
        ],
    }
    client = api_client(cast["national"])
    pk = client.post("/api/v1/awards", body, content_type="application/json").json()["id"]
    assert client.post(f"/api/v1/awards/{pk}/compute").status_code == 201
    rows = {
        r["territory"]: r
        for r in api_client(cast["coordinator_alta"]).get(f"/api/v1/awards/{pk}/results").json()["results"]
    }
    assert (rows["CL01001"]["score"], rows["CL01001"]["rank"], rows["CL01001"]["level"]) == ("100.00", 1, "gold")
    assert (rows["CL01002"]["score"], rows["CL01002"]["rank"], rows["CL01002"]["level"]) == ("50.00", 2, "bronze")
    assert rows["CL02001"]["eligible"] is False and rows["CL02001"]["level"] == "" and rows["CL02001"]["rank"] is None
    assert rows["CL02001"]["quality_failed"] == ["dq_missing_document"]


def test_due_dates_are_dates(agreement):
    assert agreement.tranches.get(number=1).due_date == dt.date(2025, 7, 31)


def test_evaluating_many_tranches_at_once_gives_what_evaluating_each_gives(cast):
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    alta = actions.sign(national, actions.create_agreement(national, agreement_body("CONV-ALTA", "CL01001")))
    baja = actions.sign(national, actions.create_agreement(national, agreement_body("CONV-BAJA", "CL01002")))
    monthly([82, 79, 85, 80, 90, 81])
    for m, v in zip(MONTHS, [70, 90, 90, 90, 70, 70], strict=True):  # Baja: 3 of 6 → 3/5
        snapshot = Snapshot.objects.get(period=m)
        SnapshotValue.objects.create(
            snapshot=snapshot,
            indicator="check_ups_up_to_date_0_11m",
            version=1,
            territory=Territory.objects.get(code="CL01002"),
            numerator=v,
            denominator=100,
            value=v,
        )
    frozen("2025", {("low_birth_weight", "CL01001"): 8.0, ("welcome_kit", "CL01001"): 72.0})
    tranches = [t for a in (alta, baja) for t in a.tranches.select_related("agreement__territory")]
    many = actions.evaluate_many(national, tranches, reason="lote")
    one_by_one = [actions.evaluate(national, t) for t in tranches]
    assert [(e.amount_cents, e.weighted_compliance, e.snapshots) for e in many] == [
        (e.amount_cents, e.weighted_compliance, e.snapshots) for e in one_by_one
    ]
    assert [e.version for e in many] == [1, 1, 1, 1] and [e.version for e in one_by_one] == [2, 2, 2, 2]
    baja_1 = many[2]
    # Baja: check-ups 3/5 with weight 2, low birth weight missing (0) → (2 × 3/5) / 3 = 2/5
    assert baja_1.weighted_compliance == "2/5" and baja_1.amount_cents == 160_000_000
    assert AuditEvent.objects.filter(entity="results.evaluation", note="lote", actor=cast["national"]).count() == 4
    assert set(Agreement.objects.values_list("state", flat=True)) == {"in_execution"}


def test_only_a_manager_of_the_whole_country_computes_an_award_edition(api_client, cast):
    frozen("2025", {("welcome_kit", "CL01001"): 90.0})
    body = {"code": "SELLO", "period": "2025", "criteria": [{"indicator": "welcome_kit", "threshold": 85}]}
    regional = api_client(cast["regional_norte"])
    assert regional.post("/api/v1/awards", body, content_type="application/json").status_code == 403
    pk = api_client(cast["national"]).post("/api/v1/awards", body, content_type="application/json").json()["id"]
    assert regional.post(f"/api/v1/awards/{pk}/compute").status_code == 403
    assert api_client(cast["coordinator_alta"]).post(f"/api/v1/awards/{pk}/compute").status_code == 403
    computed = api_client(cast["national"]).post(f"/api/v1/awards/{pk}/compute").json()
    assert {r["territory"] for r in computed["results"]} == {"CL01001", "CL01002", "CL02001"}


def test_an_agreement_with_an_organisation_is_read_in_its_territory_and_moves_through_its_states(api_client, cast):
    body = {**agreement_body("CONV-OPD"), "party_kind": "organisation", "organisation_code": "OPD-ALTA"}
    body.pop("territory_code")
    created = api_client(cast["national"]).post("/api/v1/agreements", body, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["party_kind"], data["organisation"], data["territory"]) == ("organisation", "OPD-ALTA", "CL01001")
    assert {c["territory"] for t in data["tranches"] for c in t["conditions"]} == {"CL01001"}
    assert [a["code"] for a in api_client(cast["coordinator_alta"]).get("/api/v1/agreements").json()["results"]] == [
        "CONV-OPD"
    ]
    national = SYSTEM.__class__(cast["national"], SYSTEM.channel)
    agreement = Agreement.objects.get(pk=data["id"])
    with pytest.raises(InputErrors):
        actions.transition(national, agreement, "close")  # a draft cannot be closed
    for step, state in (("sign", "signed"), ("start", "in_execution"), ("close", "closed")):
        assert actions.transition(national, agreement, step).state == state
    assert list(
        AuditEvent.objects.filter(entity="results.agreement", entity_id=agreement.pk, action=Action.UPDATE)
        .order_by("pk")
        .values_list("note", flat=True)
    ) == ["sign", "start", "close"]
    frozen("2025", {("welcome_kit", "CL01001"): 90.0})
    with pytest.raises(InputErrors):
        actions.evaluate(national, agreement.tranches.get(number=2))  # a closed agreement is not evaluated
