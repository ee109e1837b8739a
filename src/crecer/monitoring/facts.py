"""The registry facts indicators are declared over.

Each fact is a named, parameterised filter on a *population* (children, pregnancies, referrals or
parenting-group members) for a reporting period. The country profile's indicators combine facts into a
denominator and a numerator (``indicators.toml``); the engine turns them into one SQL query each, so a
figure is always the count of concrete subjects, which can be listed one by one.

Every fact is a function ``(period, **params) -> condition`` (a ``Q`` over the population's model)
registered with :func:`fact`. Conditions rather than filtered querysets let the engine count the
denominator and the numerator (the denominator's conditions and the numerator's) in one pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, DateField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.lookups import Exact, GreaterThanOrEqual, In, LessThan
from django.utils import timezone

from crecer import conf
from crecer.lib.periods import Period
from crecer.referrals.models import Referral, State
from crecer.registry.models import Child, PendingMother, Pregnancy
from crecer.tracking import growth
from crecer.tracking.models import Delivery, Encounter, GroupMember, Measurement, Screening

Condition = Q
Fact = Callable[..., Condition]


@dataclass(frozen=True)
class Population:
    name: str
    base: Callable[[], QuerySet[Any]]
    #: the field holding the subject's territory (the lowest level it is known at)
    territory: str
    #: disaggregation name -> field or expression of the subject
    disaggregations: dict[str, str]


def _children() -> QuerySet[Any]:
    return Child.unscoped.filter(voided_at__isnull=True, birth_date__isnull=False)


POPULATIONS: dict[str, Population] = {
    "child": Population(
        "child", _children, "territory_id", {"sex": "sex", "vulnerability": "household__vulnerability_percentile"}
    ),
    "pregnancy": Population(
        "pregnancy",
        lambda: Pregnancy.unscoped.all(),
        "mother__territory_id",
        {"vulnerability": "mother__household__vulnerability_percentile"},
    ),
    "referral": Population("referral", lambda: Referral.unscoped.all(), "territory_id", {"service": "service__code"}),
    "encounter": Population(
        "encounter",
        lambda: Encounter.unscoped.filter(voided_at__isnull=True, child__isnull=False),
        "child__territory_id",
        {},
    ),
    "measurement": Population(
        "measurement", lambda: Measurement.unscoped.filter(is_current=True), "child__territory_id", {}
    ),
    "group_member": Population(
        "group_member",
        lambda: GroupMember.unscoped.all(),
        "caregiver__territory_id",
        {"vulnerability": "caregiver__household__vulnerability_percentile"},
    ),
}

FACTS: dict[tuple[str, str], Fact] = {}


def fact(population: str, name: str) -> Callable[[Fact], Fact]:
    def register(function: Fact) -> Fact:
        FACTS[(population, name)] = function
        return function

    return register


def _end_of(period: Period) -> dt.datetime:
    """The first instant after the period, in the country's time zone."""
    return timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=int(n))


class AddDays(Func):
    """``date + days``, a date, in plain SQL on both databases (Django's date arithmetic on SQLite calls a
    Python function for every row, which dominated the indicators comparing two dates of a record)."""

    output_field = DateField()
    template = "(%(expressions)s + %(days)s)"  # PostgreSQL: date + integer is a date

    def __init__(self, expression: Any, days: int) -> None:
        super().__init__(expression, days=f"{int(days):+d}")  # an integer written into the SQL

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="date(%(expressions)s, '%(days)s days')", **extra_context)


# --- children ------------------------------------------------------------------------------------------


@fact("child", "born_in_period")
def born_in_period(period: Period) -> Condition:
    return Q(birth_date__gte=period.start, birth_date__lte=period.end)


@fact("child", "age_at_end_between")
def age_at_end_between(period: Period, min_days: int, max_days: int) -> Condition:
    """Aged ``min_days``..``max_days`` (inclusive) on the period's last day."""
    return Q(birth_date__lte=period.end - _days(min_days), birth_date__gte=period.end - _days(max_days))


@fact("child", "reaches_age_in_period")
def reaches_age_in_period(period: Period, days: int) -> Condition:
    """Turning ``days`` old during the period (FED-style cohorts by age in days)."""
    return Q(birth_date__gte=period.start - _days(days), birth_date__lte=period.end - _days(days))


@fact("child", "birth_weight_known")
def birth_weight_known(period: Period) -> Condition:
    return Q(birth_weight_g__isnull=False)


@fact("child", "birth_weight_below")
def birth_weight_below(period: Period, grams: int) -> Condition:
    return Q(birth_weight_g__lt=grams)


