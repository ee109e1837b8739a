"""Every indicator of the Chile-like profile on a small hand-built data set with a known answer.

Each test builds subjects that must count, subjects that must only be in the denominator and subjects
that must be left out (wrong period, wrong age, wrong place), then checks the figure of the
municipality "Comuna Alta" for 2025 — numerator, denominator and value. The same assertions run on
SQLite and on PostgreSQL (CI runs the suite on both), so the two give identical figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from crecer import conf
from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.lib import documents, periods
from crecer.lib.growth import IMPLAUSIBLE
from crecer.monitoring import definitions, engine, quality
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import State
from crecer.referrals.sweep import sweep
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child, Pregnancy
from crecer.territories.models import Facility, Territory
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Encounter, Measurement, Screening
from tests.conftest import SYSTEM

P = periods.parse("2025")
D = dt.date
_documents = iter(range(20_000_000, 20_100_000, 7))

COUNTER = {"outcome": "attended", "services_given": ["sesiones"], "follow_up": ""}


def figure(code: str, territory: str = "CL01001", group: str = "", period: periods.Period = P) -> tuple[Any, ...]:
    """(numerator, denominator, value) of an indicator for a territory; zeros when nothing counts."""
    try:
        indicator = definitions.get(code)
    except KeyError:
        indicator = quality.get(code)
    pk = Territory.objects.get(code=territory).pk
    for f in engine.compute(indicator, period):
        if f.territory_id == pk and f.group == group:
            return (f.numerator, f.denominator, f.value)
    return (0, 0, None)


def run() -> str:
    body = next(_documents)
    return f"{body}-{documents.run_check_digit(body)}"


def kid(birth: dt.date, territory: str = "CL01001", sex: str = "F", **raw: Any) -> Child:
    facility = {"CL01001": "F-ALTA", "CL01002": "F-BAJA", "CL02001": "F-AUSTRAL"}[territory]
    return registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Niña" if sex == "F" else "Niño",
            "paternal_surname": "Prueba",
            "maternal_surname": f"N{next(_documents)}",
            "sex": sex,
            "birth_date": birth.isoformat(),
            "territory_code": territory,
            "facility_code": facility,
            **raw,
        },
    )


def mother(territory: str = "CL01001") -> Any:
    return registry_actions.create_caregiver(
        SYSTEM,
        {
            "given_names": "Madre",
            "paternal_surname": "Prueba",
            "maternal_surname": f"M{next(_documents)}",
            "sex": "F",
            "birth_date": "1994-05-01",
            "national_id": run(),
            "territory_code": territory,
        },
    )


def pregnancy(first_visit: dt.date, week: int, territory: str = "CL01001") -> Pregnancy:
    m = mother(territory)
    lmp = first_visit - dt.timedelta(weeks=week)
    return registry_actions.create_pregnancy(
        SYSTEM,
        {"mother_national_id": m.national_id, "lmp_date": lmp.isoformat(), "first_visit_date": first_visit.isoformat()},
    )


def encounter(child: Child, date: dt.date, contact: str = "", kind: str = "check_up") -> Encounter:
    return Encounter.unscoped.create(
        child=child, kind=kind, date=date, contact_code=contact, facility=Facility.objects.get(code="F-ALTA")
    )


def screen(
    date: dt.date, instrument: str, result: str, *, child: Child | None = None, pregnancy: Pregnancy | None = None
) -> Screening:
    """A screening row with a given result (the scoring itself is tested with the instruments)."""
    return Screening.unscoped.create(
        child=child,
        pregnancy=pregnancy,
        instrument=instrument,
        instrument_version="test",
        applied_on=date,
        age_days=(date - child.birth_date).days if child and child.birth_date else None,
        classification=result,
        data_category=DataCategory.DEVELOPMENT,
    )


def measure(child: Child, date: dt.date, **flags: Any) -> Measurement:
    """A measurement row with given WHO classifications (how z-scores classify is tested in growth)."""
    assert child.birth_date is not None
    return Measurement.unscoped.create(
        encounter=encounter(child, date, kind="nutrition"),
        child=child,
        measured_on=date,
        age_days=(date - child.birth_date).days,
        weight_kg=10,
        length_cm=80,
        **flags,
    )


def deliver(child: Child, service: str, date: dt.date) -> None:
    tracking_actions.record_delivery(SYSTEM, service, date, child=child)


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def alta(country: dict[str, Any]) -> Territory:
    return country["CL01001"]


# --- pregnancies -------------------------------------------------------------------------------------


def test_anc_before_14_weeks(alta):
    pregnancy(D(2025, 3, 1), 10)  # counts
    pregnancy(D(2025, 6, 1), 20)  # late entry
    pregnancy(D(2024, 11, 1), 8)  # another year
    pregnancy(D(2025, 4, 1), 9, territory="CL01002")  # another municipality
    assert figure("anc_before_14w") == (1, 2, 50.0)
    assert figure("anc_before_14w", "CL01") == (2, 3, 66.67)


def test_epsa_applied_at_entry(alta):
    screened = pregnancy(D(2025, 3, 1), 10)
    screen(D(2025, 3, 1), "epsa", "negative", pregnancy=screened)
    pregnancy(D(2025, 5, 1), 12)
    old = pregnancy(D(2024, 5, 1), 12)
    screen(D(2024, 5, 1), "epsa", "negative", pregnancy=old)
    assert figure("epsa_applied") == (1, 2, 50.0)


def test_psychosocial_risk_referred_and_attended(cast, network):
    attended, waiting, negative = (pregnancy(D(2025, 2, 1), 10) for _ in range(3))
    screen(D(2025, 2, 1), "epsa", "positive", pregnancy=attended)
    screen(D(2025, 2, 1), "epsa", "positive", pregnancy=waiting)
    screen(D(2025, 2, 1), "epsa", "negative", pregnancy=negative)
    nurse, room = Actor(cast["nurse_alta"], Channel.WEB), Actor(network["staff"]["sala_alta"], Channel.WEB)
    for p in (attended, waiting):
        referral_actions.create_referral(
            nurse,
            pregnancy=p,
            service_code="home_visit",
            reason="EPsA alterada",
            consent=[DataCategory.IDENTITY],
            at=moment(D(2025, 2, 3)),
        )
    r = attended.referrals.get()
    r = referral_actions.transition(room, r, State.ACCEPTED, r.version, at=moment(D(2025, 2, 4)))
    r = referral_actions.transition(room, r, State.IN_PROGRESS, r.version, at=moment(D(2025, 2, 10)))
    referral_actions.transition(
        room, r, State.COMPLETED, r.version, counter_referral=COUNTER, at=moment(D(2025, 3, 10))
    )
    assert figure("psychosocial_risk_attended") == (1, 2, 50.0)


# --- newborns -----------------------------------------------------------------------------------------


def test_welcome_kit_within_60_days_of_birth(alta):
    on_time, late, without = kid(D(2025, 2, 1)), kid(D(2025, 3, 1)), kid(D(2025, 4, 1))
    deliver(on_time, "welcome_kit", D(2025, 2, 20))
    deliver(late, "welcome_kit", D(2025, 6, 1))
    deliver(kid(D(2024, 6, 1)), "welcome_kit", D(2024, 6, 5))  # born another year
    assert without.pk
    assert figure("welcome_kit") == (1, 3, 33.33)


def test_low_birth_weight_among_known_weights(alta):
    kid(D(2025, 1, 10), birth_weight_g=2400)
    kid(D(2025, 2, 10), birth_weight_g=3300)
    kid(D(2025, 3, 10), birth_weight_g=3100, sex="M")
    kid(D(2025, 4, 10))  # weight unknown: out of the denominator
    kid(D(2024, 4, 10), birth_weight_g=2000)  # another year
    assert figure("low_birth_weight") == (1, 3, 33.33)
    assert figure("low_birth_weight", group="sex=F") == (1, 2, 50.0)
    assert figure("low_birth_weight", group="sex=M") == (0, 1, 0.0)


def test_identity_document_by_60_days(alta):
    kid(D(2025, 3, 1), national_id=run())
    kid(D(2025, 5, 1))
    kid(D(2025, 12, 1), national_id=run())  # reaches 60 days in 2026
    assert figure("document_by_60d") == (1, 2, 50.0)


# --- check-ups ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,age",
    [("check_ups_up_to_date_0_11m", 200), ("check_ups_up_to_date_12_23m", 500), ("check_ups_up_to_date_24_59m", 1000)],
)
def test_check_ups_up_to_date_by_age_group(alta, code, age):
    contacts = sorted(conf.profile().child_schedule, key=lambda c: c.end)
    latest = [c for c in contacts if c.end < age][-1]  # the last contact whose window closed
    earlier = [c for c in contacts if c.end < age][-2]
    birth = P.end - dt.timedelta(days=age)
    up_to_date, behind, only_earlier = kid(birth), kid(birth), kid(birth)
    encounter(up_to_date, birth + dt.timedelta(days=latest.start), latest.code)
    encounter(only_earlier, birth + dt.timedelta(days=earlier.start), earlier.code)
    assert behind.pk
    encounter(up_to_date, P.end + dt.timedelta(days=5), "late")  # after the period: irrelevant
    kid(P.end - dt.timedelta(days=age + 2000))  # far older: another age group
    assert figure(code) == (1, 3, 33.33)


# --- development ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,contact,instrument,in_window,out_window",
    [
        ("eedp_8m", "m8", "eedp", 250, 400),
        ("eedp_18m", "m18", "eedp", 560, 700),
        ("tepsi_3y", "y3", "tepsi", 1100, 900),
    ],
)
def test_screened_at_the_age_of_the_contact(alta, code, contact, instrument, in_window, out_window):
    c = next(c for c in conf.profile().child_schedule if c.code == contact)
    birth = D(2025, 6, 1) - dt.timedelta(days=c.late_until)  # the contact's catch-up closes mid-2025
    on_time, wrong_age, never = kid(birth), kid(birth), kid(birth)
    screen(birth + dt.timedelta(days=in_window), instrument, "normal", child=on_time)
    screen(birth + dt.timedelta(days=out_window), instrument, "normal", child=wrong_age)
    assert never.pk
    kid(birth - dt.timedelta(days=400))  # its contact closed in 2024
    assert figure(code) == (1, 3, 33.33)


def test_developmental_risk_or_delay_by_latest_screening(alta):
    recovered, worse, old = kid(D(2023, 1, 1)), kid(D(2023, 2, 1)), kid(D(2022, 1, 1))
    screen(D(2025, 3, 1), "eedp", "risk", child=recovered)
    screen(D(2025, 9, 1), "eedp", "normal", child=recovered)
    screen(D(2025, 3, 1), "tepsi", "normal", child=worse)
    screen(D(2025, 10, 1), "tepsi", "delay", child=worse)
    screen(D(2024, 10, 1), "tepsi", "delay", child=old)
    assert figure("development_risk_delay") == (1, 2, 50.0)


def test_delay_referred_to_stimulation_within_30_days(cast, network):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    quick, slow, normal = kid(D(2024, 1, 1)), kid(D(2024, 2, 1)), kid(D(2024, 3, 1))
    screen(D(2025, 3, 1), "eedp", "delay", child=quick)
    screen(D(2025, 5, 1), "eedp", "risk", child=slow)
    screen(D(2025, 5, 1), "eedp", "normal", child=normal)
    for child, day in ((quick, D(2025, 3, 10)), (slow, D(2025, 7, 15))):
        referral_actions.create_referral(
            nurse,
            child=child,
            service_code="stimulation_session",
            reason="EEDP",
            consent=[DataCategory.DEVELOPMENT],
            at=moment(day),
        )
    assert figure("delay_referred_30d") == (1, 2, 50.0)


def test_deficit_re_screened_normal_later(alta):
    recovered, still = kid(D(2023, 1, 1)), kid(D(2023, 2, 1))
    screen(D(2025, 2, 1), "eedp", "delay", child=recovered)
    screen(D(2025, 8, 1), "eedp", "normal", child=recovered)
    screen(D(2025, 4, 1), "eedp", "risk", child=still)
    assert figure("deficit_recovered") == (1, 2, 50.0)


def test_ecd_index_on_track_36_to_59_months(alta):
    on_track, behind, too_young = kid(D(2021, 6, 1)), kid(D(2022, 6, 1)), kid(D(2024, 1, 1))
    screen(D(2025, 5, 1), "ecdi2030", "on_track", child=on_track)
    screen(D(2025, 5, 1), "ecdi2030", "on_track", child=behind)
    screen(D(2025, 11, 1), "ecdi2030", "not_on_track", child=behind)  # the latest counts
    screen(D(2025, 5, 1), "ecdi2030", "on_track", child=too_young)
    assert figure("ecd_on_track_36_59m") == (1, 2, 50.0)


# --- nutrition -------------------------------------------------------------------------------------------


NUTRITION = {
    "stunting_u5": "stunting",
    "wasting_u5": "wasting",
    "underweight_u5": "underweight",
    "overweight_u5": "overweight",
}


@pytest.mark.parametrize("code,flag", list(NUTRITION.items()))
def test_malnutrition_under_five_by_latest_measurement(alta, code, flag):
    severe, moderate, recovered, normal = (kid(D(2023, 6, 1)) for _ in range(4))
    measure(severe, D(2025, 4, 1), **{flag: 2})
    measure(moderate, D(2025, 4, 1), **{flag: 0})
    measure(moderate, D(2025, 9, 1), **{flag: 1})
    measure(recovered, D(2025, 4, 1), **{flag: 1})
    measure(recovered, D(2025, 10, 1), **{flag: 0})
    measure(normal, D(2025, 4, 1), **{flag: 0})
    measure(kid(D(2019, 6, 1)), D(2025, 4, 1), **{flag: 1})  # over five
    measure(kid(D(2023, 6, 1)), D(2024, 4, 1), **{flag: 1})  # measured another year
    measure(kid(D(2023, 6, 1)), D(2025, 4, 1))  # no classification (that value not measured): out
    assert figure(code) == (2, 4, 50.0)


@pytest.mark.parametrize("code,flag", list(NUTRITION.items()))
def test_implausible_value_is_not_classified_and_the_latest_plausible_one_counts(alta, code, flag):
    """A value WHO flags implausible (stored as IMPLAUSIBLE) counts in no numerator and no denominator; the
    child's latest plausible measurement of the period is used instead."""
    others = {f: IMPLAUSIBLE for f in NUTRITION.values() if f != flag}
    earlier_moderate, only_implausible, earlier_normal, other_implausible, only_before = (
        kid(D(2023, 6, 1)) for _ in range(5)
    )
    measure(earlier_moderate, D(2025, 4, 1), **{flag: 1})
    measure(earlier_moderate, D(2025, 10, 1), **{flag: IMPLAUSIBLE})  # not classified: April's counts
    measure(only_implausible, D(2025, 5, 1), **{flag: IMPLAUSIBLE})  # out of the denominator
    measure(earlier_normal, D(2025, 3, 1), **{flag: 0})
    measure(earlier_normal, D(2025, 11, 1), **{flag: IMPLAUSIBLE})
    # Implausible in the other indicators only: this one is classified.
    measure(other_implausible, D(2025, 6, 1), **{flag: 2}, **others)
    measure(only_before, D(2024, 9, 1), **{flag: 1})  # the plausible one is of another period
    measure(only_before, D(2025, 12, 1), **{flag: IMPLAUSIBLE})
    assert figure(code) == (2, 3, 66.67)


