"""The demo: a synthetic country, one user per role and level, and a few records that show the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crecer import conf
from crecer.access.actions import create_user
from crecer.access.models import DataCategory, Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.imports.loading import load_folder
from crecer.lib.synthetic import generate
from crecer.places.actions import save_place
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child
from crecer.territories.models import Facility, FacilityKind, Organisation, Sector, Territory

#: Shown on screen and in the README. Demo only: a real deployment creates its own users.
DEMO_PASSWORD = "crecer-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    territory: str
    facility: str = ""
    organisation: str = ""
    what: str = ""
    institution: str = ""


def _first_leaf_with_health_centre(region: Territory, skip: set[str]) -> Territory:
    for leaf in Territory.objects.filter(path__startswith=region.path).exclude(code__in=skip).order_by("code"):
        if (
            not leaf.children.exists()
            and Facility.objects.filter(territory=leaf, kind=FacilityKind.HEALTH_CENTRE).exists()
        ):
            return leaf
    raise RuntimeError("the demo country has no health centre")


def _municipality_of(leaf: Territory) -> Territory:
    """The municipal level if the profile has one, else the lowest level."""
    keys = conf.profile().level_keys
    if "municipality" in keys and leaf.level != "municipality":
        for ancestor in leaf.ancestors():
            if ancestor.level == "municipality":
                return ancestor
    return leaf


def _first_institution() -> str:
    """The demo inspector reviews for the first institution of the profile's childcare licensing."""
    centres = conf.profile().centres
    return centres.institutions[0].code if centres is not None else ""


def demo_users() -> list[DemoUser]:
    root = Territory.objects.get(depth=0)
    region = Territory.objects.filter(depth=1).order_by("code").first()
    assert region is not None
    leaf = _first_leaf_with_health_centre(region, set())
    # A second health worker elsewhere, to compare what each one sees.
    other = _first_leaf_with_health_centre(root, {leaf.code})
    municipality = _municipality_of(leaf)
    centre = Facility.objects.filter(territory=leaf, kind=FacilityKind.HEALTH_CENTRE).order_by("code").first()
    centre2 = Facility.objects.filter(territory=other, kind=FacilityKind.HEALTH_CENTRE).order_by("code").first()
    assert centre is not None and centre2 is not None
    return [
        DemoUser("nacional", Role.NATIONAL_MANAGER, root.code, what=root.name),
        DemoUser("regional", Role.REGIONAL_MANAGER, region.code, what=region.name),
        DemoUser("coordinador", Role.MUNICIPAL_COORDINATOR, municipality.code, what=municipality.name),
        DemoUser("salud", Role.HEALTH_WORKER, leaf.code, facility=centre.code, what=centre.name),
        DemoUser("salud2", Role.HEALTH_WORKER, other.code, facility=centre2.code, what=centre2.name),
        DemoUser("proveedor", Role.PROVIDER_STAFF, municipality.code, organisation="DEMO-OPD", what="DEMO-OPD"),
        DemoUser("inspector", Role.INSPECTOR, region.code, what=region.name, institution=_first_institution()),
        DemoUser("auditor", Role.AUDITOR, root.code, what=root.name),
        DemoUser("admin", Role.ADMIN, root.code, what=root.name),
        DemoUser("sostenedor", Role.OPERATOR, municipality.code, organisation="DEMO-SALA", what="DEMO-SALA"),
    ]


def ensure_country(children: int, seed: int, out: Path | None = None) -> bool:
    """Generate and load a synthetic country if the registry is empty; True if it loaded one."""
    if Child.unscoped.exists():
        return False
    folder = out or settings.DATA_DIR / "demo-country"
    generate(folder, children=children, seed=seed, profile=conf.profile(), as_of=timezone.localdate())
    load_folder(folder, Actor(None, Channel.CLI))
    return True


def ensure_users() -> list[DemoUser]:
    """Create the demo organisation, users and illustrative records (idempotent)."""
    actor = Actor(None, Channel.CLI)
    users = demo_users()
    coordinator = next(u for u in users if u.username == "coordinador")
    with transaction.atomic():
        if not Organisation.objects.filter(code="DEMO-SALA").exists():
            save_place(
                actor,
                Organisation,
                "sector",
                {"code": "DEMO-SALA", "name": "Fundación Salas Cuna (demo)", "sector": Sector.CHILDCARE},
                Territory.objects.get(code=coordinator.territory).pk,
                None,
            )
        if not Organisation.objects.filter(code="DEMO-OPD").exists():
            territory = Territory.objects.get(code=coordinator.territory)
            save_place(
                actor,
                Organisation,
                "sector",
                {
                    "code": "DEMO-OPD",
                    "name": "Oficina de Protección de Derechos (demo)",
                    "sector": Sector.CHILD_PROTECTION,
                },
                territory.pk,
                None,
            )
    for spec in users:
        if not User.objects.filter(username=spec.username).exists():
            create_user(
                actor,
                spec.username,
                spec.role,
                spec.territory,
                DEMO_PASSWORD,
                facility_code=spec.facility,
                organisation_code=spec.organisation,
                institution=spec.institution,
            )
    _illustrate(users)
    return users