@fact("child", "has_document")
def has_document(period: Period) -> Condition:
    return Q(national_id__isnull=False)


@fact("child", "household_percentile_at_most")
def household_percentile_at_most(period: Period, percentile: int) -> Condition:
    return Q(household__vulnerability_percentile__lte=percentile)


@fact("child", "delivered")
def delivered(period: Period, service: str, within_days_of_birth: int | None = None) -> Condition:
    """Received ``service`` by the end of the period (optionally within some days of birth)."""
    deliveries = Delivery.unscoped.filter(
        child=OuterRef("pk"), service_code=service, voided_at__isnull=True, delivered_on__lte=period.end
    )
    if within_days_of_birth is not None:
        # The window is the same for every child relative to its own birth date: compare in SQL.
        deliveries = deliveries.filter(delivered_on__lte=AddDays(F("child__birth_date"), within_days_of_birth))
    return Q(Exists(deliveries))


def _classified(field: str) -> dict[str, Any]:
    """The measurement has a value of ``field`` that counts: for a WHO classification (stunting, wasting…)
    a code from 0 up — not ``IMPLAUSIBLE`` (-2: WHO flags that indicator's z-score, so the value is not
    classified) nor missing; for any other field, a value."""
    if field in growth.CLASSES:
        return {f"{field}__gte": 0}
    return {f"{field}__isnull": False}


def _latest_measurement(period: Period, field: str) -> QuerySet[Any]:
    """The child's current measurements of the period with a value of ``field`` that counts, latest first."""
    return Measurement.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        measured_on__gte=period.start,
        measured_on__lte=period.end,
        **_classified(field),
    ).order_by("-measured_on", "-pk")


@fact("child", "measured_in_period")
def measured_in_period(period: Period, field: str = "length_cm") -> Condition:
    """With a plausible (classified) value of ``field``'s indicator at a measurement in the period: a
    measurement whose z-score for that indicator WHO flags implausible does not count (per indicator: an
    implausible weight-for-length leaves length-for-age classified)."""
    return Q(Exists(_latest_measurement(period, field)))


@fact("child", "latest_measurement")
def latest_measurement(period: Period, field: str, at_least: int | None = None, equals: Any = None) -> Condition:
    """The child's last measurement of the period with a plausible (classified) value of ``field`` has
    ``field`` >= ``at_least`` (or == ``equals``); later implausible values are passed over."""
    latest = Subquery(_latest_measurement(period, field).values(field)[:1])
    if at_least is not None:
        return Q(GreaterThanOrEqual(latest, at_least))
    return Q(Exact(latest, equals))


@fact("child", "screened_in_period")
def screened_in_period(period: Period, instruments: list[str]) -> Condition:
    screenings = Screening.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        instrument__in=instruments,
        applied_on__gte=period.start,
        applied_on__lte=period.end,
    )
    return Q(Exists(screenings))


@fact("child", "latest_screening")
def latest_screening(period: Period, instruments: list[str], results: list[str]) -> Condition:
    """The last application in the period of any of ``instruments`` gave one of ``results``."""
    latest = Screening.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        instrument__in=instruments,
        applied_on__gte=period.start,
        applied_on__lte=period.end,
    ).order_by("-applied_on", "-pk")
    return Q(In(Subquery(latest.values("classification")[:1]), results))


@fact("child", "screening_result_in_period")
def screening_result_in_period(period: Period, instruments: list[str], results: list[str]) -> Condition:
    """At least one application in the period of any of ``instruments`` gave one of ``results``."""
    screenings = Screening.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        instrument__in=instruments,
        classification__in=results,
        applied_on__gte=period.start,
        applied_on__lte=period.end,
    )
    return Q(Exists(screenings))


@fact("child", "screened_at_age")
def screened_at_age(period: Period, instrument: str, min_days: int, max_days: int) -> Condition:
    """Screened with ``instrument`` at an age of ``min_days``..``max_days`` (by the end of the period)."""
    return Q(
        Exists(
            Screening.unscoped.filter(
                child=OuterRef("pk"),
                is_current=True,
                instrument=instrument,
                age_days__gte=min_days,
                age_days__lte=max_days,
                applied_on__lte=period.end,
            )
        )
    )


@fact("child", "contact_closed_in_period")
def contact_closed_in_period(period: Period, contact: str) -> Condition:
    """The scheduled contact's catch-up time ended during the period (the child could no longer get it)."""
    c = next(c for c in conf.profile().child_schedule if c.code == contact)
    return Q(birth_date__gte=period.start - _days(c.late_until), birth_date__lte=period.end - _days(c.late_until))


