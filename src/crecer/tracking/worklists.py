"""Worklists: what can be done today, what must be done this week, what is overdue, recently missed, or
has an open risk.

* ``today``: contacts open today (window started, not closed), the soonest to close first;
* ``week``: contacts whose window closes within the next 7 days (today to today + 6, a rolling week that
  does not shrink on Fridays), the soonest to close first; not the contacts merely open this week;
* ``overdue``, ``missed``, ``risk``: as before (oldest child first).

Each row carries the caregiver's phone and the child's alerts (open risk flags the user may see, urgent
first, then growth and screening alerts). Urgent results awaiting action are not rows of a tab: pages and
the API pin them on top of every tab (``crecer.risks.urgent.pending``).

Set-based: each scheduled contact's state is a range of birth dates on a given day
(:func:`crecer.lib.schedule.birth_dates_in_state`), so a worklist is one SQL query per contact, joined
with UNION ALL, over the scoped children — no loop over children in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, DateField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Value

from crecer import conf
from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.audit.trail import Actor
from crecer.lib import schedule as schedule_lib
from crecer.lib.schedule import Contact, State
from crecer.registry import scope
from crecer.registry.models import CaregiverLink, Child
from crecer.registry.reads import log_reads
from crecer.tracking import growth
from crecer.tracking.models import Encounter, Measurement, Screening
from crecer.tracking.timeline import ALERT_RESULTS

TABS = ("today", "week", "overdue", "missed", "risk")
#: tabs sorted by deadline (the window's close), soonest first
BY_DEADLINE = ("today", "week")
#: "week": contacts closing from today to today + WEEK_DAYS - 1
WEEK_DAYS = 7
#: "missed" lists contacts whose catch-up time ended within this many days (older ones are history).
MISSED_RECENT_DAYS = 90
#: a risky screening older than this no longer counts as an open risk by itself
RISK_SCREENING_DAYS = 365


@dataclass
class Row:
    child: Child
    contact: Contact | None
    state: str
    opens: dt.date | None = None
    closes: dt.date | None = None
    alerts: list[str] = field(default_factory=list)
    #: the phone of the child's first caregiver who has one (mother, father, guardian, other)
    phone: str = ""
    #: that caregiver (their read is logged with the row's: :func:`log_worklist`)
    caregiver_id: int | None = None
    #: open risk flags the user may see: (rule id, label, urgent and awaiting action), urgent first
    flags: list[tuple[str, str, bool]] = field(default_factory=list)


RELATIONSHIP_RANK = {"mother": 0, "father": 1, "guardian": 2, "other": 3}


def phones_for(child_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each child's caregiver whose phone is shown, as (caregiver id, phone) (one query)."""
    found: dict[int, tuple[int, int, str]] = {}
    for child_id, relationship, caregiver_id, phone in (
        CaregiverLink.unscoped.filter(child_id__in=child_ids, caregiver__voided_at__isnull=True)
        .exclude(caregiver__phone="")
        .order_by("pk")
        .values_list("child_id", "relationship", "caregiver_id", "caregiver__phone")
    ):
        rank = RELATIONSHIP_RANK.get(relationship, 9)
        if child_id not in found or rank < found[child_id][0]:
            found[child_id] = (rank, caregiver_id, phone)
    return {child_id: (caregiver_id, phone) for child_id, (_rank, caregiver_id, phone) in found.items()}


def log_worklist(
    actor: Actor, what: str, rows: Sequence[Row], pinned: Sequence[Any] = (), *, pregnancies: Sequence[int] = ()
) -> int:
    """Log the reads of a worklist as sent (page, home page, API, export, the pregnancy list): the rows'
    children, the caregivers whose phone is shown, the pinned urgent results' children and pregnancies,
    and ``pregnancies`` (the pregnancy list's rows)."""
    return log_reads(
        actor,
        what,
        [r.child.pk for r in rows] + [p.flag.child_id for p in pinned if p.flag.child_id],
        pregnancies=[*pregnancies, *(p.flag.pregnancy_id for p in pinned if p.flag.pregnancy_id)],
        caregivers=[r.caregiver_id for r in rows if r.phone and r.caregiver_id],
    )


FlagSource = Callable[[Any, list[int]], dict[int, list[tuple[str, str, bool]]]]
PinnedSource = Callable[[Any], list[Any]]
_flag_sources: list[FlagSource] = []
_pinned_sources: list[PinnedSource] = []


def add_flag_source(source: FlagSource) -> None:
    """Apps above this one (risks) give each row its flags: ``source(user, child_ids)`` answers
    ``{child_id: [(rule id, label, urgent awaiting action)]}``, urgent first."""
    if source not in _flag_sources:
        _flag_sources.append(source)


