"""Shared fixtures: a small country and a named cast of users, one per role and territory.

Country (profile "cl"): CL ─┬─ CL01 Región Norte ─┬─ CL01001 Comuna Alta   (health centre F-ALTA)
                            │                     └─ CL01002 Comuna Baja   (health centre F-BAJA)
                            └─ CL02 Región Sur ───── CL02001 Comuna Austral (health centre F-AUSTRAL)
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from crecer.access.actions import create_token, create_user
from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.places.actions import create_territory, save_place
from crecer.registry import actions
from crecer.registry.models import Caregiver, Child
from crecer.territories.models import Facility, FacilityKind, Organisation, Sector, Territory

PASSWORD = "una-clave-larga-2026"
SYSTEM = Actor(None, Channel.CLI)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under CI an unreachable PostgreSQL must fail the run, never skip it.
    url = os.environ.get("DATABASE_URL", "")
    if os.environ.get("CI") == "true" and url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=5):
            pass


@pytest.fixture
def country(db: Any) -> dict[str, Any]:
    with transaction.atomic():
        return _build_country()


def _build_country() -> dict[str, Any]:
    create_territory(SYSTEM, "CL", "Chile sintético", "nation")
    create_territory(SYSTEM, "CL01", "Región Norte", "region", "CL")
    create_territory(SYSTEM, "CL02", "Región Sur", "region", "CL")
    create_territory(SYSTEM, "CL01001", "Comuna Alta", "municipality", "CL01")
    create_territory(SYSTEM, "CL01002", "Comuna Baja", "municipality", "CL01")
    create_territory(SYSTEM, "CL02001", "Comuna Austral", "municipality", "CL02")
    t = {x.code: x for x in Territory.objects.all()}
    for code, name, territory in (
        ("F-ALTA", "CESFAM Alta", "CL01001"),
        ("F-BAJA", "CESFAM Baja", "CL01002"),
        ("F-AUSTRAL", "CESFAM Austral", "CL02001"),
    ):
        save_place(
            SYSTEM,
            Facility,
            "kind",
            {"code": code, "name": name, "kind": FacilityKind.HEALTH_CENTRE},
            t[territory].pk,
            None,
        )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "OPD-ALTA", "name": "OPD Alta", "sector": Sector.CHILD_PROTECTION},
        t["CL01001"].pk,
        None,
    )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "VIV-SUR", "name": "Vivienda Sur", "sector": Sector.HOUSING},
        t["CL02001"].pk,
        None,
    )
    return t


@pytest.fixture
def make_user(country: dict[str, Any]) -> Callable[..., User]:
    def make(username: str, role: str, territory: str, **kwargs: Any) -> User:
        return create_user(SYSTEM, username, role, territory, PASSWORD, **kwargs)

    return make


@pytest.fixture
def cast(make_user: Callable[..., User]) -> dict[str, User]:
    """One user per role and level, plus one who must see nothing."""
    return {
        "nurse_alta": make_user("enfermera_alta", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA"),
        "nurse_baja": make_user("enfermera_baja", Role.HEALTH_WORKER, "CL01002", facility_code="F-BAJA"),
        "coordinator_alta": make_user("coord_alta", Role.MUNICIPAL_COORDINATOR, "CL01001"),
        "regional_norte": make_user("regional_norte", Role.REGIONAL_MANAGER, "CL01"),
        "national": make_user("nacional", Role.NATIONAL_MANAGER, "CL"),
        "provider_opd": make_user("opd_alta", Role.PROVIDER_STAFF, "CL01001", organisation_code="OPD-ALTA"),
        "provider_housing": make_user("vivienda_sur", Role.PROVIDER_STAFF, "CL02001", organisation_code="VIV-SUR"),
        "inspector": make_user("inspector_norte", Role.INSPECTOR, "CL01"),
        "auditor": make_user("auditor_nacional", Role.AUDITOR, "CL"),
        "auditor_sur": make_user("auditor_sur", Role.AUDITOR, "CL02"),
        "admin": make_user("admin", Role.ADMIN, "CL"),
        # Sees nothing: a territorial role, but deactivated.
        "stranger": _deactivated(make_user("ex_funcionaria", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA")),
    }


def _deactivated(user: User) -> User:
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    return user


CHILD_DEFAULTS = {
    "given_names": "Sofía Antonia",
    "paternal_surname": "Muñoz",
    "maternal_surname": "Pérez",
    "sex": "F",
    "birth_date": "2024-03-10",
    "territory_code": "CL01001",
}


@pytest.fixture
def make_child(country: dict[str, Any]) -> Callable[..., Child]:
    def make(**overrides: Any) -> Child:
        return actions.create_child(SYSTEM, {**CHILD_DEFAULTS, **overrides})

    return make


@pytest.fixture
def make_mother(country: dict[str, Any]) -> Callable[..., Caregiver]:
    def make(**overrides: Any) -> Caregiver:
        raw = {
            "given_names": "Camila",
            "paternal_surname": "Pérez",
            "maternal_surname": "Rojas",
            "sex": "F",
            "birth_date": "1995-06-01",
            "national_id": "15.432.876-9",
            "territory_code": "CL01001",
            **overrides,
        }
        return actions.create_caregiver(SYSTEM, raw)

    return make


@pytest.fixture
def children(make_child: Callable[..., Child]) -> dict[str, Child]:
    """One child in each municipality; the Baja child attends the Alta health centre."""
    return {
        "alta": make_child(given_names="Agustín", sex="M", territory_code="CL01001", facility_code="F-ALTA"),
        "baja": make_child(given_names="Isidora", territory_code="CL01002", facility_code="F-ALTA"),
        "baja_local": make_child(given_names="Martina", territory_code="CL01002", facility_code="F-BAJA"),
        "austral": make_child(given_names="Tomás", sex="M", territory_code="CL02001", facility_code="F-AUSTRAL"),
    }


@pytest.fixture
def api_client() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        token = create_token(SYSTEM, user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    return make


@pytest.fixture
def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 with production iterations costs ~0.3 s per user; tests create dozens.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def network(cast: dict[str, User]) -> dict[str, Any]:
    """The service catalogue and providers: a stimulation room in Alta (capacity 2 a month), one
    covering the whole north region, a child protection office in Alta and a housing office in the south."""

    with transaction.atomic():
        return _build_network()


def _build_network() -> dict[str, Any]:
    from crecer.referrals import actions as referral_actions
    from crecer.referrals.models import Service

    referral_actions.sync_services(SYSTEM)
    t = {x.code: x for x in Territory.objects.all()}
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "SALA-ALTA", "name": "Sala de estimulación Alta", "sector": Sector.HEALTH},
        t["CL01001"].pk,
        None,
    )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "SALA-NORTE", "name": "Sala regional Norte", "sector": Sector.HEALTH},
        t["CL01"].pk,
        None,
    )
    orgs = {o.code: o for o in Organisation.objects.all()}
    services = {s.code: s for s in Service.objects.all()}
    referral_actions.save_provision(SYSTEM, orgs["SALA-ALTA"], services["stimulation_session"], [t["CL01001"]], 2)
    referral_actions.save_provision(SYSTEM, orgs["SALA-NORTE"], services["stimulation_session"], [t["CL01"]], None)
    referral_actions.save_provision(
        SYSTEM, orgs["SALA-ALTA"], services["home_visit"], [t["CL01001"], t["CL01002"]], None
    )
    referral_actions.save_provision(SYSTEM, orgs["OPD-ALTA"], services["child_protection"], [t["CL01001"]], None)
    referral_actions.save_provision(SYSTEM, orgs["VIV-SUR"], services["housing_programme"], [t["CL02"]], None)
    staff = {
        "sala_alta": create_user(
            SYSTEM, "sala_alta", Role.PROVIDER_STAFF, "CL01001", PASSWORD, organisation_code="SALA-ALTA"
        ),
        "sala_alta_2": create_user(
            SYSTEM, "sala_alta_2", Role.PROVIDER_STAFF, "CL01001", PASSWORD, organisation_code="SALA-ALTA"
        ),
        "sala_norte": create_user(
            SYSTEM, "sala_norte", Role.PROVIDER_STAFF, "CL01", PASSWORD, organisation_code="SALA-NORTE"
        ),
    }
    return {"orgs": orgs, "services": services, "staff": staff}
