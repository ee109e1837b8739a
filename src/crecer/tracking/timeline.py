"""One timeline per child, from the pregnancy to age 8, across sectors, in date order.

Only what the user may see: the child must be in scope (the caller used
:func:`crecer.registry.scope.get_child_or_404`), and each item carries its data category, kept only
if the user may see that category for this child.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access.categories import category_of
from crecer.access.models import DataCategory
from crecer.lib import schedule as schedule_lib
from crecer.registry import scope
from crecer.registry.models import Child, Pregnancy
from crecer.tracking import growth
from crecer.tracking.actions import done_contacts
from crecer.tracking.inputs import instrument_name
from crecer.tracking.models import Delivery, Encounter, GroupMember, Measurement, Screening

GROWTH_LABELS = {
    "stunting": _("stunting"),
    "stunting_severe": _("severe stunting"),
    "underweight": _("underweight"),
    "underweight_severe": _("severe underweight"),
    "wasting": _("wasting"),
    "wasting_severe": _("severe wasting"),
    "overweight": _("overweight"),
    "obesity": _("obesity"),
    "thinness": _("thinness"),
    "anaemia": _("anaemia"),
    "implausible": _("implausible value: measure again"),
}


@dataclass
class Item:
    date: dt.date
    kind: str  # pregnancy, contact, encounter, measurement, screening, delivery, group, birth
    title: str
    category: str
    detail: str = ""
    state: str = ""  # for scheduled contacts: upcoming, due, overdue, missed, done
    alert: bool = False
    data: dict[str, Any] = field(default_factory=dict)


#: what other apps add to a child's timeline (risk flags, referrals and counter-referrals), each a function
#: ``(user, child, language) -> items`` registered with :func:`add_source` when its app is ready: the
#: trajectory does not import the apps that read it. A source with a scoped query of its own (referrals)
#: applies it for ``user``; every item is then kept only in the categories the user may see of the child.
SOURCES: list[Callable[[Any, Child, str], list[Item]]] = []


def add_source(source: Callable[[Any, Child, str], list[Item]]) -> Callable[[Any, Child, str], list[Item]]:
    """Register ``source`` (a decorator); each source gives items in their own data categories."""
    if source not in SOURCES:
        SOURCES.append(source)
    return source


def _language() -> str:
    return get_language() or "es"


def growth_label(code: str) -> str:
    return str(GROWTH_LABELS.get(code, code))


def measurement_detail(m: Measurement) -> str:
    parts = []
    if m.weight_kg is not None:
        parts.append(_("%(v)s kg") % {"v": number_format(m.weight_kg)})
    if m.length_cm is not None:
        parts.append(_("%(v)s cm") % {"v": number_format(m.length_cm)})
    for name, label in (("z_wfa", "P/E"), ("z_lhfa", "T/E"), ("z_wflh", "P/T"), ("z_bmi", "IMC/E")):
        value = getattr(m, name)
        if value is not None:
            parts.append(f"{label} {'+' if value >= 0 else '−'}{number_format(abs(value), 2)}")
    alerts = growth.alerts(m)
    if alerts:
        parts.append(", ".join(growth_label(a) for a in alerts))
    return " · ".join(parts)


def build(user: Any, child: Child, today: dt.date | None = None) -> list[Item]:
    """Every event of the child's trajectory the user may see, oldest first."""
    from django.utils import timezone

    today = today or timezone.localdate()
    allowed = scope.categories(user, child)
    language = _language()
    profile = conf.profile()
    items: list[Item] = []

    pregnancy = Pregnancy.unscoped.filter(pk=child.pregnancy_id).first() if child.pregnancy_id else None
    if pregnancy is not None:
        items += _pregnancy_items(pregnancy, language)
    if child.birth_date is not None:
        items.append(Item(child.birth_date, "birth", _("Birth"), DataCategory.IDENTITY, _birth_detail(child, allowed)))
        done = done_contacts(child=child)
        for state in schedule_lib.states(profile.child_schedule, child.birth_date, today, done):
            if state.state == schedule_lib.State.DONE:
                continue  # the encounter that fulfilled it is listed itself
            if state.state == schedule_lib.State.UPCOMING and state.opens > today + dt.timedelta(days=180):
                continue  # only the near future
            when = state.opens if state.state == schedule_lib.State.UPCOMING else state.closes
            items.append(
                Item(
                    when,
                    "contact",
                    state.contact.name(language),
                    DataCategory.HEALTH,
                    _("due %(opens)s – %(closes)s")
                    % {
                        "opens": date_format(state.opens, "SHORT_DATE_FORMAT"),
                        "closes": date_format(state.closes, "SHORT_DATE_FORMAT"),
                    },
                    state=state.state.value,
                    alert=state.state in (schedule_lib.State.OVERDUE, schedule_lib.State.MISSED),
                )
            )
    contact_names = {c.code: c.name(language) for c in (*profile.child_schedule, *profile.prenatal_schedule)}
    for e in Encounter.unscoped.filter(child=child, voided_at__isnull=True).select_related("facility", "professional"):
        items.append(
            Item(
                e.date,
                "encounter",
                contact_names.get(e.contact_code) or e.get_kind_display(),
                category_of(e),
                " · ".join(
                    p
                    for p in (
                        e.facility.name if e.facility else "",
                        e.professional.username if e.professional else e.professional_name,
                    )
                    if p
                ),
                state="done",
                data={"id": e.pk, "kind": e.kind, "contact_code": e.contact_code},
            )
        )
    for m in Measurement.unscoped.filter(child=child, is_current=True).order_by("measured_on"):
        alerts = growth.alerts(m)
        items.append(
            Item(
                m.measured_on,
                "measurement",
                _("Measurement"),
                category_of(m),
                measurement_detail(m),
                alert=bool(alerts),
                data={
                    "id": m.pk,
                    "weight_kg": m.weight_kg,
                    "length_cm": m.length_cm,
                    "z_wfa": m.z_wfa,
                    "z_lhfa": m.z_lhfa,
                    "z_wflh": m.z_wflh,
                    "z_bmi": m.z_bmi,
                    "alerts": alerts,
                },
            )
        )
    screenings = Screening.unscoped.filter(is_current=True, child=child)
    for s in screenings:
        items.append(_screening_item(s))
    service_names = {sv.code: sv.name(language) for sv in profile.services}
    for d in Delivery.unscoped.filter(child=child, voided_at__isnull=True):
        items.append(
            Item(
                d.delivered_on,
                "delivery",
                service_names.get(d.service_code, d.service_code),
                category_of(d),
                d.detail,
                data={"id": d.pk, "service": d.service_code},
            )
        )
    for member in GroupMember.unscoped.filter(child=child).select_related("group"):
        group = member.group
        detail = _("%(n)s of %(total)s sessions") % {"n": member.sessions_attended, "total": group.planned_sessions}
        if member.completed_on:
            detail += " · " + _("completed on %(date)s") % {
                "date": date_format(member.completed_on, "SHORT_DATE_FORMAT")
            }
        items.append(
            Item(
                group.start_date,
                "group",
                service_names.get(group.service_code, group.name),
                category_of(member),
                f"{group.name} · {detail}",
            )
        )
    for source in SOURCES:
        items += source(user, child, language)
    visible = [i for i in items if i.category in allowed]
    return sorted(visible, key=lambda i: (i.date, _ORDER.get(i.kind, 9)))


