"""Pseudonymised analytics export: the registry and its events as Parquet files.

Direct identifiers are left out (names, document numbers, registry numbers, external ids,
addresses, phone numbers, household codes, free text such as reasons, notes and details, and the
names of professionals). Every record id becomes a stable pseudonym: HMAC-SHA256 with a secret key
of ``"<entity>:<id>"``, truncated to 128 bits (32 hexadecimal characters), so a child has the same
pseudonym in every table and in every export made with the same key, and foreign keys join. The key
is never written to the export. Every date is reduced to its month (``YYYY-MM``), every age or
interval is a difference of months, and a value computed from an exact age is written only when
every day of the months gives the same one, so no combination of columns narrows a date below its
month; the export describes complete months (up to a cut-off day). See ``docs/analytics.md``.

Streams: each table is read with ``values_list(...).iterator(chunk_size=...)`` and written in row
groups with ``pyarrow.parquet.ParquetWriter``; memory holds one row group at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.core.files import private_dir, private_file
from crecer.registry.reads import log_reads
from crecer.territories.models import Territory

KEY_ENV = "CRECER_PSEUDONYM_KEY"
KEY_FILE = "pseudonym_key"
ROW_GROUP = 100_000
CHUNK = 5_000

# --- the key and the pseudonyms -----------------------------------------------------------------


def key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


def pseudonym_key() -> bytes:
    """The secret key: ``CRECER_PSEUDONYM_KEY``, else ``<DATA_DIR>/pseudonym_key`` (generated once)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    path = key_path()
    if not path.is_file():
        # Its owner's only: the folder (0700, if made here) and the file (0600, from its creation).
        private_dir(path.parent)
        private_file(path, secrets.token_urlsafe(48))  # unless another process made it first
    return path.read_text().strip().encode()


class Pseudonyms:
    """HMAC-SHA256 of ``"<entity>:<id>"`` under the key, first 16 bytes in hexadecimal.

    The HMAC is computed from precomputed inner and outer pads (RFC 2104): identical to
    ``hmac.digest(key, message, "sha256")``, about twice as fast for tens of millions of ids."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the pseudonym key is empty")
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __call__(self, entity: str, pk: int | None) -> str | None:
        if pk is None:
            return None
        return self.digest(f"{entity}:{pk}".encode()).hex()[:32]

    @property
    def fingerprint(self) -> str:
        """Tells two exports made with the same key apart from others without revealing it."""
        return self.digest(b"crecer:pseudonym-key-fingerprint").hex()[:12]


# --- dates: months only -------------------------------------------------------------------------
#
# Every date and timestamp is written as its calendar month, and every age or interval as a
# difference of two such months. A value the system computes from an exact age (z-scores, growth
# classifications, development scores) is written only when it is "month-stable": the same for
# every age the two months allow; otherwise it is left empty. So no value depends on a day of the
# month, and no combination of values can narrow a date below its month (docs/analytics.md).


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def month(value: dt.date | dt.datetime | None) -> str | None:
    day = _day(value)
    return None if day is None else f"{day.year:04d}-{day.month:02d}"


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def months_between(on: dt.date | dt.datetime | None, start: dt.date | dt.datetime | None) -> int | None:
    """The difference of the two calendar months (``2025-03`` − ``2025-01`` = 2), never of the days:
    an age or an interval that the two published months already give, and nothing more."""
    day, origin = _day(on), _day(start)
    if day is None or origin is None:
        return None
    return _month_index(day) - _month_index(origin)


def _first(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _last(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1) - dt.timedelta(days=1)


def possible_ages(birth: dt.date, on: dt.date) -> tuple[int, int]:
    """The ages in days (lowest, highest) that a birth in ``birth``'s month and an event in ``on``'s
    month allow: from the end of the birth month to the start of the event month, and from the start
    of the one to the end of the other (never below 0: nothing is recorded before birth)."""
    return max(0, (_first(on) - _last(birth)).days), max(0, (_last(on) - _first(birth)).days)


def _json(value: Any) -> str | None:
    return None if value in (None, {}, []) else json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Cutoff:
    """The last day the export describes: rows dated after it are left out, later changes are shown
    as not yet made, so nothing narrows a date by the day the export was made."""

    day: dt.date

    @property
    def end(self) -> dt.datetime:
        """The first instant after the cut-off day (local time), for timestamps."""
        after = dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(after) if settings.USE_TZ else after

    def keep(self, value: dt.date | dt.datetime | None) -> dt.date | dt.datetime | None:
        """The value if it is on or before the cut-off, else None (not yet happened)."""
        day = _day(value)
        return value if day is not None and day <= self.day else None


def default_cutoff(today: dt.date | None = None) -> dt.date:
    """The last day of the previous month: the export describes complete months."""
    today = today or timezone.localdate()
    return _first(today) - dt.timedelta(days=1)


def cutoff_for(month_text: str, today: dt.date | None = None) -> dt.date:
    """The cut-off of ``--until YYYY-MM``: that month's last day, or today for the current month.
    Raises ValueError for a malformed or future month."""
    today = today or timezone.localdate()
    try:
        year, mon = (int(part) for part in month_text.split("-"))
        first = dt.date(year, mon, 1)
    except ValueError as exc:
        raise ValueError(_("--until must be a month written YYYY-MM, e.g. 2026-03.")) from exc
    if first > today:
        raise ValueError(_("--until cannot be a month that has not started (%(month)s).") % {"month": month_text})
    return min(_last(first), today)


@dataclass(frozen=True)
class Context:
    p: Pseudonyms
    cutoff: Cutoff


# --- the tables ---------------------------------------------------------------------------------

S, I, F, B = pa.string(), pa.int32(), pa.float64(), pa.bool_()

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    model: str
    fields: tuple[str, ...]
    columns: tuple[tuple[str, pa.DataType], ...]
    rows: Callable[[Context, list[Row]], list[Row | None]]  # None: the row is left out
    where: Callable[[str], Q]
    base: Q
    until: Callable[[Cutoff], Q]
    annotate: Callable[[], dict[str, Any]] | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, kind) for name, kind in self.columns])


def _in(prefix: str, *paths: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{path}__path__startswith": prefix})
    return condition


def _child_ok(field: str = "child") -> Q:
    """Events of voided children (registered in error) are left out with the child."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__voided_at__isnull": True})