def add_pinned_source(source: PinnedSource) -> None:
    """Apps above this one (risks) pin items on top of every worklist: ``source(user)`` answers items with
    ``label``, ``subject_name``, ``subject_url``, ``flag`` (``raised_at``) and ``can_act``."""
    if source not in _pinned_sources:
        _pinned_sources.append(source)


def flags_for(user: Any, child_ids: list[int]) -> dict[int, list[tuple[str, str, bool]]]:
    found: dict[int, list[tuple[str, str, bool]]] = {}
    for source in _flag_sources:
        for child_id, items in source(user, child_ids).items():
            found.setdefault(child_id, []).extend(items)
    return found


def pinned(user: Any) -> list[Any]:
    """The urgent items awaiting action that stay on top of every worklist (and the home page)."""
    return [item for source in _pinned_sources for item in source(user)]


def professionals(user: Any) -> QuerySet[Any]:
    """The professionals a worklist may be filtered by: active health workers of the user's territory
    subtree, for territorial roles only. Pages and the API use this one list, so a username outside the
    user's territory is answered as an unknown one."""
    from crecer.access.models import Role, User

    if not permissions.is_territorial(user):
        return User.objects.none()
    return User.objects.filter(
        role=Role.HEALTH_WORKER, is_active=True, territory__path__startswith=user.territory.path
    ).order_by("username")


def base_children(user: Any, facility_id: int | None = None, professional_id: int | None = None) -> QuerySet[Child]:
    children = scope.children(user).filter(birth_date__isnull=False)
    if facility_id:
        children = children.filter(facility_id=facility_id)
    if professional_id:
        # Continuity of care: the professional who saw the child last.
        last = Encounter.unscoped.filter(child=OuterRef("pk"), voided_at__isnull=True).order_by("-date", "-pk")
        children = children.annotate(last_professional=Subquery(last.values("professional_id")[:1])).filter(
            last_professional=professional_id
        )
    return children


