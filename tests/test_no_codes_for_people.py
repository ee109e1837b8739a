"""No codes for people: the main pages, rendered as each role over a small world (a child with risk
flags, a check-up, a referral carried to its end, a merge), show no internal code
(``tests/code_tokens.py`` says what counts as one)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup import merging
from crecer.places.actions import save_place
from crecer.referrals import actions as referral_actions
from crecer.territories.models import Organisation, Sector, Territory
from crecer.tracking import actions as tracking_actions
from tests.code_tokens import code_tokens
from tests.conftest import SYSTEM


@pytest.fixture
def world(cast, network, make_child, today) -> dict[str, Any]:
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = make_child(
        birth_date=(today - dt.timedelta(days=300)).isoformat(), national_id="24.965.885-5", facility_code="F-ALTA"
    )
    tracking_actions.record_encounter(
        nurse,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 6.3, "length_cm": 64},
            "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}],
        },
        child=child,
    )
    referral = referral_actions.create_referral(
        nurse, child=child, service_code="stimulation_session", reason="Retraso en la EEDP", consent=[]
    )
    receiver = Actor(network["staff"]["sala_alta"], Channel.WEB)
    for to in ("accepted", "in_progress"):
        referral.refresh_from_db()
        referral_actions.transition(receiver, referral, to, referral.version)
    referral.refresh_from_db()
    referral_actions.transition(
        receiver,
        referral,
        "completed",
        referral.version,
        counter_referral={"outcome": "attended", "services_given": ["6 sesiones"], "follow_up": ""},
    )
    twin = make_child(given_names="Tomás", birth_date="2025-01-10", facility_code="F-ALTA")
    other = make_child(given_names="Tomas", birth_date="2025-01-10", facility_code="F-ALTA")
    merge = merging.merge(Actor(cast["coordinator_alta"], Channel.WEB), twin.pk, other.pk, "Mismo niño")
    return {"child": child, "referral": referral, "merge": merge}


def _pages(world: dict[str, Any]) -> dict[str, list[str]]:
    child, referral, merge = world["child"].pk, world["referral"].pk, world["merge"].pk
    frontline = ["/", "/worklists/", "/children/", f"/children/{child}/", "/pregnancies/", "/referrals/"]
    frontline += [f"/referrals/{referral}/", "/notifications/", "/monitoring/", "/territories/", "/account/"]
    return {
        "nurse_alta": frontline,
        "coordinator_alta": [*frontline, "/duplicates/", "/merges/", f"/merges/{merge}/", "/imports/", "/services/"],
        "sala_alta": ["/", "/referrals/", f"/referrals/{referral}/", f"/children/{child}/", "/notifications/"],
        "auditor": ["/", f"/children/{child}/audit/", "/audit/", "/monitoring/", "/funds/"],
        "national": ["/", "/monitoring/", "/monitoring/targets/", "/providers/", "/funds/", "/agreements/"],
        "inspector": ["/", "/centres/"],
        "admin": ["/", "/users/"],
        "regional_norte": ["/", "/monitoring/", "/funds/", "/costing/", "/planning/"],
        "operator": ["/", "/centres/"],
    }


def test_the_main_pages_show_no_codes_to_any_role(cast, network, world, make_user):
    territory = Territory.objects.get(code="CL01001")
    values = {"code": "SALA-SOL", "name": "Fundación Sol", "sector": Sector.CHILDCARE}
    save_place(SYSTEM, Organisation, "sector", values, territory.pk, None)
    operator = make_user("operadora_sol", Role.OPERATOR, "CL01001", organisation_code="SALA-SOL")
    users = {**cast, **network["staff"], "operator": operator}
    names = sorted(User.objects.values_list("username", flat=True), key=len, reverse=True)
    found: dict[str, list[str]] = {}
    for key, paths in _pages(world).items():
        client = Client()
        client.force_login(users[key])
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (key, path, response.status_code)
            codes = code_tokens(response.content.decode(), allowed=names)
            if codes:
                found[f"{key} {path}"] = codes
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_the_detector_finds_the_codes_people_once_read():
    page = (
        "<body><p>Regla development_risk@1 y stunting@1; derivación attended; documento CL-RUN; "
        "registry.child #107; profesional PROF-F000001-2; estado in_progress</p></body>"
    )
    found = code_tokens(page)
    for code in ("development_risk@1", "stunting@1", "attended", "CL-RUN", "registry.child #107", "PROF-F000001-2"):
        assert code in found, code
    assert "in_progress" in found
    # Meant for people: a registry number, a user name given as allowed, links and values in the markup.
    fine = '<body><p>Niño CL-0000107-4, atendido por enfermera_alta</p><a href="/x/?state=in_progress">Ver</a></body>'
    assert code_tokens(fine, allowed=["enfermera_alta"]) == []