def _born_by(cutoff: Cutoff, field: str = "child") -> Q:
    """Children born after the cut-off are left out, with everything about them, until a later export."""
    return (
        Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__birth_date__isnull": True})
        | Q(**{f"{field}__birth_date__lte": cutoff.day})
    )


def _earliest_prenatal() -> dict[str, Any]:
    """The earliest dates of the child's pregnancy that the export shows (or bounds) and that come
    after the LMP: the first visit, the first prenatal contact and screening, and the registration
    (its referrals come after it)."""
    from django.db.models import OuterRef, Subquery

    from crecer.tracking.models import Encounter, Screening

    contact = Encounter.unscoped.filter(pregnancy=OuterRef("pregnancy_id"), voided_at__isnull=True)
    screened = Screening.unscoped.filter(pregnancy=OuterRef("pregnancy_id"))
    return {
        "prenatal_contact": Subquery(contact.order_by("date").values("date")[:1]),
        "prenatal_screening": Subquery(screened.order_by("applied_on").values("applied_on")[:1]),
    }


def gestational_weeks_shown(
    weeks: int | None, birth: dt.date | None, prenatal: list[dt.date | dt.datetime | None]
) -> int | None:
    """The gestational weeks at birth, unless they would narrow the birth below its month.

    The weeks tie the birth to the LMP (the birth is 7 × weeks to 7 × weeks + 6 days after it). The
    LMP is not exported, but it comes before every prenatal record, whose months are; so the birth is
    at most 7 × weeks + 6 days after the end of the earliest one's month, and that record at least
    7 × weeks + 6 days before the birth. When the earliest prenatal month starts before the first day
    of the birth month minus 7 × weeks + 6, or ends before its last day minus the same, one of these
    would cut the birth month (or that record's month): the weeks are left out."""
    days = [d for d in (_day(value) for value in prenatal) if d is not None]
    if weeks is None or birth is None or not days:
        return weeks
    earliest, span = min(days), 7 * weeks + 6
    if _first(earliest) >= _first(birth) - dt.timedelta(days=span) and _last(earliest) >= _last(birth) - dt.timedelta(
        days=span
    ):
        return weeks
    return None


def _children(c: Context, r: Row) -> Row:
    (pk, sex, birth, territory, facility, household, pregnancy, weight, weeks, doc_type, doc, created, *prenatal) = r
    p = c.p
    return (
        p("child", pk),
        sex or None,
        month(birth),
        territory,
        facility,
        p("household", household),
        p("pregnancy", pregnancy),
        weight,
        gestational_weeks_shown(weeks, birth, prenatal),
        doc_type or None,
        bool(doc),
        month(c.cutoff.keep(created)),
    )