def test_plausibility_is_judged_per_indicator_from_the_recorded_values(alta):
    """Measurements recorded as a health worker does, classified at write time: a weight WHO flags leaves
    the weight-based indicators to the child's earlier plausible measurement and keeps length-for-age;
    an implausible length leaves stunting alone."""

    def record(child: Child, date: dt.date, weight: float, length: float) -> Measurement:
        encounter = tracking_actions.record_encounter(
            SYSTEM,
            {
                "kind": "nutrition",
                "date": date.isoformat(),
                "facility_code": "F-ALTA",
                "measurement": {"weight_kg": weight, "length_cm": length, "confirm_reason": "weighed twice"},
            },
            child=child,
        )
        return Measurement.unscoped.get(encounter=encounter)

    heavy, heavy_only, short = kid(D(2023, 6, 1)), kid(D(2023, 6, 1)), kid(D(2023, 6, 1))
    march = record(heavy, D(2025, 3, 1), 14.5, 84)  # overweight (WHZ +2.97), all plausible
    june = record(heavy, D(2025, 6, 1), 30, 86)  # weight-for-age and -for-length flagged; length plausible
    assert (march.overweight, march.stunting) == (1, 0)
    assert {"wfa", "wflh"} <= set(june.implausible) and "lhfa" not in june.implausible
    record(heavy_only, D(2025, 6, 1), 30, 86)
    low = record(short, D(2025, 5, 1), 9, 62)  # length-for-age flagged (HAZ −7.4); WHZ +3.6 plausible
    assert low.implausible == ["lhfa"] and low.overweight == 2
    # stunting: heavy (June, normal), heavy_only (normal); short is out
    assert figure("stunting_u5") == (0, 2, 0.0)
    # weight for length: heavy by March (overweight) and short (obese); heavy_only is out
    assert figure("overweight_u5") == (2, 2, 100.0)
    assert figure("wasting_u5") == (0, 2, 0.0)
    # weight for age: heavy by March (WAZ +2.25) and short (WAZ −1.88), neither underweight
    assert figure("underweight_u5") == (0, 2, 0.0)