def timezone_date(value: Any) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(value).date() if value else timezone.localdate()


_ORDER = {
    "pregnancy": 0,
    "birth": 1,
    "encounter": 2,
    "measurement": 3,
    "screening": 4,
    "delivery": 5,
    "group": 6,
    "contact": 7,
}


def _birth_detail(child: Child, allowed: frozenset[str]) -> str:
    if DataCategory.HEALTH not in allowed:
        return ""
    parts = []
    if child.birth_weight_g:
        parts.append(_("%(g)s g") % {"g": child.birth_weight_g})
    if child.gestational_weeks:
        parts.append(_("%(w)s weeks") % {"w": child.gestational_weeks})
    return " · ".join(parts)


def _pregnancy_items(pregnancy: Pregnancy, language: str) -> list[Item]:
    items = []
    if pregnancy.first_visit_date:
        detail = _("week %(w)s") % {"w": pregnancy.first_visit_week} if pregnancy.first_visit_week is not None else ""
        items.append(
            Item(pregnancy.first_visit_date, "pregnancy", _("First prenatal visit"), DataCategory.HEALTH, detail)
        )
    names = {c.code: c.name(language) for c in conf.profile().prenatal_schedule}
    for e in Encounter.unscoped.filter(pregnancy=pregnancy, voided_at__isnull=True).select_related("facility"):
        detail = _("week %(w)s") % {"w": e.gestational_weeks} if e.gestational_weeks is not None else ""
        items.append(
            Item(
                e.date,
                "encounter",
                names.get(e.contact_code) or e.get_kind_display(),
                DataCategory.HEALTH,
                detail,
                state="done",
            )
        )
    for s in Screening.unscoped.filter(pregnancy=pregnancy, is_current=True, child__isnull=True):
        items.append(_screening_item(s))
    return items


RESULT_LABELS = {
    "normal": _("normal"),
    "risk": _("risk"),
    "delay": _("delay"),
    "altered": _("altered"),
    "positive": _("positive"),
    "negative": _("negative"),
    "on_track": _("on track"),
    "not_on_track": _("not on track"),
}
ALERT_RESULTS = frozenset({"risk", "delay", "altered", "positive", "not_on_track"})


def result_label(code: str) -> str:
    return str(RESULT_LABELS.get(code, code))


def alert_label(code: str) -> str:
    """A worklist alert code (``stunting``, ``eedp:delay``…) in the active language."""
    if ":" in code:
        instrument, result = code.split(":", 1)
        return f"{instrument_name(instrument)}: {result_label(result)}"
    return growth_label(code)


def _screening_item(s: Screening) -> Item:
    score = f" ({s.score:g})" if s.score is not None else ""
    detail = result_label(s.classification) + score
    if s.urgent:
        detail += " · " + _("URGENT")
    return Item(
        s.applied_on,
        "screening",
        instrument_name(s.instrument),
        category_of(s),
        detail,
        alert=s.classification in ALERT_RESULTS or s.urgent,
        data={
            "id": s.pk,
            "instrument": s.instrument,
            "classification": s.classification,
            "score": s.score,
            "urgent": s.urgent,
        },
    )