def showcase_child(health: User) -> Child | None:
    """A child of the health worker's centre that shows the trajectory: a growth chart, an overdue
    check-up and a screening in risk (what the generator did not give it is recorded now, as the
    health worker, through the same actions as the pages)."""
    from crecer.lib import schedule as schedule_lib
    from crecer.lib.growth import reference_curve
    from crecer.tracking import actions as tracking_actions
    from crecer.tracking.models import Measurement, Screening

    today = timezone.localdate()
    actor = Actor(health, Channel.CLI)
    schedule = conf.profile().child_schedule
    candidates = Child.unscoped.filter(
        facility=health.facility,
        birth_date__range=(today - dt.timedelta(days=330), today - dt.timedelta(days=120)),
        sex__in=("F", "M"),
        voided_at__isnull=True,
    ).order_by("pk")
    for child in candidates[:300]:
        assert child.birth_date is not None
        done = tracking_actions.done_contacts(child=child)
        states = schedule_lib.states(schedule, child.birth_date, today, done)
        if not any(s.state == schedule_lib.State.OVERDUE for s in states):
            continue
        sex = 1 if child.sex == "M" else 2
        if Measurement.unscoped.filter(child=child, is_current=True).count() < 2:
            for age in (30, 90):  # two extra visits with a weight a little under the median
                weight = float(reference_curve("wfa", sex, sds=(-1.2,), x=[age]).values[0][0])
                length = float(reference_curve("lhfa", sex, sds=(-1.0,), x=[age]).values[0][0])
                tracking_actions.record_encounter(
                    actor,
                    {
                        "kind": "other",
                        "date": (child.birth_date + dt.timedelta(days=age)).isoformat(),
                        "measurement": {"weight_kg": round(weight, 2), "length_cm": round(length, 1)},
                    },
                    child=child,
                )
        risky = Screening.unscoped.filter(child=child, is_current=True, classification__in=("risk", "delay", "altered"))
        if not risky.exists():
            tracking_actions.record_encounter(
                actor,
                {
                    "kind": "other",
                    "date": today.isoformat(),
                    "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.78}}],
                },
                child=child,
            )
        return child
    return None


def _illustrate(users: list[DemoUser]) -> None:
    """A sensitive note the health worker cannot read, and one child shared with the provider."""
    health = User.objects.get(username="salud")
    coordinator = User.objects.get(username="coordinador")
    child = Child.unscoped.filter(facility=health.facility, birth_date__isnull=False).order_by("pk").first()
    if child is None or child.notes.exists():
        return
    actor = Actor(coordinator, Channel.CLI)
    registry_actions.add_case_note(
        Actor(health, Channel.CLI), child, DataCategory.HEALTH, "Control sano al día; lactancia materna exclusiva."
    )
    registry_actions.add_case_note(
        actor, child, DataCategory.CHILD_PROTECTION, "Derivado a OPD por sospecha de negligencia (dato sensible, demo)."
    )
    # The provider sees this child through a referral: identity and the consented category only.
    from crecer.referrals import actions as referral_actions
    from crecer.referrals.models import Service

    # The catalogue and the provider directory are national data, set up by the system.
    system = Actor(None, Channel.CLI)
    referral_actions.sync_services(system)
    organisation = Organisation.objects.get(code="DEMO-OPD")
    referral_actions.save_provision(
        system, organisation, Service.objects.get(code="child_protection"), [organisation.territory], None
    )
    referral_actions.create_referral(
        actor,
        child=child,
        service_code="child_protection",
        organisation_code="DEMO-OPD",
        reason="Sospecha de negligencia (demo)",
        consent=[DataCategory.CHILD_PROTECTION],
    )


def _free_run(start: int) -> str:
    """A valid Chilean RUN no caregiver of the registry holds yet (the demo's invented people)."""
    from crecer.lib.documents import run_check_digit
    from crecer.registry.models import Caregiver

    body = start
    while True:
        number = f"{body}-{run_check_digit(str(body))}"
        if not Caregiver.unscoped.filter(national_id=number).exists():
            return number
        body += 1