def test_anaemia_6_to_59_months(alta):
    anaemic, fine = kid(D(2024, 1, 1)), kid(D(2024, 2, 1))
    measure(anaemic, D(2025, 6, 1), anaemia=True)
    measure(fine, D(2025, 6, 1), anaemia=False)
    measure(kid(D(2025, 9, 1)), D(2025, 11, 1), anaemia=True)  # under six months at the end of 2025
    assert figure("anaemia_6_59m") == (1, 2, 50.0)


# --- parenting and care ---------------------------------------------------------------------------------


def test_parenting_programme_completed(cast):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    facility = Facility.objects.get(code="F-ALTA")
    group = tracking_actions.create_group(
        nurse, code="G25", name="Nadie es Perfecto", facility=facility, start_date=D(2025, 3, 1), planned_sessions=6
    )
    done, dropped = (tracking_actions.record_attendance(nurse, group, mother(), []) for _ in range(2))
    for n in range(1, 5):
        tracking_actions.record_session(
            nurse, group, n, D(2025, 3, 1) + dt.timedelta(weeks=n), [done] + ([dropped] if n == 1 else [])
        )
    old = tracking_actions.create_group(
        nurse, code="G24", name="Nadie es Perfecto", facility=facility, start_date=D(2024, 3, 1), planned_sessions=6
    )
    tracking_actions.record_attendance(nurse, old, mother(), [])
    assert figure("parenting_completed") == (1, 2, 50.0)


