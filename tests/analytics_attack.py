"""An adversary's intersection attack on the analytics export (used by test_analytics_dates.py).

The adversary holds the Parquet files of one export, knows the day the export was made, and knows
how Crecer computes every column (the code, the schedule, the instruments and the WHO standards are
public). For every child it starts from the days of the published birth month and removes every day
that some published field contradicts:

* an event month together with an age in days at that event (encounters, measurements, screenings,
  deliveries, referrals, risk flags): the birth lies in the event month shifted back by the age;
* nothing happens after the export: no birth and no event later than the export day;
* a measurement's values with its WHO z-scores and classifications: only the ages at which the
  standards give back the published figures are possible (the z-scores are computed from the age in
  days, so they carry it);
* a development coefficient that is the mental age over the age in days (EEDP): the age must make
  the mental age a whole number of days;
* an instrument's age band (the EEDP up to 24 months, the TEPSI from 2 years…);
* the age window of a scheduled contact code (from its start to the end of its overdue period);
* a risk flag's raise month, its age at raise, its days open and its resolution month;
* the pregnancy: the last menstrual period lies in its month, the expected delivery date is 280 days
  after it, the first visit and every prenatal contact lie the published number of completed weeks
  after it, every record of the pregnancy (visit, contacts, screenings, flags, referrals) comes after
  it, and the birth lies the child's gestational weeks after it.

Rules that hold only in practice (the expected date derived from the LMP, a contact code used inside
its window, the gestational age at birth dated from the LMP) are applied only when they leave some
day possible. The attack is sound: the test checks that every child's true birth date survives.
Windows are sets of days (ordinals), so a constraint may also cut holes in them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from crecer import conf
from crecer.lib import growth as growth_lib
from crecer.lib import screening as screening_lib
from crecer.tracking import growth

Days = set[int]


def month_days(month: str | None) -> tuple[int, int] | None:
    """First and last day (ordinals) of a ``YYYY-MM`` month."""
    if not month:
        return None
    year, mon = (int(x) for x in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return first.toordinal(), nxt.toordinal() - 1


def shifted(month: str | None, low: int, high: int) -> tuple[int, int] | None:
    """Days ``e - k`` for ``e`` in ``month`` and ``low <= k <= high``."""
    span = month_days(month)
    if span is None:
        return None
    return span[0] - high, span[1] - low


def cut(window: Days, span: tuple[int, int] | None, robust: bool = False) -> Days:
    if span is None:
        return window
    kept = {d for d in window if span[0] <= d <= span[1]}
    return window if robust and not kept else kept


def cut_set(window: Days, allowed: Iterable[int], robust: bool = False) -> Days:
    kept = window & set(allowed)
    return window if robust and not kept else kept


@dataclass
class Result:
    export_day: int
    births: dict[str, Days] = field(default_factory=dict)  # child pseudonym -> possible birth days
    truth_months: dict[str, str] = field(default_factory=dict)
    caregivers: dict[str, Days] = field(default_factory=dict)
    encounters: dict[str, Days] = field(default_factory=dict)  # encounter pseudonym -> possible dates
    steps: dict[str, dict[str, float]] = field(default_factory=dict)  # birth windows after each step

    def sizes(self, windows: dict[str, Days]) -> list[int]:
        return [max(w) - min(w) + 1 if w else 0 for w in windows.values()]

    def summary(self, windows: dict[str, Days]) -> dict[str, float]:
        spans = self.sizes(windows)
        counts = [len(w) for w in windows.values()]
        n = len(spans) or 1
        return {
            "n": len(spans),
            "exact": sum(1 for c in counts if c == 1) / n,
            "le3": sum(1 for c in counts if c <= 3) / n,
            "lt28": sum(1 for s in spans if s < 28) / n,
            "min_span": min(spans) if spans else 0,
            "min_days": min(counts) if counts else 0,
        }


def _rows(out: Path, name: str) -> list[dict[str, Any]]:
    path = out / f"{name}.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def attack(out: Path, truth: dict[str, int] | None = None) -> Result:
    """Windows of possible birth dates; with ``truth`` (pseudonym -> true birth ordinal) every step is
    checked to keep the true date, and the step that loses it is named."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    export_day = dt.date.fromisoformat(manifest["created_at"][:10]).toordinal()
    result = Result(export_day)
    children = {r["child"]: r for r in _rows(out, "children")}
    births: dict[str, Days] = {}
    for pseudonym, row in children.items():
        span = month_days(row.get("birth_month"))
        if span is not None:
            births[pseudonym] = {d for d in range(span[0], span[1] + 1) if d <= export_day}

    def check(step: str) -> None:
        result.steps[step] = result.summary(births)
        for child, days in births.items():
            if truth is not None and child in truth and truth[child] not in days:
                raise AssertionError(f"{step} rules out the true birth date of {child}")

    def age_constraint(child: str | None, month: str | None, age: Any) -> None:
        if child not in births or age is None or month is None:
            return
        a = int(age)
        births[child] = cut(births[child], shifted(month, a, a))
        births[child] = {d for d in births[child] if d + a <= export_day}

    # Ages in days next to an event month, in every table that has them.
    encounters = _rows(out, "encounters")
    for r in encounters:
        age_constraint(r.get("child"), r.get("month"), r.get("age_days"))
    measurements = _rows(out, "measurements")
    for r in measurements:
        age_constraint(r.get("child"), r.get("month"), r.get("age_days"))
    screenings = _rows(out, "screenings")
    for r in screenings:
        if r.get("child") is not None and r.get("caregiver") is None:
            age_constraint(r.get("child"), r.get("month"), r.get("age_days"))
    for r in _rows(out, "deliveries"):
        age_constraint(r.get("child"), r.get("month"), r.get("age_days"))
    for r in _rows(out, "referrals"):
        age_constraint(r.get("child"), r.get("created_month"), r.get("age_days"))
    flags = _rows(out, "risk_flags")
    for r in flags:
        age_constraint(r.get("child"), r.get("raised_month"), r.get("age_days"))
        # raised + days open = resolved: the raise day lies in both months.
        child, age, days_open = r.get("child"), r.get("age_days"), r.get("days_open")
        if child in births and age is not None and days_open is not None and r.get("resolved_month"):
            raised = month_days(r["raised_month"])
            resolved = shifted(r["resolved_month"], math.floor(days_open), math.floor(days_open) + 1)
            if raised and resolved:
                low, high = max(raised[0], resolved[0]), min(raised[1], resolved[1])
                births[child] = cut(births[child], (low - int(age), high - int(age)))

    check("ages in days")

    # Age windows of events whose age in days is not published: all days between the event month and
    # the birth window are possible ages; a field computed from the age keeps only some of them.
    def possible_ages(child: str, month: str | None) -> list[int]:
        span = month_days(month)
        if span is None or not births.get(child):
            return []
        low, high = max(0, span[0] - max(births[child])), span[1] - min(births[child])
        return list(range(low, high + 1))

    def allow_ages(child: str, month: str | None, ages: Iterable[int], robust: bool = False) -> None:
        span = month_days(month)
        if span is None or child not in births:
            return
        allowed = {e - a for a in ages for e in range(span[0], span[1] + 1)}
        births[child] = cut_set(births[child], allowed, robust)

    # Scheduled contact codes: the age lies in the contact's window (start to the end of overdue).
    schedule = {c.code: c for c in conf.profile().child_schedule}
    for r in encounters:
        child, code = r.get("child"), r.get("contact_code")
        if child in births and code in schedule:
            c = schedule[code]
            allow_ages(child, r.get("month"), range(c.start, c.late_until + 1), robust=True)

    check("contact codes")

    # Z-scores and classifications are computed from the age in days: invert them (all candidate
    # ages of all measurements at once, with the WHO standards of crecer.lib.growth).
    z_names = ("z_wfa", "z_lhfa", "z_wflh", "z_bmi", "z_hcfa", "z_acfa")
    class_names = ("stunting", "underweight", "wasting", "overweight", "bmi_5_19")
    candidates: list[tuple[int, int]] = []  # (measurement index, age)
    for i, r in enumerate(measurements):
        child = r.get("child")
        if child not in births or not children[child].get("sex"):
            continue
        if not any(r.get(c) is not None for c in (*z_names, *class_names, "anaemia")):
            continue
        ages = [int(r["age_days"])] if r.get("age_days") is not None else possible_ages(child, r.get("month"))
        candidates.extend((i, a) for a in ages)
    if candidates:
        rows = [measurements[i] for i, _a in candidates]
        age = np.array([a for _i, a in candidates], dtype=float)

        def values(name: str) -> Any:
            return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows])

        sex = np.array([1 if children[r["child"]]["sex"] == "M" else 2 for r in rows], dtype=np.int8)
        measure = np.array([r.get("position") or "" for r in rows], dtype="<U1")
        oedema = np.array([bool(r.get("oedema")) for r in rows])
        z = growth_lib.zscores(
            sex, age, values("weight_kg"), values("length_cm"), measure, oedema, values("head_cm"), values("muac_cm")
        )
        classes = growth_lib.classify(z, age, oedema=oedema)
        anaemia = growth.anaemia_codes(values("haemoglobin_g_l"), age)
        fits = np.ones(len(rows), dtype=bool)
        for name in z_names:
            published = values(name)
            known = ~np.isnan(published)
            fits &= ~known | (np.abs(np.round(z[name], 2) - published) < 1e-9)
        for name in class_names:
            published = values(name)
            known = ~np.isnan(published)
            fits &= ~known | (classes[name] == published)
        published = values("anaemia")
        fits &= np.isnan(published) | (anaemia == published)
        ages_fitting: dict[int, list[int]] = defaultdict(list)
        for (i, a), ok in zip(candidates, fits, strict=True):
            if ok:
                ages_fitting[i].append(a)
        for i in {i for i, _a in candidates}:
            r = measurements[i]
            allow_ages(r["child"], r.get("month"), ages_fitting.get(i, []), robust=True)

    check("growth")

    # Instruments: age bands, and the EEDP coefficient (mental age in whole days / age in days).
    for r in screenings:
        child = r.get("child")
        if child not in births or r.get("caregiver") is not None:
            continue
        try:
            instrument = screening_lib.get(r["instrument"])
        except KeyError:
            continue
        if instrument.subject != screening_lib.CHILD:
            continue
        ages = possible_ages(child, r.get("month"))
        low = instrument.min_age_days or 0
        high = instrument.max_age_days if instrument.max_age_days is not None else 10**6
        ages = [a for a in ages if low <= a <= high]
        score = r.get("score")
        if r["instrument"] == "eedp" and score is not None and abs(score * 100 - round(score * 100)) > 1e-6:
            ages = [a for a in ages if a > 0 and abs(score * a - round(score * a)) < 1e-6]
        allow_ages(child, r.get("month"), ages, robust=True)

    check("instruments")

    # The pregnancy: LMP, EDD, first visit, prenatal contacts and the gestational age at birth.
    pregnancies = {r["pregnancy"]: r for r in _rows(out, "pregnancies")}
    prenatal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in encounters:
        if r.get("pregnancy") is not None:
            prenatal[r["pregnancy"]].append(r)
    # Records of a pregnancy all come after its LMP: screenings, flags and referrals too.
    after_lmp: dict[str, list[str]] = defaultdict(list)
    for r in screenings:
        if r.get("pregnancy") is not None and r.get("month"):
            after_lmp[r["pregnancy"]].append(r["month"])
    for rows_, column in ((flags, "raised_month"), (_rows(out, "referrals"), "created_month")):
        for r in rows_:
            if r.get("pregnancy") is not None and r.get(column):
                after_lmp[r["pregnancy"]].append(r[column])
    for child, row in children.items():
        pregnancy = pregnancies.get(row.get("pregnancy"))
        if child not in births or pregnancy is None:
            continue
        g = _int(row.get("gestational_weeks"))
        # Start from the birth window and the gestational age at birth, or from the LMP's month.
        lmp: Days = set(range(min(births[child]) - 7 * 45, max(births[child]) + 1))
        if g is not None:
            lmp = cut_set(lmp, {b - k for b in births[child] for k in range(7 * g, 7 * g + 7)}, robust=True)
        lmp = cut(lmp, month_days(pregnancy.get("lmp_month")))
        if pregnancy.get("edd_month"):
            lmp = cut(lmp, shifted(pregnancy["edd_month"], 280, 280), robust=True)
        week = _int(pregnancy.get("first_visit_week"))
        if week is not None and pregnancy.get("first_visit_month"):
            lmp = cut(lmp, shifted(pregnancy["first_visit_month"], 7 * week, 7 * week + 6), robust=True)
        for contact in prenatal.get(row["pregnancy"], []):
            w = _int(contact.get("gestational_weeks"))
            if w is not None:
                lmp = cut(lmp, shifted(contact.get("month"), 7 * w, 7 * w + 6))
        # The LMP comes before the first visit and before every prenatal contact.
        for visited in (
            pregnancy.get("first_visit_month"),
            *(e.get("month") for e in prenatal.get(row["pregnancy"], [])),
        ):
            span = month_days(visited)
            if span is not None:
                lmp = {d for d in lmp if d <= span[1]}
        if g is not None:
            allowed = {d + k for d in lmp for k in range(7 * g, 7 * g + 7)}
            births[child] = cut_set(births[child], allowed, robust=True)

    check("pregnancy")
    result.births = births
    result.truth_months = {c: r["birth_month"] for c, r in children.items() if r.get("birth_month")}

    # Caregivers: the export carries their birth month and no age.
    for r in _rows(out, "caregivers"):
        span = month_days(r.get("birth_month"))
        if span is not None:
            result.caregivers[r["caregiver"]] = set(range(span[0], span[1] + 1))

    # Event dates: a child's encounter lies in its month and, when the age is published, the birth
    # window shifted by the age.
    for r in encounters:
        span = month_days(r.get("month"))
        if span is None or r.get("child") not in births:
            continue
        days = {d for d in range(span[0], span[1] + 1) if d <= export_day}
        if r.get("age_days") is not None:
            days &= {b + int(r["age_days"]) for b in births[r["child"]]}
        result.encounters[r["encounter"]] = days
    return result