@dataclass(frozen=True)
class Family:
    mother: object  # Caregiver
    pregnancy: object  # Pregnancy (its EPsA positive: a risk)
    newborn: Child | None
    expecting: object  # Caregiver: a second mother, still pregnant, with a risk


def showcase_family(health: User) -> Family | None:
    """What the front line does every day, recorded as the health worker through the same actions as
    the pages (SYNTHETIC people, invented for the demo):

    - a mother registered at her first prenatal visit with a positive EPsA (a psychosocial risk), whose
      newborn was registered from that pregnancy ten days ago with the welcome kit, and whose Edinburgh
      scale at the newborn's first check-up marks the self-harm item: an urgent result that notifies the
      health centre and the municipal coordinator;
    - a second mother, still pregnant, whose EPsA is positive.

    Idempotent: nothing is recorded when the first mother exists."""
    from crecer.registry.models import Caregiver, Pregnancy
    from crecer.tracking import actions as tracking_actions

    if health.facility is None:
        return None
    if Caregiver.unscoped.filter(given_names="Valentina", paternal_surname="Demo").exists():
        mother = Caregiver.unscoped.get(given_names="Valentina", paternal_surname="Demo")
        pregnancy = Pregnancy.unscoped.filter(mother=mother).order_by("pk").first()
        expecting = Caregiver.unscoped.filter(given_names="Josefa", paternal_surname="Demo").first()
        newborn = Child.unscoped.filter(pregnancy=pregnancy).first() if pregnancy else None
        return Family(mother, pregnancy, newborn, expecting)
    actor = Actor(health, Channel.CLI)
    today = timezone.localdate()
    territory = health.facility.territory.code
    facility = health.facility.code
    from crecer.lib.screening.epsa import ITEMS as EPSA_ITEMS

    answers: dict[str, object] = {item: False for item in EPSA_ITEMS if item != "other"}
    positive_epsa = {"instrument": "epsa", "inputs": {**answers, "low_support": True, "depressive_symptoms": True}}

    def mother_of(given: str, number: int, born: str) -> Caregiver:
        return registry_actions.create_caregiver(
            actor,
            {
                "given_names": given,
                "paternal_surname": "Demo",
                "maternal_surname": "Sintética",
                "sex": "F",
                "birth_date": born,
                "national_id": _free_run(number),
                "territory_code": territory,
                "phone": "+56 9 5555 0000",
            },
        )

    def pregnancy_of(mother: Caregiver, lmp: dt.date, first_visit: dt.date) -> Pregnancy:
        pregnancy = registry_actions.create_pregnancy(
            actor, {"lmp_date": lmp.isoformat(), "facility_code": facility}, mother=mother
        )
        tracking_actions.record_encounter(
            actor,
            {"date": first_visit.isoformat(), "facility_code": facility, "screenings": [positive_epsa]},
            pregnancy=pregnancy,
        )
        return pregnancy

    with transaction.atomic():
        mother = mother_of("Valentina", 21_900_000, "1998-03-14")
        birth = today - dt.timedelta(days=10)
        lmp = birth - dt.timedelta(days=39 * 7)
        pregnancy = pregnancy_of(mother, lmp, lmp + dt.timedelta(weeks=10))
        newborn = tracking_actions.record_newborn(
            actor,
            pregnancy,
            {
                "given_names": "Emilia",
                "paternal_surname": "Demo",
                "maternal_surname": "Sintética",
                "sex": "F",
                "birth_date": birth.isoformat(),
                "birth_weight_g": "3240",
                "gestational_weeks": "39",
                "facility_code": facility,
            },
            welcome_kit=True,
            facility_code=facility,
        )
        newborn.refresh_from_db()
        tracking_actions.record_encounter(
            actor,
            {
                "date": today.isoformat(),
                "facility_code": facility,
                "measurement": {"weight_kg": 3.4, "length_cm": 50.5},
                # The Edinburgh scale of the mother at her newborn's check-up: item 10 (self-harm) marked.
                "screenings": [{"instrument": "epds", "inputs": {"items": [1, 1, 0, 1, 0, 1, 0, 0, 0, 2]}}],
            },
            child=newborn,
        )
        expecting = mother_of("Josefa", 21_950_000, "2007-09-02")
        lmp2 = today - dt.timedelta(weeks=14)
        pregnancy_of(expecting, lmp2, today - dt.timedelta(days=3))
    return Family(mother, pregnancy, newborn, expecting)