def test_childcare_enrolment_of_the_most_vulnerable(alta):
    poor = registry_actions.create_household(
        SYSTEM, {"code": "H-30", "territory_code": "CL01001", "vulnerability_percentile": 30}
    )
    rich = registry_actions.create_household(
        SYSTEM, {"code": "H-80", "territory_code": "CL01001", "vulnerability_percentile": 80}
    )
    enrolled, not_enrolled = kid(D(2023, 1, 1), household_code=poor.code), kid(D(2023, 5, 1), household_code=poor.code)
    deliver(enrolled, "childcare_enrolment", D(2025, 3, 1))
    deliver(kid(D(2023, 1, 1), household_code=rich.code), "childcare_enrolment", D(2025, 3, 1))
    deliver(kid(D(2019, 1, 1), household_code=poor.code), "childcare_enrolment", D(2024, 3, 1))  # over five
    assert not_enrolled.pk
    assert figure("childcare_vulnerable_0_4") == (1, 2, 50.0)
    assert figure("childcare_vulnerable_0_4", group="age_band=24-59m") == (1, 2, 50.0)


# --- referrals -------------------------------------------------------------------------------------------


@pytest.fixture
def referral_year(cast, network):
    """Three stimulation referrals sent in 2025 from Alta: accepted on time and started 4 days after
    sending; accepted late and started after 10 days; never answered (expired by the sweep).
    One more, started after 7 days, is in Baja; one sent in 2024 is outside the period."""
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    room = Actor(network["staff"]["sala_alta"], Channel.WEB)
    days = network["services"]["stimulation_session"].acceptance_days

    def refer(
        child: Child, sent: dt.date, accept_after: int | None, start_after: int | None, sender=nurse, receiver=room
    ) -> Any:
        r = referral_actions.create_referral(
            sender,
            child=child,
            service_code="stimulation_session",
            reason="EEDP",
            consent=[DataCategory.DEVELOPMENT],
            at=moment(sent),
        )
        if accept_after is not None:
            r = referral_actions.transition(
                receiver, r, State.ACCEPTED, r.version, at=moment(sent + dt.timedelta(days=accept_after))
            )
        if start_after is not None:
            r = referral_actions.transition(
                receiver, r, State.IN_PROGRESS, r.version, at=moment(sent + dt.timedelta(days=start_after))
            )
        return r

    refer(kid(D(2024, 1, 1)), D(2025, 3, 1), 1, 4)
    refer(kid(D(2024, 1, 2)), D(2025, 4, 1), days + 3, 10)
    expired = refer(kid(D(2024, 1, 3)), D(2025, 5, 1), None, None)
    refer(
        kid(D(2024, 1, 4), territory="CL01002"),
        D(2025, 6, 1),
        1,
        7,
        sender=Actor(cast["nurse_baja"], Channel.WEB),
        receiver=Actor(network["staff"]["sala_norte"], Channel.WEB),
    )
    refer(kid(D(2024, 1, 5)), D(2024, 6, 1), 1, 2)
    sweep(SYSTEM, now=moment(D(2025, 6, 1)))
    expired.refresh_from_db()
    assert expired.state == State.EXPIRED
    return days


