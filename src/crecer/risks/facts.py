"""The facts the risk rules read, built for a batch of children or pregnancies in a few queries.

The shape is :func:`crecer.lib.rules.empty_facts`; ``docs/rules.md`` documents every key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count

from crecer import conf
from crecer.core.bulk import among
from crecer.lib import pregnancy as pregnancy_dating
from crecer.lib import schedule as schedule_lib
from crecer.lib.rules import empty_facts
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household, Pregnancy, Relationship
from crecer.tracking.models import Delivery, Encounter, Measurement, Screening

GROWTH_FIELDS = (
    "stunting",
    "underweight",
    "wasting",
    "overweight",
    "anaemia",
    "haemoglobin_g_l",
    "muac_cm",
    "oedema",
)


def _age_years(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _screening_fact(classification: str, score: Any, urgent: bool, details: Any, age_days: Any) -> dict[str, Any]:
    return {
        "classification": classification,
        "score": score,
        "urgent": urgent,
        "present": list(details.get("present", [])) if isinstance(details, dict) else [],
        "age_days": age_days,
    }


def child_facts(children: Iterable[Child], today: dt.date) -> dict[int, dict[str, Any]]:
    """Facts of each child (keyed by id), in a few queries whatever the number of children."""
    children = list(children)
    ids = [c.pk for c in children]
    facts = {c.pk: empty_facts("child") for c in children}
    schedule = conf.profile().child_schedule

    for c in children:
        f = facts[c.pk]["child"]
        f["age_days"] = (today - c.birth_date).days if c.birth_date else None
        f["sex"] = c.sex or None
        f["has_document"] = bool(c.national_id)
        f["birth_weight_g"] = c.birth_weight_g
        f["gestational_weeks"] = c.gestational_weeks

    seen: set[int] = set()
    for row in (
        Measurement.unscoped.filter(among("child_id", ids), is_current=True)
        .order_by("child_id", "-measured_on", "-pk")
        .values_list("child_id", *GROWTH_FIELDS)
    ):
        if row[0] in seen or row[0] not in facts:
            continue
        seen.add(row[0])
        facts[row[0]]["growth"] = dict(zip(GROWTH_FIELDS, row[1:], strict=True))

    for child_id, instrument, *rest in (
        Screening.unscoped.filter(among("child_id", ids), is_current=True)
        .order_by("applied_on", "pk")
        .values_list("child_id", "instrument", "classification", "score", "urgent", "details", "age_days")
    ):
        if child_id in facts:
            facts[child_id]["screenings"][instrument] = _screening_fact(*rest)

    mothers = {
        child_id: mother_id
        for child_id, mother_id in CaregiverLink.unscoped.filter(
            among("child_id", ids), relationship=Relationship.MOTHER
        ).values_list("child_id", "caregiver_id")
        if child_id in facts
    }
    mother_rows = {
        pk: (birth, schooling)
        for pk, birth, schooling in Caregiver.unscoped.filter(among("pk", mothers.values())).values_list(
            "pk", "birth_date", "schooling_years"
        )
    }
    for child_id, mother_id in mothers.items():
        birth, schooling = mother_rows.get(mother_id, (None, None))
        facts[child_id]["mother"] = {"age_years": _age_years(birth, today), "schooling_years": schooling}

    percentiles = dict(
        Household.unscoped.filter(among("pk", {c.household_id for c in children if c.household_id})).values_list(
            "pk", "vulnerability_percentile"
        )
    )
    for c in children:
        if c.household_id:
            facts[c.pk]["household"]["vulnerability_percentile"] = percentiles.get(c.household_id)

    done: dict[int, set[str]] = defaultdict(set)
    for child_id, code in (
        Encounter.unscoped.filter(among("child_id", ids), voided_at__isnull=True)
        .exclude(contact_code="")
        .values_list("child_id", "contact_code")
    ):
        done[child_id].add(code)
    # Children of the same age with the same contacts done have the same schedule counts.
    counts_by: dict[tuple[int, frozenset[str]], dict[str, int]] = {}
    for c in children:
        if c.birth_date is None:
            continue
        age = (today - c.birth_date).days
        key = (age, frozenset(done.get(c.pk, ())))
        counts = counts_by.get(key)
        if counts is None:
            states = Counter(contact.state(age, contact.code in key[1]) for contact in schedule)
            counts = {"overdue": states[schedule_lib.State.OVERDUE], "missed": states[schedule_lib.State.MISSED]}
            counts_by[key] = counts
        facts[c.pk]["schedule"] = dict(counts)

    for child_id, service, n in (
        Delivery.unscoped.filter(among("child_id", ids), voided_at__isnull=True)
        .values_list("child_id", "service_code")
        .annotate(n=Count("pk"))
        .values_list("child_id", "service_code", "n")
    ):
        if child_id in facts:
            facts[child_id]["services"][service] = n
    return facts


def pregnancy_facts(pregnancies: Iterable[Pregnancy], today: dt.date) -> dict[int, dict[str, Any]]:
    """Facts of each pregnancy (keyed by id)."""
    pregnancies = list(pregnancies)
    ids = [p.pk for p in pregnancies]
    facts = {p.pk: empty_facts("pregnancy") for p in pregnancies}
    schedule = conf.profile().prenatal_schedule
    epsa: dict[int, dict[str, Any]] = {}
    for s in Screening.unscoped.filter(pregnancy_id__in=ids, instrument="epsa", is_current=True).order_by(
        "applied_on", "pk"
    ):
        epsa[s.pregnancy_id] = _screening_fact(s.classification, s.score, s.urgent, s.details, s.age_days)  # type: ignore[index]
    mothers = {
        pk: (birth, schooling, household)
        for pk, birth, schooling, household in Caregiver.unscoped.filter(
            pk__in={p.mother_id for p in pregnancies}
        ).values_list("pk", "birth_date", "schooling_years", "household_id")
    }
    percentiles = dict(
        Household.unscoped.filter(pk__in={m[2] for m in mothers.values() if m[2]}).values_list(
            "pk", "vulnerability_percentile"
        )
    )
    done: dict[int, set[str]] = defaultdict(set)
    for pregnancy_id, code in (
        Encounter.unscoped.filter(pregnancy_id__in=ids, voided_at__isnull=True)
        .exclude(contact_code="")
        .values_list("pregnancy_id", "contact_code")
    ):
        done[pregnancy_id].add(code)
    for p in pregnancies:
        age = (today - p.origin).days
        f = facts[p.pk]
        f["pregnancy"] = {
            "weeks": pregnancy_dating.gestational_week(p.origin, today) if p.outcome == "ongoing" else None,
            "first_visit_week": p.first_visit_week,
            "epsa": epsa.get(p.pk),
            "outcome": p.outcome,
        }
        birth, schooling, household = mothers.get(p.mother_id, (None, None, None))
        f["mother"] = {"age_years": _age_years(birth, p.first_visit_date or today), "schooling_years": schooling}
        f["household"] = {"vulnerability_percentile": percentiles.get(household) if household else None}
        if p.outcome == "ongoing":
            counts = Counter(contact.state(age, contact.code in done[p.pk]) for contact in schedule)
            f["schedule"] = {"overdue": counts[schedule_lib.State.OVERDUE], "missed": counts[schedule_lib.State.MISSED]}
    return facts