def _caregivers(c: Context, r: Row) -> Row:
    pk, sex, birth, territory, household, schooling, doc_type, doc, phone = r
    p = c.p
    return (
        p("caregiver", pk),
        sex or None,
        month(birth),
        territory,
        p("household", household),
        schooling,
        doc_type or None,
        bool(doc),
        bool(phone),
    )


def _links(c: Context, r: Row) -> Row:
    _pk, child, caregiver, relationship = r
    return (c.p("child", child), c.p("caregiver", caregiver), relationship)


def _households(c: Context, r: Row) -> Row:
    pk, territory, percentile = r
    return (c.p("household", pk), territory, percentile)


def _pregnancies(c: Context, r: Row) -> Row:
    pk, mother, first, facility, outcome, outcome_date = r
    if outcome_date is not None and c.cutoff.keep(outcome_date) is None:
        outcome, outcome_date = "ongoing", None  # ended after the cut-off
    return (
        c.p("pregnancy", pk),
        c.p("caregiver", mother),
        month(c.cutoff.keep(first)),
        facility,
        outcome,
        month(outcome_date),
    )


def _encounters(c: Context, r: Row) -> Row:
    pk, child, pregnancy, kind, date, birth, facility, professional = r
    p = c.p
    return (
        p("encounter", pk),
        p("child", child),
        p("pregnancy", pregnancy),
        kind,
        month(date),
        months_between(date, birth) if child is not None else None,
        facility,
        p("user", professional),
    )


#: The stored measurement values, in column order (names and kinds, as for :func:`_columns`).
MEASUREMENT_VALUES = "weight_kg:f length_cm:f position:s head_cm:f muac_cm:f oedema:b haemoglobin_g_l:f"
#: What is computed from the values and the exact age, written when month-stable.
MEASUREMENT_COMPUTED = "z_wflh:f implausible:s stunting:i underweight:i wasting:i overweight:i bmi_5_19:i anaemia:b"
MEASUREMENT_FIELDS = " ".join(item.split(":")[0] for item in MEASUREMENT_VALUES.split())
GROWTH_CLASSES = ("stunting", "underweight", "wasting", "overweight", "bmi_5_19")


def _stable(values: Any, starts: Any) -> tuple[Any, Any]:
    """Per group of consecutive ``values`` (groups begin at ``starts``): whether all are equal, and
    the first. NaN counts as a value (equal to NaN)."""
    import numpy as np

    filled = np.where(np.isnan(values), np.inf, values)
    low = np.minimum.reduceat(filled, starts)
    high = np.maximum.reduceat(filled, starts)
    return low == high, values[starts]


def _measurements(c: Context, raws: list[Row]) -> list[Row | None]:
    """Values as recorded; WHO weight-for-length/height z-score, implausibility flags, growth and
    anaemia classifications recomputed at every age the birth and measurement months allow, and
    written only when they are the same at all of them."""
    import numpy as np

    from crecer.lib import growth as growth_lib
    from crecer.tracking.growth import INDICATORS, anaemia_codes

    n = len(raws)
    if n == 0:
        return []
    spans = [possible_ages(r[5], r[3]) if r[5] is not None else (0, 0) for r in raws]
    counts = np.array([high - low + 1 for low, high in spans])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    age = np.concatenate([np.arange(low, high + 1) for low, high in spans]).astype(float)

    def column(index: int) -> Any:
        return np.repeat(np.array([np.nan if r[index] is None else float(r[index]) for r in raws]), counts)

    sex = np.repeat(np.array([1 if r[4] == "M" else 2 if r[4] == "F" else 0 for r in raws], dtype=np.int8), counts)
    measure = np.repeat(np.array([r[8] or "" for r in raws], dtype="<U1"), counts)
    oedema = np.repeat(np.array([bool(r[11]) for r in raws]), counts)
    weight, length, head, muac, haemoglobin = column(6), column(7), column(9), column(10), column(12)
    z = growth_lib.zscores(sex, age, weight, length, measure, oedema, head, muac)
    classes = growth_lib.classify(z, age, oedema=oedema)
    same_wflh, wflh = _stable(np.round(z["z_wflh"], 2), starts)
    flags = {name: _stable(z[f"flag_{name}"].astype(float), starts) for name in INDICATORS}
    codes = {name: _stable(classes[name].astype(float), starts) for name in GROWTH_CLASSES}
    same_anaemia, anaemia = _stable(anaemia_codes(haemoglobin, age), starts)
    out: list[Row | None] = []
    p = c.p
    for i, r in enumerate(raws):
        pk, encounter, child, measured_on, _sex, birth, *values, supersedes, current = r
        if birth is None:  # not possible for a measurement; left out rather than guessed
            out.append(None)
            continue
        # "" when no indicator is implausible at any possible age; None when it depends on the day
        implausible = (
            ",".join(name for name in INDICATORS if flags[name][1][i] == 1)
            if all(flags[name][0][i] for name in INDICATORS)
            else None
        )
        computed = [
            None if not same_wflh[i] or np.isnan(wflh[i]) else float(wflh[i]),
            implausible,
            *(
                None
                if not codes[name][0][i] or int(codes[name][1][i]) == growth_lib.MISSING
                else int(codes[name][1][i])
                for name in GROWTH_CLASSES
            ),
            None if not same_anaemia[i] or np.isnan(anaemia[i]) else bool(anaemia[i]),
        ]
        out.append(
            (
                p("measurement", pk),
                p("encounter", encounter),
                p("child", child),
                month(measured_on),
                months_between(measured_on, birth),
                values[0],
                values[1],
                values[2] or None,
                *values[3:],
                *computed,
                current,
                p("measurement", supersedes),
            )
        )
    return out