def test_referrals_accepted_within_deadline(referral_year):
    assert figure("referrals_accepted_on_time") == (1, 3, 33.33)
    assert figure("referrals_accepted_on_time", group="service=stimulation_session") == (1, 3, 33.33)


def test_median_days_to_first_attention(referral_year):
    assert figure("referral_days_to_attention") == (2, 2, 7.0)  # 4 and 10 days
    assert figure("referral_days_to_attention", "CL01") == (3, 3, 7.0)  # 4, 7 and 10 days


def test_referrals_overdue_share(referral_year):
    # Answered late and never answered; the first one met both deadlines.
    assert figure("referrals_overdue") == (2, 3, 66.67)


def _referral_parties(cast: dict[str, Any], network: dict[str, Any]) -> tuple[Actor, Actor]:
    return Actor(cast["nurse_alta"], Channel.WEB), Actor(network["staff"]["sala_alta"], Channel.WEB)


def send(nurse: Actor, sent: dt.datetime) -> Any:
    """A stimulation referral of a new child of Alta to the Alta room, sent at ``sent`` (5 days to answer,
    30 days from acceptance to the first attention)."""
    return referral_actions.create_referral(
        nurse,
        child=kid(D(2024, 1, 1)),
        service_code="stimulation_session",
        organisation_code="SALA-ALTA",
        reason="EEDP",
        consent=[DataCategory.DEVELOPMENT],
        at=sent,
    )