def _range(contact: Contact, tab: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    if tab == "today":
        return schedule_lib.birth_dates_in_state(contact, State.DUE, today)
    if tab == "week":
        # today <= birth + end <= today + 6
        return today - dt.timedelta(days=contact.end), today + dt.timedelta(days=WEEK_DAYS - 1 - contact.end)
    if tab == "overdue":
        return schedule_lib.birth_dates_in_state(contact, State.OVERDUE, today)
    if tab == "missed":
        # late_until + 1 <= age <= late_until + MISSED_RECENT_DAYS
        return (
            today - dt.timedelta(days=contact.late_until + MISSED_RECENT_DAYS),
            today - dt.timedelta(days=contact.late_until + 1),
        )
    raise ValueError(tab)


def contact_rows(children: QuerySet[Child], tab: str, today: dt.date, contact_code: str = "") -> QuerySet[Any]:
    """(pk, birth_date, contact) rows of children with a contact in the ``tab`` state, oldest first."""
    contacts = [c for c in conf.profile().child_schedule if not contact_code or c.code == contact_code]
    parts: list[Any] = []
    for contact in contacts:
        low, high = _range(contact, tab, today)
        done = Encounter.unscoped.filter(child=OuterRef("pk"), contact_code=contact.code, voided_at__isnull=True)
        part = children.filter(birth_date__gte=low, birth_date__lte=high).filter(~Exists(done))
        part = part.annotate(contact=Value(contact.code, output_field=CharField()))
        if tab in BY_DEADLINE:
            part = part.annotate(
                closes=ExpressionWrapper(F("birth_date") + dt.timedelta(days=contact.end), output_field=DateField())
            )
            parts.append(part.values("pk", "birth_date", "contact", "closes"))
        else:
            parts.append(part.values("pk", "birth_date", "contact"))
    if not parts:
        return Child.unscoped.none().values("pk")
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    if tab in BY_DEADLINE:
        return union.order_by("closes", "birth_date", "pk", "contact")
    return union.order_by("birth_date", "pk", "contact")


def risk_children(user: Any, children: QuerySet[Child], today: dt.date) -> QuerySet[Child]:
    """Children whose latest measurement shows a nutritional problem or anaemia, or with a current
    screening in risk/delay not followed by a later application of the same instrument."""
    latest = Measurement.unscoped.filter(child=OuterRef("pk"), is_current=True).order_by("-measured_on", "-pk")
    later = Screening.unscoped.filter(
        child=OuterRef("child"),
        instrument=OuterRef("instrument"),
        is_current=True,
        applied_on__gt=OuterRef("applied_on"),
    )
    risky = (
        Screening.unscoped.filter(
            child=OuterRef("pk"),
            is_current=True,
            applied_on__gte=today - dt.timedelta(days=RISK_SCREENING_DAYS),
        )
        .filter(Q(classification__in=ALERT_RESULTS) | Q(urgent=True))
        .filter(~Exists(later))
        .filter(_screenings_seen(user))
    )
    growth_seen = scope.with_category(user, DataCategory.HEALTH)
    annotated = children.annotate(
        m_stunting=Subquery(latest.values("stunting")[:1]),
        m_underweight=Subquery(latest.values("underweight")[:1]),
        m_wasting=Subquery(latest.values("wasting")[:1]),
        m_overweight=Subquery(latest.values("overweight")[:1]),
        m_anaemia=Subquery(latest.values("anaemia")[:1]),
        s_risk=Exists(risky),
    )
    return annotated.filter(
        (
            growth_seen
            & (
                Q(m_stunting__gte=1)
                | Q(m_underweight__gte=1)
                | Q(m_wasting__gte=1)
                | Q(m_overweight__gte=1)
                | Q(m_anaemia=True)
            )
        )
        | Q(s_risk=True)
    ).order_by("birth_date", "pk")


def _screenings_seen(user: Any) -> Q:
    """Screenings (as rows of ``Screening``) whose category the user may see for their child: every
    category the user reads, for an organisation only those its grant for the child shares."""
    categories = sorted(permissions.readable_categories(user)) if getattr(user, "is_authenticated", False) else []
    if permissions.is_territorial(user):
        return Q(data_category__in=categories)
    condition = Q(pk__in=[])
    for category in DataCategory.values:
        condition |= Q(data_category=category) & scope.with_category(user, category, "child_id")
    return condition


def alerts_for(user: Any, child_ids: list[int]) -> dict[int, list[str]]:
    """Growth and screening alerts of these children (two queries), for display."""
    found: dict[int, list[str]] = {pk: [] for pk in child_ids}
    seen: set[int] = set()
    measurements = Measurement.unscoped.filter(child_id__in=child_ids, is_current=True)
    for m in measurements.filter(scope.with_category(user, DataCategory.HEALTH, "child_id")).order_by(
        "child_id", "-measured_on", "-pk"
    ):
        if m.child_id in seen:
            continue
        seen.add(m.child_id)
        found[m.child_id] += growth.alerts(m)
    latest: dict[tuple[int, str], Screening] = {}
    screenings = Screening.unscoped.filter(child_id__in=child_ids, is_current=True).filter(_screenings_seen(user))
    for s in screenings.order_by("applied_on", "pk"):
        latest[(s.child_id, s.instrument)] = s  # type: ignore[index]
    for (child_id, instrument), s in latest.items():
        if s.classification in ALERT_RESULTS or s.urgent:
            found[child_id].append(f"{instrument}:{s.classification}")
    return found


def build_rows(user: Any, tab: str, page_rows: list[Any], today: dt.date) -> list[Row]:
    """Turn a page of worklist results into rows with their contact, window and alerts."""
    by_code = {c.code: c for c in conf.profile().child_schedule}
    if tab == "risk":
        children = list(page_rows)
        ids = [c.pk for c in children]
        alerts, phones, flags = alerts_for(user, ids), phones_for(ids), flags_for(user, ids)
        return [
            Row(
                child=c,
                contact=None,
                state="risk",
                alerts=alerts.get(c.pk, []),
                caregiver_id=phones[c.pk][0] if c.pk in phones else None,
                phone=phones[c.pk][1] if c.pk in phones else "",
                flags=flags.get(c.pk, []),
            )
            for c in children
        ]
    ids = [r["pk"] for r in page_rows]
    children_by_id = Child.unscoped.select_related("territory", "facility").in_bulk(ids)
    alerts, phones, flags = alerts_for(user, ids), phones_for(ids), flags_for(user, ids)
    rows = []
    for r in page_rows:
        child = children_by_id[r["pk"]]
        contact = by_code[r["contact"]]
        assert child.birth_date is not None
        state = contact.state((today - child.birth_date).days)
        rows.append(
            Row(
                child=child,
                contact=contact,
                state=state.value,
                opens=child.birth_date + dt.timedelta(days=contact.start),
                closes=child.birth_date + dt.timedelta(days=contact.end),
                alerts=alerts.get(child.pk, []),
                caregiver_id=phones[child.pk][0] if child.pk in phones else None,
                phone=phones[child.pk][1] if child.pk in phones else "",
                flags=flags.get(child.pk, []),
            )
        )
    return rows


def worklist(
    user: Any,
    tab: str,
    today: dt.date,
    *,
    facility_id: int | None = None,
    professional_id: int | None = None,
    contact_code: str = "",
) -> QuerySet[Any]:
    """The worklist's query: contact rows (dicts) for the schedule tabs, children for "risk"."""
    children = base_children(user, facility_id, professional_id)
    if tab == "risk":
        return risk_children(user, children, today)
    # scheduled contacts are health data: an organisation sees them only of children whose grant shares it
    return contact_rows(children.filter(scope.with_category(user, DataCategory.HEALTH)), tab, today, contact_code)