def _screening_ages(instrument: Any, low: int, high: int) -> list[int]:
    """The ages at which a child instrument's result can change between ``low`` and ``high``: both
    ends and both sides of every completed month in between. Crecer's instruments read the age
    through completed months (cut-offs, age groups) or as a monotonic ratio (the EEDP coefficient),
    so equal results at these ages mean equal results at every age between them
    (tests/test_analytics_dates.py checks this against every age)."""
    from crecer.lib.screening.base import completed_months, month_start_days

    ages = {low, high}
    for months in range(completed_months(low) + 1, completed_months(high) + 1):
        start = month_start_days(months)
        ages |= {start - 1, start}
    return sorted(a for a in ages if low <= a <= high)


def _screening_result(
    code: str, inputs: Any, birth: dt.date | None, applied_on: dt.date, stored: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """The result to write (score, classification, urgent, subscores, sub_classifications), or None to
    leave the row out. A child instrument applied in a month where the birth month leaves the age
    on both sides of the instrument's age band is left out (its existence would say which side); a
    part of the result that differs between the possible ages is written empty."""
    from crecer.lib import screening as screening_lib

    empty = (None,) * len(stored)
    try:
        instrument = screening_lib.get(code)
    except KeyError:
        return empty
    if instrument.subject != screening_lib.CHILD or birth is None:
        return stored
    low, high = possible_ages(birth, applied_on)
    if (instrument.min_age_days is not None and low < instrument.min_age_days) or (
        instrument.max_age_days is not None and high > instrument.max_age_days
    ):
        return None
    params = conf.profile().screening_params
    expected = (None if stored[0] is None else float(stored[0]), stored[1], stored[2], stored[3] or {}, stored[4] or {})
    stable = [True] * len(stored)
    for age in _screening_ages(instrument, low, high):
        try:
            result = instrument.score(inputs, age, params)
        except (screening_lib.ScreeningInputError, ValueError, TypeError, KeyError):
            return empty
        got = (
            result.score,
            result.classification,
            result.urgent,
            result.subscores or {},
            result.sub_classifications or {},
        )
        stable = [ok and a == b for ok, a, b in zip(stable, got, expected, strict=True)]
    return tuple(value if ok else None for ok, value in zip(stable, stored, strict=True))


def _screenings(c: Context, r: Row) -> Row | None:
    (
        pk,
        encounter,
        child,
        caregiver,
        pregnancy,
        instrument,
        version,
        applied_on,
        birth,
        inputs,
        score,
        classification,
        urgent,
        category,
        subscores,
        subclasses,
        current,
        supersedes,
    ) = r
    stored = (score, classification, urgent, subscores, subclasses)
    result = _screening_result(instrument, inputs, birth if child is not None else None, applied_on, stored)
    if result is None:
        return None
    score, classification, urgent, subscores, subclasses = result
    p = c.p
    return (
        p("screening", pk),
        p("encounter", encounter),
        p("child", child),
        p("caregiver", caregiver),
        p("pregnancy", pregnancy),
        instrument,
        version,
        month(applied_on),
        months_between(applied_on, birth) if child is not None else None,
        score,
        classification,
        urgent,
        category,
        _json(subscores),
        _json(subclasses),
        current,
        p("screening", supersedes),
    )


def _deliveries(c: Context, r: Row) -> Row:
    pk, service, child, caregiver, encounter, delivered_on, birth, facility = r
    p = c.p
    return (
        p("delivery", pk),
        service,
        p("child", child),
        p("caregiver", caregiver),
        p("encounter", encounter),
        month(delivered_on),
        months_between(delivered_on, birth),
        facility,
    )


#: The state a referral was in after each dated step (the latest one on or before the cut-off wins).
_STEP_STATES = (
    ("closed", "closed"),
    ("finished", "completed"),
    ("started", "in_progress"),
    ("accepted", "accepted"),
    ("sent", "sent"),
)


def _referral_state(state: str, steps: dict[str, Any], cutoff: Cutoff) -> str:
    """The state on the cut-off day: the stored one unless a step came later, then the state of the
    latest step before it (a referral finished after the cut-off is shown in progress)."""
    if all(cutoff.keep(value) is not None for value in steps.values() if value is not None):
        return state
    for step, step_state in _STEP_STATES:
        if cutoff.keep(steps[step]) is not None:
            if step == "finished" and state in ("completed", "not_completed"):
                return state
            return step_state
    return "draft"


def _referrals(c: Context, r: Row) -> Row:
    (
        pk,
        child,
        pregnancy,
        birth,
        service,
        organisation,
        territory,
        priority,
        consent,
        state,
        created,
        sent,
        accepted,
        started,
        finished,
        closed,
        overdue,
        not_completed,
        counter,
        facility,
    ) = r
    steps = {"sent": sent, "accepted": accepted, "started": started, "finished": finished, "closed": closed}
    shown = _referral_state(state, steps, c.cutoff)
    keep = c.cutoff.keep
    p = c.p
    return (
        p("referral", pk),
        p("child", child),
        p("pregnancy", pregnancy),
        service,
        organisation,
        territory,
        priority,
        _json(sorted(consent or [])),
        shown,
        month(created),
        month(keep(sent)),
        month(keep(accepted)),
        month(keep(started)),
        month(keep(finished)),
        month(keep(closed)),
        months_between(created, birth),
        keep(overdue) is not None,
        (not_completed or None) if shown == state else None,
        (counter or {}).get("outcome") if shown == state else None,
        facility,
    )


def _members(c: Context, r: Row) -> Row:
    pk, group, service, facility, start, planned, caregiver, child, attended, completed = r
    p = c.p
    return (
        p("member", pk),
        p("group", group),
        service,
        facility,
        month(start),
        planned,
        p("caregiver", caregiver),
        p("child", child),
        attended,
        month(c.cutoff.keep(completed)),
    )


def _columns(spec: str) -> tuple[tuple[str, pa.DataType], ...]:
    """``"child:s age_months:i"`` -> ((name, arrow type), ...): s string, i int32, f float64, b bool."""
    kinds = {"s": S, "i": I, "f": F, "b": B}
    return tuple((name, kinds[kind]) for name, kind in (item.split(":") for item in spec.split()))


def _each(row: Callable[[Context, Row], Row | None]) -> Callable[[Context, list[Row]], list[Row | None]]:
    return lambda c, raws: [row(c, raw) for raw in raws]


def _table(
    name: str,
    description: str,
    model: str,
    fields: str,
    columns: str,
    rows: Callable[[Context, list[Row]], list[Row | None]],
    where: Callable[[str], Q],
    base: Q | None = None,
    until: Callable[[Cutoff], Q] | None = None,
    annotate: Callable[[], dict[str, Any]] | None = None,
) -> Table:
    return Table(
        name,
        description,
        model,
        tuple(fields.split()),
        _columns(columns),
        rows,
        where,
        base or Q(),
        until or (lambda cutoff: Q()),
        annotate,
    )


TABLES: tuple[Table, ...] = (
    _table(
        "children",
        "children (also unborn), one row each",
        "registry.Child",
        "pk sex birth_date territory__code facility__code household_id pregnancy_id birth_weight_g gestational_weeks"
        " national_id_type national_id created_at pregnancy__first_visit_date pregnancy__created_at prenatal_contact"
        " prenatal_screening",
        "child:s sex:s birth_month:s territory_code:s facility_code:s household:s pregnancy:s birth_weight_g:i"
        " gestational_weeks:i document_type:s has_document:b registered_month:s",
        _each(_children),
        lambda path: _in(path, "territory"),
        Q(voided_at__isnull=True),
        lambda cutoff: Q(birth_date__isnull=True) | Q(birth_date__lte=cutoff.day),
        _earliest_prenatal,
    ),
    _table(
        "caregivers",
        "mothers, fathers, guardians and other caregivers",
        "registry.Caregiver",
        "pk sex birth_date territory__code household_id schooling_years national_id_type national_id phone",
        "caregiver:s sex:s birth_month:s territory_code:s household:s schooling_years:i document_type:s"
        " has_document:b has_phone:b",
        _each(_caregivers),
        lambda path: _in(path, "territory") | Q(child_links__child__territory__path__startswith=path),
        Q(voided_at__isnull=True),
    ),
    _table(
        "caregiver_links",
        "who cares for which child, and as what",
        "registry.CaregiverLink",
        "pk child_id caregiver_id relationship",
        "child:s caregiver:s relationship:s",
        _each(_links),
        lambda path: _in(path, "child__territory"),
        Q(child__voided_at__isnull=True, caregiver__voided_at__isnull=True),
        _born_by,
    ),
    _table(
        "households",
        "households with their social-vulnerability percentile",
        "registry.Household",
        "pk territory__code vulnerability_percentile",
        "household:s territory_code:s vulnerability_percentile:i",
        _each(_households),
        lambda path: _in(path, "territory"),
    ),
    _table(
        "pregnancies",
        "pregnancies and their outcome",
        "registry.Pregnancy",
        "pk mother_id first_visit_date facility__code outcome outcome_date",
        "pregnancy:s mother:s first_visit_month:s facility_code:s outcome:s outcome_month:s",
        _each(_pregnancies),
        lambda path: _in(path, "mother__territory"),
    ),
    _table(
        "encounters",
        "check-ups, prenatal contacts, nutrition consultations and home visits",
        "tracking.Encounter",
        "pk child_id pregnancy_id kind date child__birth_date facility__code professional_id",
        "encounter:s child:s pregnancy:s kind:s month:s age_months:i facility_code:s professional:s",
        _each(_encounters),
        lambda path: _in(path, "child__territory", "pregnancy__mother__territory"),
        Q(voided_at__isnull=True) & _child_ok(),
        lambda cutoff: Q(date__lte=cutoff.day) & _born_by(cutoff),
    ),
    _table(
        "measurements",
        "anthropometry and haemoglobin (corrected values keep their history), with what the WHO standards"
        " give at every age the months allow",
        "tracking.Measurement",
        f"pk encounter_id child_id measured_on child__sex child__birth_date {MEASUREMENT_FIELDS} supersedes_id is_current",
        f"measurement:s encounter:s child:s month:s age_months:i {MEASUREMENT_VALUES} {MEASUREMENT_COMPUTED}"
        " is_current:b supersedes:s",
        _measurements,
        lambda path: _in(path, "child__territory"),
        Q(child__voided_at__isnull=True, encounter__voided_at__isnull=True),
        lambda cutoff: Q(measured_on__lte=cutoff.day) & _born_by(cutoff),
    ),
    _table(
        "screenings",
        "developmental and psychosocial screenings with score and result",
        "tracking.Screening",
        "pk encounter_id child_id caregiver_id pregnancy_id instrument instrument_version applied_on"
        " child__birth_date inputs score classification urgent data_category subscores sub_classifications"
        " is_current supersedes_id",
        "screening:s encounter:s child:s caregiver:s pregnancy:s instrument:s instrument_version:s month:s"
        " age_months:i score:f classification:s urgent:b data_category:s subscores:s sub_classifications:s"
        " is_current:b supersedes:s",
        _each(_screenings),
        lambda path: _in(path, "child__territory", "pregnancy__mother__territory"),
        _child_ok(),
        lambda cutoff: Q(applied_on__lte=cutoff.day) & _born_by(cutoff),
    ),
    _table(
        "deliveries",
        "services delivered (kits, home visits, stimulation sessions, enrolments…)",
        "tracking.Delivery",
        "pk service_code child_id caregiver_id encounter_id delivered_on child__birth_date facility__code",
        "delivery:s service_code:s child:s caregiver:s encounter:s month:s age_months:i facility_code:s",
        _each(_deliveries),
        lambda path: _in(path, "child__territory", "caregiver__territory"),
        Q(voided_at__isnull=True) & _child_ok(),
        lambda cutoff: Q(delivered_on__lte=cutoff.day) & _born_by(cutoff),
    ),
    _table(
        "referrals",
        "referrals across sectors: service, provider, state and the month of each step",
        "referrals.Referral",
        "pk child_id pregnancy_id child__birth_date service__code organisation__code territory__code priority"
        " consent state created_at sent_at accepted_at started_at finished_at closed_at overdue_at"
        " not_completed_reason counter_referral sender_facility__code",
        "referral:s child:s pregnancy:s service_code:s organisation_code:s territory_code:s priority:s"
        " consent:s state:s created_month:s sent_month:s accepted_month:s started_month:s finished_month:s"
        " closed_month:s age_months:i overdue:b not_completed_reason:s counter_referral_outcome:s"
        " sender_facility_code:s",
        _each(_referrals),
        lambda path: _in(path, "territory"),
        _child_ok(),
        lambda cutoff: Q(created_at__lt=cutoff.end) & _born_by(cutoff),
    ),
    _table(
        "group_members",
        "caregivers (and children) in parenting groups, with attendance and completion",
        "tracking.GroupMember",
        "pk group_id group__service_code group__facility__code group__start_date group__planned_sessions"
        " caregiver_id child_id sessions_attended completed_on",
        "member:s group:s service_code:s facility_code:s group_start_month:s planned_sessions:i caregiver:s child:s"
        " sessions_attended:i completed_month:s",
        _each(_members),
        lambda path: _in(path, "caregiver__territory", "child__territory"),
        Q(caregiver__voided_at__isnull=True) & _child_ok(),
        lambda cutoff: Q(group__start_date__lte=cutoff.day) & _born_by(cutoff),
    ),
)

#: Identifying or free-text columns of the source tables that no table carries.
REMOVED = (
    "given names and surnames",
    "identity document numbers (only the document type and whether there is one)",
    "registry numbers and external ids",
    "addresses, household codes and phone numbers",
    "exact birth dates and event dates (reduced to the month), ages and intervals in days (only differences of"
    " months), and what is computed from an exact age unless every day of the months gives the same",
    "the pregnancy's last menstrual period, expected delivery date and gestational weeks (they would tie the"
    " birth to a second month)",
    "scheduled contact codes (each has an age window in days)",
    "free text: referral reasons, rejection reasons, counter-referral follow-up, case notes, delivery details,"
    " correction and void reasons",
    "names of professionals and facilitators (professionals appear as pseudonyms)",
    "screening answers (item by item) and details",
)


def queryset(table: Table, territory: Territory | None, cutoff: Cutoff | None = None) -> QuerySet[Any]:
    from django.apps import apps

    model = apps.get_model(table.model)
    rows = model.unscoped if hasattr(model, "unscoped") else model._default_manager
    qs = rows.filter(table.base, table.until(cutoff or Cutoff(default_cutoff())))
    if table.annotate is not None:
        qs = qs.annotate(**table.annotate())
    if territory is not None:
        qs = qs.filter(pk__in=rows.filter(table.where(territory.path)).values("pk"))
    return qs


@dataclass
class TableResult:
    name: str
    file: str
    rows: int
    columns: list[str]


def write_table(
    table: Table,
    path: Path,
    context: Context,
    territory: Territory | None,
    progress: Callable[[int, int | None], None] | None = None,
    row_group: int = ROW_GROUP,
    log: Callable[[list[int]], Any] | None = None,
) -> TableResult:
    """Write ``table`` to ``path``; ``log(ids)`` is called with the ids of each chunk of rows written
    (the export logs the children it holds with it)."""
    schema = table.schema
    qs = queryset(table, territory, context.cutoff)
    total = qs.count()
    columns: list[list[Any]] = [[] for _ in table.columns]
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:

        def flush() -> None:
            arrays = [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group)
            for values in columns:
                values.clear()

        def write(raws: list[Row]) -> None:
            nonlocal rows
            made = table.rows(context, raws)
            if log is not None:
                log([raw[0] for raw, row in zip(raws, made, strict=True) if row is not None])
            for row in made:
                if row is None:
                    continue
                for values, value in zip(columns, row, strict=True):
                    values.append(value)
                rows += 1
                if rows % row_group == 0:
                    flush()
                    if progress is not None:
                        progress(rows, total)

        chunk: list[Row] = []
        for raw in qs.order_by("pk").values_list(*table.fields).iterator(chunk_size=CHUNK):
            chunk.append(raw)
            if len(chunk) == CHUNK:
                write(chunk)
                chunk = []
        write(chunk)
        if columns[0] or rows == 0:
            flush()
    if progress is not None:
        progress(rows, total)
    return TableResult(table.name, path.name, rows, [name for name, _t in table.columns])


@dataclass
class AnalyticsResult:
    tables: list[TableResult]
    seconds: float
    fingerprint: str


def export(
    actor: Actor,
    out_dir: Path,
    territory: Territory | None = None,
    *,
    progress: Callable[[str], Any] | None = None,
    tables: Sequence[Table] = TABLES,
    row_group: int = ROW_GROUP,
    until: dt.date | None = None,
) -> AnalyticsResult:
    """Write every table to ``out_dir`` (``<table>.parquet``, ``manifest.json``, ``README.txt``).

    ``until`` is the cut-off day (default: the last day of the previous month, see
    :func:`default_cutoff`). ``progress(label)`` returns a context manager yielding
    ``update(done, total)`` (see :func:`crecer.core.progress.progress_bar`). Raises ValueError if
    the key file would land in the export."""
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    if not os.environ.get(KEY_ENV) and key_path().resolve().is_relative_to(out_dir):
        raise ValueError(
            _("The pseudonym key (%(path)s) would be inside the export folder; choose another folder.")
            % {"path": key_path()}
        )
    pseudonyms = Pseudonyms(pseudonym_key())
    cutoff = Cutoff(until or default_cutoff())
    context = Context(pseudonyms, cutoff)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[TableResult] = []
    complete = False
    what = f"pseudonymised analytics {territory.code if territory else 'all'}"

    def log_children(ids: list[int]) -> None:
        # Pseudonymised, but still these children's records: the trail says which left, chunk by chunk.
        log_reads(actor, what, ids)

    try:
        for table in tables:
            path = out_dir / f"{table.name}.parquet"
            log = log_children if table.name == "children" else None
            if progress is None:
                results.append(write_table(table, path, context, territory, None, row_group, log))
            else:
                with progress(table.name) as update:
                    results.append(write_table(table, path, context, territory, update, row_group, log))
        _write_manifest(out_dir, results, territory, pseudonyms.fingerprint, cutoff)
        complete = True
    finally:
        with transaction.atomic():
            record(
                actor,
                Action.EXPORT,
                entity="interop.analytics",
                note=what,
                after={
                    "format": "parquet",
                    "pseudonymised": True,
                    "territory": territory.code if territory else None,
                    "until": cutoff.day.isoformat(),
                    "tables": {r.name: r.rows for r in results},
                    "key_fingerprint": pseudonyms.fingerprint,
                    "complete": complete,
                },
            )
    return AnalyticsResult(results, time.perf_counter() - started, pseudonyms.fingerprint)


def _write_manifest(
    out_dir: Path, results: list[TableResult], territory: Territory | None, fingerprint: str, cutoff: Cutoff
) -> None:
    descriptions = {t.name: t.description for t in TABLES}
    manifest = {
        "pseudonymised": True,
        "created_at": timezone.localtime().isoformat(timespec="seconds"),
        "profile": conf.profile().id,
        "territory": territory.code if territory else None,
        "pseudonyms": (
            "HMAC-SHA256 of '<entity>:<record id>' with a secret key, first 128 bits in hexadecimal; "
            "the same record has the same pseudonym in every table and in every export made with the same key"
        ),
        "key_included": False,
        "key_fingerprint": fingerprint,
        "until": cutoff.day.isoformat(),
        "dates": (
            "every date is reduced to its month (YYYY-MM); ages and intervals are differences of months "
            "(age_months = event month - birth month); values computed from an exact age are written only "
            "when every day of the months gives the same; nothing after 'until' is included"
        ),
        "removed": list(REMOVED),
        "tables": {
            r.name: {"file": r.file, "rows": r.rows, "description": descriptions.get(r.name, ""), "columns": r.columns}
            for r in results
        },
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        "Crecer analytics export - PSEUDONYMISED DATA",
        "",
        "Names, identity document numbers, registry numbers, external ids, addresses, phone numbers and",
        "free text are not included. Every record id is replaced by a pseudonym: HMAC-SHA256 of",
        "'<entity>:<id>' with a secret key (first 128 bits, hexadecimal). The key is NOT included in this",
        "export; without it pseudonyms cannot be reversed or recomputed. The same key gives the same",
        f"pseudonyms in every export (key fingerprint: {fingerprint}).",
        "",
        "Every date is reduced to its month (YYYY-MM) and every age or interval is a difference of months",
        "(age_months = event month - birth month, within one month of the age in completed months); no",
        "field, alone or combined, gives a date more precisely than its month. Events after",
        f"{cutoff.day.isoformat()} are not included. Pseudonymised data are still personal data: keep them",
        "under the same rules, and do not try to re-identify anyone.",
        "",
        f"Territory: {territory.code if territory else 'whole country'}",
        "",
        "Tables (Parquet):",
        *(f"  {r.file:28} {r.rows:>12,} rows  {descriptions.get(r.name, '')}" for r in results),
        "",
        "Columns of each table: manifest.json.",
    ]
    (out_dir / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
