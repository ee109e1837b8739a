"""Need-to-know on referrals, by role, on every path (issue 12, point 1).

A referral revealing a sensitive category (its service's, or one consented for sharing) is seen only by
users granted that category or party to it (sender, receiver, the municipality's coordinator): by id (page
and API), in the boxes, on the child's page and timeline, in a figure's list, in FHIR, in notifications.
A provider sees a referral, and its child, only while its grant lasts (open plus the grace period). A
provider's worklists hold only the categories its grant shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crecer.access.categories import revealed_by
from crecer.access.models import DataCategory, Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.interop.fhir_export import child_bundle
from crecer.places.actions import save_place
from crecer.referrals import actions
from crecer.referrals import scope as referral_scope
from crecer.referrals.models import Referral, Service, State
from crecer.registry import actions as registry_actions
from crecer.territories.models import Facility, FacilityKind, Organisation, Territory
from crecer.tracking import actions as tracking_actions
from crecer.tracking import worklists

SYSTEM = Actor(None, Channel.SYSTEM)
REASON = "Sospecha de negligencia grave"


@pytest.fixture
def kid(make_child: Any, today: dt.date) -> Any:
    return make_child(
        given_names="Florencia", birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA"
    )


def _page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _refer(user: Any, kid: Any, service: str, consent: list[str], organisation: str = "") -> Referral:
    return actions.create_referral(
        Actor(user, Channel.WEB),
        child=kid,
        service_code=service,
        reason=REASON,
        consent=consent,
        organisation_code=organisation,
    )


def _seen_everywhere(user: Any, referral: Referral, api_client: Any, today: dt.date) -> dict[str, bool]:
    """Whether ``user`` meets the referral on each path."""
    api = api_client(user)
    page = _page(user)
    seen = {
        "api detail": api.get(f"/api/v1/referrals/{referral.pk}").status_code == 200,
        "page detail": page.get(f"/referrals/{referral.pk}/").status_code == 200,
        "scoped query": referral_scope.visible(user).filter(pk=referral.pk).exists(),
    }
    listed = False
    for box in referral_scope.BOXES:
        body = api.get("/api/v1/referrals", {"box": box}).json()
        listed |= referral.pk in [r["id"] for r in body.get("results", [])]
        listed |= REASON in page.get("/referrals/", {"box": box}).content.decode()
    seen["boxes"] = listed
    child_page = page.get(f"/children/{referral.child_id}/")
    seen["child page"] = child_page.status_code == 200 and f"/referrals/{referral.pk}/" in child_page.content.decode()
    timeline = api.get(f"/api/v1/children/{referral.child_id}/timeline")
    seen["timeline"] = timeline.status_code == 200 and any(i["kind"] == "referral" for i in timeline.json())
    figure = page.get(
        "/monitoring/referrals_accepted_on_time/subjects/",
        {"territory": "CL01001", "period": str(today.year), "side": "denominator"},
    )
    seen["figure list"] = figure.status_code == 200 and f"/referrals/{referral.pk}/" in figure.content.decode()
    if referral.child is not None and user.has_territorial_access:
        bundle = child_bundle(user, referral.child, "https://crecer.example")
        seen["fhir"] = any(e["resource"]["resourceType"] == "ServiceRequest" for e in bundle["entry"])
    return seen


BLIND = ["nurse_alta", "regional_norte", "national", "auditor", "inspector"]


def test_a_child_protection_referral_is_seen_only_by_its_parties_and_the_granted(cast, network, kid, api_client, today):
    referral = _refer(cast["coordinator_alta"], kid, "child_protection", [])
    assert revealed_by(referral) == {DataCategory.CHILD_PROTECTION}
    for name in BLIND:
        seen = _seen_everywhere(cast[name], referral, api_client, today)
        assert not any(seen.values()), (name, seen)
    # The territorial managers still see the child (only the referral is hidden).
    assert api_client(cast["regional_norte"]).get(f"/api/v1/children/{kid.pk}").status_code == 200
    coordinator = _seen_everywhere(cast["coordinator_alta"], referral, api_client, today)
    assert all(coordinator.values()), coordinator
    receiver = _seen_everywhere(cast["provider_opd"], referral, api_client, today)
    assert receiver["api detail"] and receiver["page detail"] and receiver["boxes"]
    # A provider staff member of another organisation is not party to it.
    assert not any(_seen_everywhere(network["staff"]["sala_alta"], referral, api_client, today).values())


def test_a_referral_consenting_a_sensitive_category_is_hidden_like_one(cast, network, kid, api_client, today):
    referral = _refer(
        cast["coordinator_alta"], kid, "stimulation_session", [DataCategory.DEVELOPMENT, DataCategory.CHILD_PROTECTION]
    )
    assert revealed_by(referral) == {DataCategory.DEVELOPMENT, DataCategory.CHILD_PROTECTION}
    for name in BLIND:
        assert not any(_seen_everywhere(cast[name], referral, api_client, today).values()), name
    assert all(_seen_everywhere(cast["coordinator_alta"], referral, api_client, today).values())
    receiver = network["staff"][referral.organisation.code.lower().replace("-", "_")]
    assert _seen_everywhere(receiver, referral, api_client, today)["api detail"]
    # The same referral without the sensitive consent is an ordinary one: managers see it; auditors read
    # the audit trail, not records (CRECER_AUDITORS_READ_RECORDS), so they see it nowhere.
    plain = _refer(cast["coordinator_alta"], kid, "home_visit", [DataCategory.SOCIAL])
    for name in ("nurse_alta", "regional_norte", "national"):
        assert _seen_everywhere(cast[name], plain, api_client, today)["api detail"], name
    assert not any(_seen_everywhere(cast["auditor"], plain, api_client, today).values())


def test_a_mental_health_referral_by_role_and_party(cast, network, kid, make_user, api_client, today, settings):
    actions.save_provision(
        SYSTEM,
        Organisation.objects.get(code="SALA-ALTA"),
        Service.objects.get(code="mental_health_care"),
        [Territory.objects.get(code="CL01001")],
        None,
    )
    referral = _refer(cast["nurse_alta"], kid, "mental_health_care", [])
    # Health workers are granted mental health (the default settings): the sender's colleagues see it.
    colleague = make_user("enfermera_alta_2", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA")
    save_place(
        SYSTEM,
        Facility,
        "kind",
        {"code": "F-ALTA-2", "name": "Posta Alta", "kind": FacilityKind.HEALTH_CENTRE},
        Territory.objects.get(code="CL01001").pk,
        None,
    )
    unattached = make_user("enfermera_posta", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA-2")
    for user in (cast["nurse_alta"], colleague, unattached, cast["coordinator_alta"]):
        assert _seen_everywhere(user, referral, api_client, today)["api detail"], user.username
    for name in ("regional_norte", "national", "auditor", "inspector"):
        assert not any(_seen_everywhere(cast[name], referral, api_client, today).values()), name
    # Without the category, only the parties (the sender and colleagues at the sending facility) see it.
    settings.CRECER_ROLE_SENSITIVE_CATEGORIES = {"municipal_coordinator": [DataCategory.MENTAL_HEALTH]}
    assert _seen_everywhere(cast["nurse_alta"], referral, api_client, today)["page detail"]
    assert _seen_everywhere(colleague, referral, api_client, today)["api detail"]
    assert not any(_seen_everywhere(unattached, referral, api_client, today).values())


def test_the_scoped_query_agrees_with_the_record_rule(cast, network, kid):
    """The set rule (service codes and consent text) and the record rule (``revealed_by``) agree."""
    referrals = [
        _refer(cast["coordinator_alta"], kid, "child_protection", []),
        _refer(cast["coordinator_alta"], kid, "stimulation_session", [DataCategory.CHILD_PROTECTION]),
        _refer(cast["coordinator_alta"], kid, "home_visit", [DataCategory.SOCIAL, DataCategory.HEALTH]),
    ]
    for name in ("nurse_alta", "regional_norte", "national", "auditor", "coordinator_alta"):
        user = cast[name]
        expected = {
            r.pk
            for r in referrals
            if revealed_by(r) <= user.data_categories()
            or (r.territory.path.startswith(user.territory.path) and user.role == Role.MUNICIPAL_COORDINATOR)
        }
        if user.role == Role.AUDITOR:
            expected = set()  # auditors read the audit trail, not records (the default setting)
        assert set(referral_scope.visible(user).values_list("pk", flat=True)) == expected, name


# --- a provider's access ends with its grant ----------------------------------------------------------


def _provider_sees(user: Any, referral: Referral, api_client: Any) -> dict[str, bool]:
    api, page = api_client(user), _page(user)
    notes = api.get("/api/v1/notifications").json()["results"]
    return {
        "api detail": api.get(f"/api/v1/referrals/{referral.pk}").status_code == 200,
        "page detail": page.get(f"/referrals/{referral.pk}/").status_code == 200,
        "api inbox": referral.pk in [r["id"] for r in api.get("/api/v1/referrals", {"box": "inbox"}).json()["results"]],
        "page inbox": f"/referrals/{referral.pk}/" in page.get("/referrals/", {"box": "inbox"}).content.decode(),
        "api child": api.get(f"/api/v1/children/{referral.child_id}").status_code == 200,
        "page child": page.get(f"/children/{referral.child_id}/").status_code == 200,
        "notification": referral.pk in [n["referral"] for n in notes],
        "notification link": f"/referrals/{referral.pk}/" in page.get("/notifications/").content.decode(),
    }


@pytest.mark.parametrize("days_ago, still", [(1, True), (31, False)])
def test_a_providers_access_ends_with_its_grant(cast, network, kid, api_client, days_ago, still):
    receiver = network["staff"]["sala_alta"]
    referral = _refer(cast["nurse_alta"], kid, "stimulation_session", [DataCategory.DEVELOPMENT], "SALA-ALTA")
    assert all(_provider_sees(receiver, referral, api_client).values())
    # Rejected some days ago: the grant ended the grace period (30 days) after that.
    actions.transition(
        Actor(receiver, Channel.WEB),
        referral,
        State.REJECTED,
        referral.version,
        reason="Sin cupo",
        at=timezone.now() - dt.timedelta(days=days_ago),
    )
    seen = _provider_sees(receiver, referral, api_client)
    assert seen == dict.fromkeys(seen, still), seen
    # The sender keeps seeing it.
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/referrals/{referral.pk}").status_code == 200


def test_a_pregnancy_referral_leaves_the_provider_after_the_grace(cast, network, make_mother, api_client, today):
    from crecer.registry import actions as reg

    mother = make_mother()
    pregnancy = reg.create_pregnancy(
        SYSTEM,
        {"lmp_date": (today - dt.timedelta(days=100)).isoformat(), "first_visit_date": today.isoformat()},
        mother=mother,
    )
    receiver = network["staff"]["sala_alta"]
    referral = actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        pregnancy=pregnancy,
        service_code="home_visit",
        reason=REASON,
        consent=[],
        organisation_code="SALA-ALTA",
    )
    api = api_client(receiver)
    assert api.get(f"/api/v1/referrals/{referral.pk}").status_code == 200
    actions.transition(
        Actor(receiver, Channel.WEB),
        referral,
        State.REJECTED,
        referral.version,
        reason="Sin cupo",
        at=timezone.now() - dt.timedelta(days=31),
    )
    assert api.get(f"/api/v1/referrals/{referral.pk}").status_code == 404


# --- a provider's worklists: only the categories of its grant ------------------------------------------


def test_a_providers_worklists_hold_only_the_categories_of_its_grant(cast, network, kid, api_client, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    tracking_actions.record_encounter(
        nurse,
        {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]},
        child=kid,
    )
    # The 70-day-old has the 1-month check-up overdue and a development screening in delay.
    assert kid.pk in {r["pk"] for r in worklists.worklist(cast["nurse_alta"], "overdue", today)}
    assert kid.pk in {c.pk for c in worklists.worklist(cast["nurse_alta"], "risk", today)}
    # The child-protection office is granted identity and child protection only.
    opd = cast["provider_opd"]
    registry_actions.grant_access(
        Actor(cast["coordinator_alta"], Channel.WEB),
        kid,
        Organisation.objects.get(code="OPD-ALTA"),
        [DataCategory.CHILD_PROTECTION],
        "Caso",
    )
    # A stimulation room granted development sees the screening, not the schedule (health).
    sala = network["staff"]["sala_alta"]
    registry_actions.grant_access(
        Actor(cast["coordinator_alta"], Channel.WEB),
        kid,
        Organisation.objects.get(code="SALA-ALTA"),
        [DataCategory.DEVELOPMENT],
        "Estimulación",
    )

    def listed(user: Any, tab: str) -> bool:
        body = api_client(user).get("/api/v1/worklists", {"tab": tab}).json()
        return any(r["child"] == kid.pk for r in body["results"]) if "results" in body else False

    assert api_client(opd).get(f"/api/v1/children/{kid.pk}").status_code == 200
    for tab in ("today", "week", "overdue", "missed", "risk"):
        assert not listed(opd, tab), tab
    assert not listed(sala, "overdue")
    assert listed(sala, "risk")
    rows = worklists.build_rows(sala, "risk", list(worklists.worklist(sala, "risk", today)), today)
    assert [a for a in rows[0].alerts if a.startswith("eedp")]
    for user, shown in ((opd, False), (sala, False), (cast["nurse_alta"], True)):
        for path in ("/worklists/", "/worklists/export.csv"):
            body = _page(user).get(path, {"tab": "overdue"})
            assert body.status_code == 200
            text = b"".join(body.streaming_content) if body.streaming else body.content
            assert ("Florencia" in text.decode()) is shown, (user.username, path)