def move(actor: Actor, referral: Any, to: str, at: dt.datetime, **extra: Any) -> Any:
    referral.refresh_from_db()
    return referral_actions.transition(actor, referral, to, referral.version, at=at, **extra)


def test_referrals_overdue_as_of_the_end_of_the_period(cast, network):
    """A referral sent in the period missed a deadline when the deadline passed before the period ended
    and the step (an answer — acceptance or rejection —, or the first attention) had not come by the
    deadline, unless the referral was cancelled or ended without attention by then. Read from the
    timestamps: closing a referral later does not change the period."""
    nurse, room = _referral_parties(cast, network)
    assert network["services"]["stimulation_session"].acceptance_days == 5
    on_time = send(nurse, moment(D(2025, 3, 1)))
    move(room, on_time, State.ACCEPTED, moment(D(2025, 3, 2)))
    move(room, on_time, State.IN_PROGRESS, moment(D(2025, 3, 10)))
    rejected_late = send(nurse, moment(D(2025, 4, 1)))  # answer due on April 6th
    move(room, rejected_late, State.REJECTED, moment(D(2025, 4, 10)), reason="Sin cupo")
    expired = send(nurse, moment(D(2025, 5, 1)))  # never answered; the sweep expires it
    sweep(SYSTEM, now=moment(D(2025, 5, 8)))
    never_attended = send(nurse, moment(D(2025, 6, 1)))
    move(room, never_attended, State.ACCEPTED, moment(D(2025, 6, 2)))  # attention due on July 2nd
    move(room, never_attended, State.NOT_COMPLETED, moment(D(2025, 7, 20)), reason="unreachable")
    declined_in_time = send(nurse, moment(D(2025, 7, 1)))
    move(room, declined_in_time, State.ACCEPTED, moment(D(2025, 7, 2)))
    move(room, declined_in_time, State.NOT_COMPLETED, moment(D(2025, 7, 10)), reason="declined")
    cancelled_in_time = send(nurse, moment(D(2025, 8, 1)))
    move(nurse, cancelled_in_time, State.CANCELLED, moment(D(2025, 8, 3)))
    cancelled_late = send(nurse, moment(D(2025, 9, 1)))  # unanswered when its deadline passed
    move(nurse, cancelled_late, State.CANCELLED, moment(D(2025, 9, 20)))
    accepted_late = send(nurse, moment(D(2025, 10, 1)))
    move(room, accepted_late, State.ACCEPTED, moment(D(2025, 10, 8)))
    move(room, accepted_late, State.IN_PROGRESS, moment(D(2025, 10, 9)))
    # Deadlines that pass after the period: not overdue in 2025, whatever happens next.
    answer_due_in_2026 = send(nurse, moment(D(2025, 12, 30)))
    attention_due_in_2026 = send(nurse, moment(D(2025, 12, 1)))
    move(room, attention_due_in_2026, State.ACCEPTED, moment(D(2025, 12, 2)))
    send(nurse, moment(D(2024, 12, 1)))  # another period
    expected = (5, 10, 50.0)  # rejected late, expired, never attended, cancelled late, accepted late
    assert figure("referrals_overdue") == expected
    # Later events: closing, late answers and attentions in 2026 leave 2025 as it was.
    after = moment(D(2026, 1, 15))
    for closed in (rejected_late, expired, never_attended):
        move(nurse, closed, State.CLOSED, after)
    move(room, answer_due_in_2026, State.REJECTED, after, reason="Sin cupo")
    move(room, attention_due_in_2026, State.IN_PROGRESS, after)
    assert figure("referrals_overdue") == expected
    assert figure("referrals_overdue", period=periods.parse("2025-09")) == (1, 1, 100.0)
    assert figure("referrals_overdue", period=periods.parse("2025-08")) == (0, 1, 0.0)
    assert figure("referrals_overdue", period=periods.parse("2025-07")) == (0, 1, 0.0)