@fact("child", "check_ups_up_to_date")
def check_ups_up_to_date(period: Period) -> Condition:
    """The last scheduled contact whose window had closed by the end of the period was done by then."""
    contacts = sorted(conf.profile().child_schedule, key=lambda c: c.end)
    due = []
    for current, following in zip(contacts, [*contacts[1:], None], strict=True):
        # Aged (current.end, following.end] on the last day: ``current`` is the latest closed contact.
        born: Any = LessThan(OuterRef("birth_date"), period.end - _days(current.end))
        if following is not None:
            born = born & GreaterThanOrEqual(OuterRef("birth_date"), period.end - _days(following.end))
        due.append(When(born, then=Value(current.code)))
    # One lookup per child of the contact due at its age (an OR of one EXISTS per contact made
    # PostgreSQL scan the encounters once per contact).
    done = Encounter.unscoped.filter(
        child=OuterRef("pk"),
        contact_code=Case(*due, default=Value(None), output_field=CharField()),
        voided_at__isnull=True,
        date__lte=period.end,
    ).exclude(contact_code="")  # as the (child, contact) unique index says, so the lookup can use it
    return Q(Exists(done))


@fact("child", "referred_after_screening")
def referred_after_screening(period: Period, results: list[str], service: str, within_days: int) -> Condition:
    """Referred to ``service`` within ``within_days`` of a screening in the period with one of ``results``."""
    window_end = AddDays(OuterRef("applied_on"), within_days)
    referred = Referral.unscoped.filter(
        child=OuterRef("child"),
        service__code=service,
        sent_at__date__gte=OuterRef("applied_on"),
        sent_at__date__lte=window_end,
    ).exclude(state__in=("draft", "cancelled"))
    flagged = Screening.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        classification__in=results,
        applied_on__gte=period.start,
        applied_on__lte=period.end,
    )
    return Q(Exists(flagged.filter(Exists(referred))))


@fact("child", "rescreened_normal_later")
def rescreened_normal_later(period: Period, instruments: list[str], results: list[str]) -> Condition:
    """After a screening in the period with one of ``results``, a later one of the same instrument (on any
    date up to the computation: the recovery of the period's cohort, frozen by a snapshot) is normal or
    on track."""
    flagged = Screening.unscoped.filter(
        child=OuterRef("pk"),
        is_current=True,
        instrument__in=instruments,
        classification__in=results,
        applied_on__gte=period.start,
        applied_on__lte=period.end,
    )
    later_normal = Screening.unscoped.filter(
        child=OuterRef("child"),
        instrument=OuterRef("instrument"),
        is_current=True,
        classification__in=("normal", "on_track"),
        applied_on__gt=OuterRef("applied_on"),
    )
    return Q(Exists(flagged.filter(Exists(later_normal))))


# --- pregnancies -------------------------------------------------------------------------------------


@fact("pregnancy", "first_visit_in_period")
def first_visit_in_period(period: Period) -> Condition:
    return Q(first_visit_date__gte=period.start, first_visit_date__lte=period.end)


@fact("pregnancy", "first_visit_week_below")
def first_visit_week_below(period: Period, week: int) -> Condition:
    return Q(first_visit_week__lt=week)


@fact("pregnancy", "screened")
def pregnancy_screened(period: Period, instrument: str, results: list[str] | None = None) -> Condition:
    screenings = Screening.unscoped.filter(
        pregnancy=OuterRef("pk"), is_current=True, instrument=instrument, applied_on__lte=period.end
    )
    if results:
        screenings = screenings.filter(classification__in=results)
    return Q(Exists(screenings))


@fact("pregnancy", "referral_attended")
def pregnancy_referral_attended(period: Period) -> Condition:
    """Referred (any service) and attended: the referral was completed with a counter-referral."""
    return Q(
        Exists(
            Referral.unscoped.filter(
                pregnancy=OuterRef("pk"), state__in=("completed", "closed"), counter_referral__isnull=False
            )
        )
    )


@fact("pregnancy", "referred")
def pregnancy_referred(period: Period) -> Condition:
    return Q(Exists(Referral.unscoped.filter(pregnancy=OuterRef("pk")).exclude(state__in=("draft", "cancelled"))))


# --- referrals ---------------------------------------------------------------------------------------


@fact("referral", "sent_in_period")
def sent_in_period(period: Period) -> Condition:
    return Q(sent_at__date__gte=period.start, sent_at__date__lte=period.end)