def test_referral_indicators_ignore_events_after_the_period_end(cast, network):
    """One rule for every referral indicator: only events timestamped before the end of the period count.
    An acceptance within the deadline but after the period, like an attention after it, counts for none
    of the period's figures, and the figures of a past period do not move when they happen."""
    nurse, room = _referral_parties(cast, network)
    quick = send(nurse, moment(D(2025, 11, 10)))
    move(room, quick, State.ACCEPTED, moment(D(2025, 11, 12)))
    move(room, quick, State.IN_PROGRESS, moment(D(2025, 11, 20)))  # 10 days
    slow = send(nurse, moment(D(2025, 11, 20)))  # answer due on November 25th
    move(room, slow, State.ACCEPTED, moment(D(2025, 11, 28)))
    move(room, slow, State.IN_PROGRESS, moment(D(2025, 12, 10)))  # 20 days
    last_day = send(nurse, moment(D(2025, 12, 30)))  # answer due on 4 January 2026

    def figures() -> list[tuple[Any, ...]]:
        return [
            figure(code, period=period)
            for period in (P, periods.parse("2025-12"))
            for code in ("referrals_accepted_on_time", "referral_days_to_attention", "referrals_overdue")
        ]

    expected = [(1, 3, 33.33), (2, 2, 15.0), (1, 3, 33.33), (0, 1, 0.0), (0, 0, None), (0, 1, 0.0)]
    assert figures() == expected
    move(room, last_day, State.ACCEPTED, moment(D(2026, 1, 2)))  # within its deadline, after the period
    move(room, last_day, State.IN_PROGRESS, moment(D(2026, 1, 5)))
    assert figures() == expected
    january = periods.parse("2026-01")
    assert figure("referrals_accepted_on_time", period=january) == (0, 0, None)  # sent in December