# Every referral fact reads only events timestamped before the end of the period (or before now, while it
# runs): a later acceptance, attention or closing changes no figure of a period that has ended.


@fact("referral", "accepted_within_deadline")
def accepted_within_deadline(period: Period) -> Condition:
    """Accepted by its answer deadline and before the end of the period."""
    return Q(accepted_at__lte=F("acceptance_due"), accepted_at__lt=_end_of(period))


@fact("referral", "attention_started")
def attention_started(period: Period) -> Condition:
    """The first attention started before the end of the period."""
    return Q(started_at__lt=_end_of(period))


def _done_by(due: str, step: str) -> Q:
    """By the deadline ``due`` the step had happened (``step``'s timestamp), or the referral no longer owed
    it: it had ended (``finished_at``: rejected, completed or not completed) or been cancelled."""
    return (
        Q(**{f"{step}__lte": F(due)})
        | Q(finished_at__lte=F(due))
        | Q(state=State.CANCELLED, closed_at__lte=F(due))  # cancelled is final: its closed_at never changes
    )


@fact("referral", "missed_deadline")
def missed_deadline(period: Period) -> Condition:
    """A deadline passed before the end of the period (or now, while it runs) without its step: the answer
    deadline without an acceptance or a rejection by then, or the attention deadline (of an accepted
    referral) without the first attention by then — unless the referral was cancelled, or ended without
    attention (not completed), before the deadline. A late answer or attention counts, a late rejection
    too. Only timestamps up to the deadline decide, so later events (closing, expiry by the sweep, a late
    answer) never change a past period."""
    cutoff = min(_end_of(period), timezone.now())
    # A rejection is the only end without an acceptance: finished_at is its time.
    answer_late = Q(acceptance_due__lt=cutoff) & ~_done_by("acceptance_due", "accepted_at")
    attention_late = Q(attention_due__lt=cutoff) & ~_done_by("attention_due", "started_at")
    return Q(answer_late | attention_late)


# --- parenting-group members -------------------------------------------------------------------------


@fact("group_member", "group_started_in_period")
def group_started_in_period(period: Period) -> Condition:
    return Q(group__start_date__gte=period.start, group__start_date__lte=period.end)


@fact("group_member", "completed")
def completed(period: Period) -> Condition:
    return Q(completed_on__isnull=False)


# --- data quality ------------------------------------------------------------------------------------


@fact("child", "older_than")
def older_than(period: Period, days: int) -> Condition:
    return Q(birth_date__lt=period.end - _days(days))


@fact("child", "without_document")
def without_document(period: Period) -> Condition:
    return Q(national_id__isnull=True)


@fact("child", "possible_duplicate")
def possible_duplicate(period: Period) -> Condition:
    """Another child has the same folded full name and birth date (deduplication reviews these)."""
    twin = Child.unscoped.filter(
        search_name=OuterRef("search_name"), birth_date=OuterRef("birth_date"), voided_at__isnull=True
    ).exclude(pk=OuterRef("pk"))
    return Q(Exists(twin))


@fact("child", "mother_pending")
def mother_pending(period: Period) -> Condition:
    """Registered with the document of a mother nobody has registered yet (a birth file loaded before the
    mothers): the link is made as soon as she is registered."""
    return Q(Exists(PendingMother.unscoped.filter(child=OuterRef("pk"), linked_at__isnull=True)))


@fact("encounter", "check_up_in_period")
def check_up_in_period(period: Period) -> Condition:
    return Q(kind__in=("check_up", "nutrition"), date__gte=period.start, date__lte=period.end)


@fact("encounter", "without_measurement")
def without_measurement(period: Period) -> Condition:
    return Q(~Exists(Measurement.unscoped.filter(encounter=OuterRef("pk"), is_current=True)))


@fact("encounter", "recorded_late")
def recorded_late(period: Period, days: int) -> Condition:
    """Recorded more than ``days`` after the contact happened."""
    return Q(recorded_on__gt=AddDays(F("date"), days))


@fact("measurement", "measured_in_period")
def measurement_in_period(period: Period) -> Condition:
    return Q(measured_on__gte=period.start, measured_on__lte=period.end)


@fact("measurement", "implausible")
def implausible(period: Period) -> Condition:
    """WHO flags at least one z-score of the measurement as implausible."""
    return ~Q(implausible=[])


#: value expressions for median indicators: population -> name -> (field expression, filter)
VALUES: dict[tuple[str, str], str] = {
    ("referral", "days_to_attention"): "days_to_attention",
}