# --- data quality ----------------------------------------------------------------------------------------


def test_quality_missing_documents(alta):
    kid(D(2025, 1, 1))
    kid(D(2025, 2, 1), national_id=run())
    kid(D(2025, 12, 20))  # under 60 days at the end of 2025: not yet expected
    assert figure("dq_missing_document") == (1, 2, 50.0)


def test_quality_check_ups_without_measurement_and_recorded_late(alta):
    child = kid(D(2024, 1, 1))
    measured = measure(child, D(2025, 3, 1)).encounter
    bare = encounter(child, D(2025, 6, 1))
    Encounter.unscoped.filter(pk=measured.pk).update(recorded_on=D(2025, 3, 3))
    Encounter.unscoped.filter(pk=bare.pk).update(recorded_on=D(2025, 6, 20))
    assert figure("dq_check_up_without_measurement") == (1, 2, 50.0)
    assert figure("dq_recorded_late") == (1, 2, 50.0)


def test_quality_implausible_measurements(alta):
    child = kid(D(2024, 1, 1))
    measure(child, D(2025, 3, 1), implausible=["z_wfa"])
    measure(child, D(2025, 6, 1))
    assert figure("dq_implausible") == (1, 2, 50.0)


def test_quality_possible_duplicates(alta):
    same = {"given_names": "Ana", "paternal_surname": "Soto", "maternal_surname": "Vera"}
    kid(D(2024, 1, 1), **same)
    kid(D(2024, 1, 1), **{**same, "given_names": "ANA"})
    kid(D(2024, 1, 2), **same)
    assert figure("dq_possible_duplicates") == (2, 3, 66.67)


def test_every_indicator_of_the_profile_has_a_known_answer_test():
    tested = {
        "anc_before_14w",
        "epsa_applied",
        "psychosocial_risk_attended",
        "welcome_kit",
        "low_birth_weight",
        "check_ups_up_to_date_0_11m",
        "check_ups_up_to_date_12_23m",
        "check_ups_up_to_date_24_59m",
        "eedp_8m",
        "eedp_18m",
        "tepsi_3y",
        "development_risk_delay",
        "delay_referred_30d",
        "deficit_recovered",
        "stunting_u5",
        "wasting_u5",
        "underweight_u5",
        "overweight_u5",
        "anaemia_6_59m",
        "parenting_completed",
        "childcare_vulnerable_0_4",
        "document_by_60d",
        "referrals_accepted_on_time",
        "referral_days_to_attention",
        "referrals_overdue",
        "ecd_on_track_36_59m",
    }
    assert {i.code for i in definitions.indicators()} == tested
    assert len(tested) >= 20
    assert {i.axis for i in definitions.indicators()} == {
        "health_nutrition",
        "education_care",
        "protective_environments",
        "protection_of_rights",
        "management",
    }


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The indicator queries ran 2.5× slower with PostgreSQL's JIT; the settings turn it off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.django_db
def test_postgresql_batch_queries_hash_their_groups_and_leave_the_setting_as_it_was():
    """PostgreSQL counts a population with sorting discouraged (it hashes the groups instead of walking
    the territory index), for that query only: the caller's transaction goes on with its own setting."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    children = [i for i in definitions.indicators() if i.population == "child"]
    with CaptureQueriesContext(connection) as queries:
        engine._batch_cells("child", children, periods.parse("2025"), True, None)
    sqls = [q["sql"] for q in queries]
    off = next(n for n, sql in enumerate(sqls) if "'enable_sort', 'off'" in sql)
    batch = next(n for n, sql in enumerate(sqls) if "registry_child" in sql)
    assert off < batch
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone()[0] == "on"


def test_add_days_is_plain_sql():
    """Date arithmetic of the facts compiles to SQL, not to a Python function called per row."""
    from django.db import connection
    from django.db.models import F

    from crecer.monitoring.facts import AddDays

    sql, _params = Encounter.unscoped.filter(recorded_on__gt=AddDays(F("date"), 7)).query.sql_with_params()
    assert "django_format_dtdelta" not in sql
    assert ("date(" if connection.vendor == "sqlite" else "+ +7)") in sql
