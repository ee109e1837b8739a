"""Writes to the catalogue, the provider directory and referrals (validated, audited, one transaction).

Referral transitions use compare-and-set on ``version``: a stale update is refused with the current
state (:class:`StaleVersion`), so no update is ever lost.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail, send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import DataCategory, Role, User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_many, snapshot
from crecer.referrals import machine
from crecer.referrals.models import (
    OPEN_STATES,
    NotCompletedReason,
    Notification,
    Priority,
    Provision,
    Referral,
    Service,
    State,
)
from crecer.referrals.scope import share_grace
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.models import AccessGrant, Child, Pregnancy
from crecer.risks.models import FlagStatus, Resolution, RiskFlag
from crecer.territories.models import Facility, Organisation, Territory
from crecer.validation import Collector, FieldError, InputErrors

logger = logging.getLogger(__name__)

#: Counter-referral outcomes (structured, so the network can count them).
OUTCOMES = ("attended", "partially_attended", "referred_elsewhere")


class TransitionRefused(Exception):
    """A transition that cannot happen now (HTTP 409): stale version or illegal move."""

    def __init__(self, code: str, message: str, referral: Referral, allowed: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.referral = referral
        self.allowed = allowed


# --- catalogue and directory --------------------------------------------------------------------------


def sync_services(actor: Actor) -> int:
    """Create the profile's services missing from the catalogue (edits made since are kept)."""
    existing = set(Service.objects.values_list("code", flat=True))
    created = 0
    with transaction.atomic():
        for s in conf.profile().services:
            if s.code in existing:
                continue
            service = Service.objects.create(
                code=s.code,
                name_es=s.name_es,
                name_en=s.name_en,
                sector=s.sector,
                axis=s.axis,
                universal=s.universal,
                eligibility_es=s.eligibility_es,
                eligibility_en=s.eligibility_en,
                acceptance_days=s.acceptance_days if s.acceptance_days is not None else 5,
                attention_days=s.attention_days if s.attention_days is not None else 30,
            )
            record(actor, Action.CREATE, service, after=snapshot(service))
            created += 1
    return created


EDITABLE_SERVICE_FIELDS = (
    "name_es",
    "name_en",
    "eligibility_es",
    "eligibility_en",
    "acceptance_days",
    "attention_days",
    "active",
)


def update_service(actor: Actor, service: Service, changes: dict[str, Any]) -> Service:
    """Coordinators and administrators adjust names, eligibility, deadlines and whether it is offered."""
    permissions.check(actor.user, permissions.EDIT_CATALOGUE, _("Your role cannot edit the service catalogue."))
    errors = Collector()
    for name in set(changes) - set(EDITABLE_SERVICE_FIELDS):
        errors.add(name, "not_editable", _("This field cannot be changed here."))
    for name in ("acceptance_days", "attention_days"):
        if name in changes and (not isinstance(changes[name], int) or not 0 <= changes[name] <= 365):
            errors.add(
                name,
                "out_of_range",
                _("%(value)s is outside the accepted range %(low)s–%(high)s.")
                % {"value": changes[name], "low": 0, "high": 365},
            )
    errors.raise_if_any()
    with transaction.atomic():
        before = snapshot(service, tuple(changes))
        for name, value in changes.items():
            setattr(service, name, value)
        service.save()
        record(actor, Action.UPDATE, service, before=before, after=snapshot(service, tuple(changes)))
    return service


def save_provision(
    actor: Actor,
    organisation: Organisation,
    service: Service,
    territories: list[Territory],
    monthly_capacity: int | None,
) -> Provision:
    """Declare (or change) that ``organisation`` offers ``service`` in ``territories``."""
    permissions.check(
        actor.user, permissions.MANAGE_PLACES, _("Your role cannot change territories, facilities or organisations.")
    )
    with transaction.atomic():
        provision, created = Provision.objects.get_or_create(organisation=organisation, service=service)
        provision.monthly_capacity = monthly_capacity
        provision.save()
        provision.territories.set(territories)
        record(
            actor,
            Action.CREATE if created else Action.UPDATE,
            provision,
            after={
                "organisation": organisation.code,
                "service": service.code,
                "territories": [t.code for t in territories],
                "monthly_capacity": monthly_capacity,
            },
        )
    return provision


def providers(service: Service, territory: Territory) -> list[tuple[Organisation, int | None]]:
    """Organisations offering ``service`` where ``territory`` is, with their free capacity this month
    (None = no limit), best first: those with room, the most local, the most places free."""
    ancestors = [c for c in territory.path.strip("/").split("/") if c]
    provisions = (
        Provision.objects.filter(service=service, territories__code__in=ancestors)
        .select_related("organisation__territory")
        .prefetch_related("territories")
        .distinct()
    )
    month_start = timezone.localdate().replace(day=1)
    load = {}
    for org_id in [p.organisation_id for p in provisions]:
        load[org_id] = (
            Referral.unscoped.filter(organisation_id=org_id, service=service, sent_at__date__gte=month_start)
            .exclude(state__in=(State.DRAFT, State.REJECTED, State.CANCELLED, State.EXPIRED))
            .count()
        )
    ranked = []
    for p in provisions:
        free = None if p.monthly_capacity is None else p.monthly_capacity - load[p.organisation_id]
        depth = max(len(t.path.strip("/").split("/")) for t in p.territories.all() if t.code in ancestors)
        ranked.append((p.organisation, free, depth))
    ranked.sort(
        # Not full first; among those, the most local, then the most free places.
        key=lambda x: (x[1] is not None and x[1] <= 0, -x[2], -(x[1] if x[1] is not None else 10**9), x[0].code)
    )
    return [(org, free) for org, free, _depth in ranked]


def suggest_organisation(service: Service, territory: Territory) -> Organisation | None:
    """The provider to propose: serves the territory and has free capacity this month (or none full)."""
    found = providers(service, territory)
    return found[0][0] if found else None


# --- notifications -----------------------------------------------------------------------------------


#: the audit entity of a batch of notifications (one event per batch: see :func:`_audit_notified`)
NOTIFICATION = "referrals.notification"


def _audit_notified(actor: Actor | None, batches: list[tuple[int | None, dict[str, Any]]]) -> int:
    """One *create* event per batch of notifications — ``(child id, {what was notified, "recipients":
    usernames})`` — in the caller's transaction: who was told of what, cheaply (one statement)."""
    batches = [b for b in batches if b[1].get("recipients")]
    if not batches:
        return 0
    return record_many(
        actor or Actor.system(),
        Action.CREATE,
        NOTIFICATION,
        ((None, child_id, None, after) for child_id, after in batches),
        note="notified",
    )


def notify(users: list[User], referral: Referral, kind: str, actor: Actor | None = None) -> None:
    """In-app notifications now (audited: one event naming the referral and the recipients); e-mails once
    the transaction commits."""
    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create([Notification(user=u, referral=referral, kind=kind) for u in users])
    _audit_notified(
        actor, [(referral.child_id, {"referral": referral.pk, "kind": kind, "recipients": [u.username for u in users]})]
    )
    addresses = [u.email for u in users if u.email]
    if addresses:
        subject = _("Crecer: referral #%(id)s — %(what)s") % {"id": referral.pk, "what": notification_text(kind)}
        transaction.on_commit(lambda: send_mail(subject, subject, None, addresses, fail_silently=True))


def notify_plain(users: list[User], kind: str, about: dict[str, Any], subject: str, actor: Actor | None = None) -> int:
    """A notification tied to no referral or flag (e.g. a childcare permit about to expire: ``about`` names
    the record, for the audit event): in-app now, audited as one event, e-mailed once the transaction
    commits. ``kind`` must have a text in :func:`notification_text`; the e-mail names no person."""
    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create([Notification(user=u, kind=kind) for u in users])
    _audit_notified(actor, [(None, {**about, "kind": kind, "recipients": [u.username for u in users]})])
    addresses = [u.email for u in users if u.email]
    if addresses:
        transaction.on_commit(lambda: send_mail(subject, subject, None, addresses, fail_silently=True))
    return len(users)


def mark_notifications_read(actor: Actor, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own unread notifications as read: all of them, or those of ``ids`` (ids of other
    users' notifications are ignored, never revealed). Answers how many were marked."""
    mine = Notification.objects.filter(user=actor.user, read_at__isnull=True)
    if ids is not None:
        mine = mine.filter(pk__in=list(ids))
    return mine.update(read_at=timezone.now())


def notification_text(kind: str) -> str:
    texts = {
        "urgent_result": _("an urgent result: open the record and record the action taken"),
        "received": _("a new referral for your organisation"),
        "accepted": _("your referral was accepted"),
        "rejected": _("your referral was rejected"),
        "completed": _("your referral was completed, with its counter-referral"),
        "not_completed": _("your referral could not be completed"),
        "expired": _("your referral expired without an answer"),
        "overdue": _("a referral of your network is overdue"),
        "reminder": _("a referral awaits your answer"),
        "reassigned": _("a referral was reassigned to you"),
        "comment": _("a new comment on a referral"),
        "permit_expiring": _("a childcare centre's permit expires soon: renew it in time"),
        "permit_expired": _("a childcare centre's permit has expired"),
    }
    return str(texts.get(kind, kind))


# --- urgent results -----------------------------------------------------------------------------------


def urgent_recipients(facility_id: int | None, territory: Territory, data_category: str) -> list[User]:
    """Who hears of an urgent flag at once: the health workers of the subject's health centre and the
    municipal coordinators of its territory, each only if the subject is in their scope and they may see
    the flag's data category (need to know: a mental-health result reaches only those granted mental
    health; the others get nothing)."""
    codes = [c for c in territory.path.strip("/").split("/") if c]
    wanted = Q(role=Role.MUNICIPAL_COORDINATOR, territory__code__in=codes)
    facility_path = None
    if facility_id is not None:
        wanted |= Q(role=Role.HEALTH_WORKER, facility_id=facility_id)
        facility_path = Facility.objects.filter(pk=facility_id).values_list("territory__path", flat=True).first()
    found = []
    for user in User.objects.filter(wanted, is_active=True).select_related("territory").order_by("pk"):
        if data_category not in permissions.readable_categories(user):
            continue
        # A coordinator's territory holds the subject's; a health worker sees the subjects of the health
        # centres of their territory (scope.children / scope.pregnancies): theirs must lie in it.
        if user.role == Role.HEALTH_WORKER and not permissions.within(user, facility_path):
            continue
        found.append(user)
    return found


_warned_no_origin = False
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def site_origin() -> str:
    """The site's address for links in e-mails (``https://host``, no trailing slash): ``CRECER_SITE_URL``
    when set; otherwise the first usable of ``CSRF_TRUSTED_ORIGINS`` and ``ALLOWED_HOSTS`` (a wildcard or
    a loopback host is not usable: an e-mail's reader is elsewhere); empty when none is, with a warning
    logged once."""
    global _warned_no_origin
    configured = (getattr(settings, "CRECER_SITE_URL", "") or "").strip().rstrip("/")
    if configured:
        return configured
    scheme = "https" if getattr(settings, "TLS", True) else "http"
    candidates = [o.strip().rstrip("/") for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]
    candidates += [f"{scheme}://{h.strip()}" for h in getattr(settings, "ALLOWED_HOSTS", []) if h.strip()]
    for origin in candidates:
        host = urlsplit(origin).hostname or ""
        if "://" in origin and host and "*" not in origin and not host.startswith(".") and host not in _LOOPBACK:
            return origin
    if not _warned_no_origin:
        _warned_no_origin = True
        logger.warning(
            "CRECER_SITE_URL is not set and no usable host is in CSRF_TRUSTED_ORIGINS or ALLOWED_HOSTS: "
            "e-mails cannot link to the records."
        )
    return ""


def urgent_link(flag: RiskFlag) -> str:
    """The absolute address of the flag's subject's page, for e-mails ("" when the site's address is
    unknown: see :func:`site_origin`)."""
    from django.urls import reverse

    origin = site_origin()
    if not origin:
        return ""
    path = (
        reverse("child-detail", args=[flag.child_id])
        if flag.child_id
        else reverse("pregnancy-detail", args=[flag.pregnancy_id])
    )
    return origin + path


def urgent_mail_body(flag: RiskFlag) -> str:
    """The e-mail of an urgent flag: neither the person's name nor the result (e-mail leaves the system),
    only the link to the record or, when the site's address is unknown, the registry number to search."""
    link = urgent_link(flag)
    if link:
        return str(
            _(
                "An urgent result was recorded for a person followed by your team. Open the record, act and "
                "record the action taken: %(link)s"
            )
            % {"link": link}
        )
    person = flag.child if flag.child is not None else flag.pregnancy.mother  # type: ignore[union-attr]
    return str(
        _(
            "An urgent result was recorded for a person followed by your team. Open Crecer and search the "
            "registry number %(number)s, act and record the action taken."
        )
        % {"number": person.registry_number}
    )


def notify_urgent(flag_ids: list[int], actor: Actor | None = None) -> int:
    """Notify the urgent flags' recipients in-app now (in the caller's transaction; one audit event per
    flag naming it and its recipients) and by e-mail once it commits, one message per address. The e-mail
    names neither the person nor the result (it leaves the system): it says an urgent result awaits and
    links to the record."""
    rows: list[Notification] = []
    batches: list[tuple[int | None, dict[str, Any]]] = []
    messages = []
    subject = _("Crecer: an urgent result needs action")
    flags = list(
        RiskFlag.unscoped.filter(pk__in=flag_ids, urgent=True)
        .select_related("child__territory", "pregnancy__mother__territory")
        .order_by("pk")
    )
    # An import may open many urgent flags: the recipients of a health centre and territory are found once.
    recipients: dict[tuple[int | None, int, str], list[User]] = {}
    for flag in flags:
        if flag.child is not None:
            facility_id, territory = flag.child.facility_id, flag.child.territory
        else:
            assert flag.pregnancy is not None
            facility_id, territory = flag.pregnancy.facility_id, flag.pregnancy.mother.territory
        key = (facility_id, territory.pk, flag.data_category)
        if key not in recipients:
            recipients[key] = urgent_recipients(facility_id, territory, flag.data_category)
        users = recipients[key]
        rows += [Notification(user=u, flag=flag, kind="urgent_result") for u in users]
        batches.append(
            (
                flag.child_id,
                {
                    "flag": flag.pk,
                    "rule": flag.rule_id,
                    "pregnancy": flag.pregnancy_id,
                    "kind": "urgent_result",
                    "recipients": [u.username for u in users],
                },
            )
        )
        body = urgent_mail_body(flag)
        messages += [(str(subject), body, None, [u.email]) for u in users if u.email]
    Notification.objects.bulk_create(rows, batch_size=1000)
    _audit_notified(actor, batches)
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return len(rows)


def _receivers(referral: Referral) -> list[User]:
    if referral.assignee_id:
        return [referral.assignee]  # type: ignore[list-item]
    return list(User.objects.filter(role=Role.PROVIDER_STAFF, organisation_id=referral.organisation_id, is_active=True))


def coordinators(referral: Referral) -> list[User]:
    """Municipal coordinators whose territory contains the referral's."""
    codes = [c for c in referral.territory.path.strip("/").split("/") if c]
    return list(User.objects.filter(role=Role.MUNICIPAL_COORDINATOR, is_active=True, territory__code__in=codes))


# --- referrals ----------------------------------------------------------------------------------------


def _subject_territory(child: Child | None, pregnancy: Pregnancy | None) -> Territory:
    if child is not None:
        return child.territory
    assert pregnancy is not None
    return pregnancy.mother.territory


def create_referral(
    actor: Actor,
    *,
    child: Child | None = None,
    pregnancy: Pregnancy | None = None,
    service_code: str,
    reason: str,
    consent: list[str],
    organisation_code: str = "",
    priority: str = "",
    flag: RiskFlag | None = None,
    send: bool = True,
    at: dt.datetime | None = None,
) -> Referral:
    """Refer a child (or a pregnancy) to a service; the provider is suggested when not given.

    ``at`` records a referral made earlier (history brought from another system); default: now."""
    if (child is None) == (pregnancy is None):
        raise ValueError("a referral is about a child or a pregnancy")
    user = actor.user
    if user is None or not permissions.has(user, permissions.SEND_REFERRALS):
        raise PermissionDenied(_("Only health workers and municipal coordinators send referrals."))
    territory = _subject_territory(child, pregnancy)
    if not scope.can_register_in(user, territory):
        raise PermissionDenied(_("This child is outside the territory you work in."))
    errors = Collector()
    service = Service.objects.filter(code=service_code, active=True).first()
    if service is None:
        errors.add(
            "service", "unknown", _("“%(code)s” is not an active service of the catalogue.") % {"code": service_code}
        )
    if not reason.strip():
        errors.add("reason", "required", _("Say why the family is referred."))
    allowed = user.data_categories()
    for category in consent:
        if category not in DataCategory.values:
            errors.add("consent", "invalid_choice", _("Unknown data category: %(c)s") % {"c": category})
        elif category not in allowed:
            errors.add("consent", "not_yours", _("You cannot share data you may not see: %(c)s") % {"c": category})
    if priority and priority not in Priority.values:
        errors.add(
            "priority", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(Priority.values)}
        )
    organisation = None
    if service is not None:
        if organisation_code:
            organisation = Organisation.objects.filter(code=organisation_code).first()
            if organisation is None:
                errors.add(
                    "organisation",
                    "unknown",
                    _("No organisation has the code “%(code)s”.") % {"code": organisation_code},
                )
            elif not Provision.objects.filter(organisation=organisation, service=service).exists():
                errors.add("organisation", "not_offered", _("This organisation does not offer the service."))
        else:
            organisation = suggest_organisation(service, territory)
            if organisation is None:
                errors.add("organisation", "none", _("No organisation offers this service in the child's territory."))
    errors.raise_if_any()
    assert service is not None and organisation is not None
    if not priority:
        priority = (flag.recommendation or {}).get("priority", Priority.ROUTINE) if flag else Priority.ROUTINE
    now = at or timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.unscoped.create(
                child=child,
                pregnancy=pregnancy,
                service=service,
                organisation=organisation,
                flag=flag,
                sender=user,
                sender_facility=user.facility,
                territory=territory,
                reason=reason.strip(),
                priority=priority,
                consent=sorted(set(consent) - {DataCategory.IDENTITY}),
                state=State.DRAFT,
            )
            record(actor, Action.CREATE, referral, child_id=child.pk if child else None, after=_summary(referral))
            if send:
                referral = transition(actor, referral, State.SENT, referral.version, at=now)
    except IntegrityError as exc:
        raise InputErrors(
            {"service": [FieldError("open_referral", _("This child already has an open referral to this service."))]}
        ) from exc
    return referral


def _summary(referral: Referral) -> dict[str, Any]:
    return {
        "service": referral.service.code,
        "organisation": referral.organisation.code,
        "state": referral.state,
        "priority": referral.priority,
        "consent": referral.consent,
    }


def _validate_counter_referral(data: Any, errors: Collector) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        errors.add("counter_referral", "required", _("A completed referral needs its counter-referral."))
        return None
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        errors.add(
            "counter_referral.outcome",
            "invalid_choice",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(OUTCOMES)},
        )
    given = data.get("services_given")
    if not isinstance(given, list) or not given or not all(isinstance(g, str) and g.strip() for g in given):
        errors.add("counter_referral.services_given", "required", _("List the services given."))
    follow_up = data.get("follow_up", "")
    if not isinstance(follow_up, str):
        errors.add("counter_referral.follow_up", "invalid_type", _("The follow-up advice is text."))
    date = data.get("date") or timezone.localdate().isoformat()
    try:
        when = dt.date.fromisoformat(str(date))
        if when > timezone.localdate():
            errors.add("counter_referral.date", "future", _("The date cannot be in the future."))
    except ValueError:
        errors.add(
            "counter_referral.date",
            "invalid_date",
            _("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": date},
        )
    if errors.errors:
        return None
    return {
        "outcome": outcome,
        "services_given": [g.strip() for g in given or []],
        "follow_up": follow_up.strip(),
        "date": str(date),
    }


def transition(
    actor: Actor,
    referral: Referral,
    to: str,
    version: int,
    *,
    note: str = "",
    reason: str = "",
    counter_referral: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Referral:
    """Move a referral to ``to`` (``at``: when it happened, default now). Refused (409) when the version is stale or the move is not legal for
    this user now; bad input (422) when a required reason or counter-referral is missing."""
    current = Referral.unscoped.select_related("territory", "service", "organisation").get(pk=referral.pk)
    allowed = machine.allowed_next(actor.user, current)
    if current.version != version:
        raise TransitionRefused(
            "stale", _("The referral changed since you loaded it; reload and try again."), current, allowed
        )
    if to not in allowed:
        message = (
            _("This move is not allowed from %(state)s.") % {"state": current.get_state_display()}
            if not machine.is_legal(current.state, to)
            else _("You are not the party who can make this move.")
        )
        raise TransitionRefused("illegal", message, current, allowed)
    errors = Collector()
    now = at or timezone.now()
    changes: dict[str, Any] = {"state": to, "version": F("version") + 1}
    if to == State.SENT:
        changes.update(sent_at=now, acceptance_due=now + dt.timedelta(days=current.service.acceptance_days))
    elif to == State.ACCEPTED:
        changes.update(accepted_at=now, attention_due=now + dt.timedelta(days=current.service.attention_days))
    elif to == State.IN_PROGRESS:
        changes.update(started_at=now)
    elif to == State.REJECTED:
        if not reason.strip():
            errors.add("reason", "required", _("Say why the referral is rejected."))
        changes.update(rejection_reason=reason.strip()[:300], finished_at=now)
    elif to == State.NOT_COMPLETED:
        if reason not in NotCompletedReason.values:
            errors.add(
                "reason",
                "invalid_choice",
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(NotCompletedReason.values)},
            )
        changes.update(not_completed_reason=reason, finished_at=now)
    elif to == State.COMPLETED:
        changes.update(counter_referral=_validate_counter_referral(counter_referral, errors), finished_at=now)
    elif to in (State.CLOSED, State.CANCELLED, State.EXPIRED):
        changes.update(closed_at=now)
    errors.raise_if_any()
    with transaction.atomic():
        # Compare-and-set: only the holder of the current version changes it.
        if not Referral.unscoped.filter(pk=current.pk, version=version, state=current.state).update(**changes):
            fresh = Referral.unscoped.get(pk=current.pk)
            raise TransitionRefused(
                "stale",
                _("The referral changed since you loaded it; reload and try again."),
                fresh,
                machine.allowed_next(actor.user, fresh),
            )
        if to == State.SENT:
            _send_grant(actor, current)
        if to not in OPEN_STATES and current.state in OPEN_STATES:
            _end_sharing(actor, current, now)
        if to == State.COMPLETED:
            _resolve_attended_flags(actor, current, now)
        record(
            actor,
            Action.UPDATE,
            current,
            child_id=current.child_id,
            before={"state": current.state, "version": version},
            after={"state": to, "version": version + 1, **({"reason": reason} if reason else {})},
            note=note[:1000],
        )
        fresh = Referral.unscoped.select_related("territory", "service", "organisation", "sender", "assignee").get(
            pk=current.pk
        )
        if to in (State.ACCEPTED, State.REJECTED, State.COMPLETED, State.NOT_COMPLETED):
            notify([fresh.sender], fresh, to, actor)
        elif to == State.SENT:
            notify(_receivers(fresh), fresh, "received", actor)
        elif to == State.EXPIRED:
            notify([fresh.sender, *coordinators(fresh)], fresh, "expired", actor)
    return fresh


def _resolve_attended_flags(actor: Actor, referral: Referral, now: dt.datetime) -> None:
    """The risks this referral attended: the subject's open flags whose rule recommends the referral's
    service (whether or not the referral was made from the flag). A flag recommending another service stays
    open: completing a child-protection referral does not attend a development delay. Compare-and-set, so
    each flag is resolved once."""
    subject = Q(child_id=referral.child_id) if referral.child_id else Q(pregnancy_id=referral.pregnancy_id)
    flags = RiskFlag.unscoped.filter(subject, status=FlagStatus.OPEN, recommendation__service=referral.service.code)
    for flag_id in list(flags.values_list("pk", flat=True)):
        if RiskFlag.unscoped.filter(pk=flag_id, status=FlagStatus.OPEN).update(
            status=FlagStatus.RESOLVED, resolved_at=now, resolution=Resolution.REFERRAL_CLOSED
        ):
            record(
                actor,
                Action.UPDATE,
                entity="risks.riskflag",
                entity_id=flag_id,
                child_id=referral.child_id,
                before={"status": "open"},
                after={"status": "resolved", "resolution": "referral_closed"},
                note=f"referral {referral.pk}",
            )


def _send_grant(actor: Actor, referral: Referral) -> None:
    """Open the child's record to the receiver: identity and the consented categories only."""
    if referral.child_id and referral.grant_id is None:
        grant = registry_actions.grant_access(
            actor,
            Child.unscoped.get(pk=referral.child_id),
            referral.organisation,
            list(referral.consent),
            _("Referral #%(id)s") % {"id": referral.pk},
        )
        Referral.unscoped.filter(pk=referral.pk).update(grant=grant)
        referral.grant = grant


def _end_sharing(actor: Actor, referral: Referral, now: dt.datetime) -> None:
    """The receiver keeps access for the grace period after the referral stops being open."""
    if referral.grant_id:
        registry_actions.end_access(
            actor, AccessGrant.objects.get(pk=referral.grant_id), now + share_grace(), note=f"referral {referral.pk}"
        )


def staff_of(organisation_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active staff of each receiving organisation, by name: whom a referral can be assigned to."""
    found: dict[int, list[User]] = {pk: [] for pk in organisation_ids}
    people = User.objects.filter(role=Role.PROVIDER_STAFF, is_active=True, organisation_id__in=list(found))
    for user in people.order_by("last_name", "first_name", "username"):
        found[user.organisation_id].append(user)  # type: ignore[index]
    return found


def person_name(user: User) -> str:
    """How a member of staff is named to people: their full name, else their user name."""
    return user.get_full_name() or user.username


def reassign(
    actor: Actor,
    referral: Referral,
    version: int,
    *,
    organisation_code: str = "",
    assignee: User | None = None,
    assignee_username: str = "",
) -> Referral:
    """Coordinators move an open referral to another provider and/or to a member of its staff (``assignee``,
    or ``assignee_username`` as chosen in a form or the API: an unknown person is refused beside the field,
    like one who does not work at the receiving organisation)."""
    current = Referral.unscoped.select_related("territory", "service", "organisation").get(pk=referral.pk)
    if actor.user is not None and not (
        permissions.has(actor.user, permissions.REASSIGN_REFERRALS)
        and machine.COORDINATOR in machine.parties(actor.user, current)
    ):
        raise PermissionDenied(_("Only the municipal coordinator reassigns referrals."))
    if current.version != version:
        raise TransitionRefused(
            "stale", _("The referral changed since you loaded it; reload and try again."), current, []
        )
    errors = Collector()
    if current.state not in OPEN_STATES:
        errors.add("state", "closed", _("Only open referrals can be reassigned."))
    organisation = current.organisation
    if organisation_code:
        organisation = Organisation.objects.filter(code=organisation_code).first()  # type: ignore[assignment]
        if organisation is None:
            errors.add(
                "organisation", "unknown", _("No organisation has the code “%(code)s”.") % {"code": organisation_code}
            )
        elif not Provision.objects.filter(organisation=organisation, service=current.service).exists():
            errors.add("organisation", "not_offered", _("This organisation does not offer the service."))
    if assignee is None and assignee_username.strip():
        assignee = User.objects.filter(username=assignee_username.strip()).first()
        if assignee is None:
            errors.add(
                "assignee",
                "unknown",
                _("No one called “%(name)s” works in the network: choose a person from the list.")
                % {"name": assignee_username.strip()[:150]},
            )
    if assignee is not None and (
        assignee.role != Role.PROVIDER_STAFF
        or not assignee.is_active
        or organisation is None
        or assignee.organisation_id != organisation.pk
    ):
        errors.add("assignee", "not_staff", _("The person must work at the receiving organisation."))
    errors.raise_if_any()
    old_organisation = current.organisation
    with transaction.atomic():
        if not Referral.unscoped.filter(pk=current.pk, version=version).update(
            organisation=organisation, assignee=assignee, version=F("version") + 1
        ):
            raise TransitionRefused(
                "stale",
                _("The referral changed since you loaded it; reload and try again."),
                Referral.unscoped.get(pk=current.pk),
                [],
            )
        if organisation.pk != current.organisation_id and current.grant_id:
            # The old receiver loses access now; the new one gets the same consented categories.
            registry_actions.revoke_access(
                actor, AccessGrant.objects.get(pk=current.grant_id), note=f"referral {current.pk} reassigned"
            )
            Referral.unscoped.filter(pk=current.pk).update(grant=None)
            if current.state != State.DRAFT:
                _send_grant(actor, Referral.unscoped.get(pk=current.pk))
        record(
            actor,
            Action.UPDATE,
            current,
            child_id=current.child_id,
            before={"organisation": old_organisation.code, "assignee": current.assignee_id},
            after={"organisation": organisation.code, "assignee": assignee.pk if assignee else None},
        )
        fresh = Referral.unscoped.get(pk=current.pk)
        notify([assignee] if assignee else _receivers(fresh), fresh, "reassigned", actor)
    return fresh


def bulk_reassign(actor: Actor, from_user: User, to_user: User) -> int:
    """When a staff member leaves: their open referrals (as sender or as assignee) go to a colleague."""
    permissions.check(
        actor.user, permissions.REASSIGN_REFERRALS, _("Only the municipal coordinator reassigns referrals.")
    )
    if to_user.role != from_user.role or not to_user.is_active:
        raise InputErrors(
            {"to_user": [FieldError("incompatible", _("The new person must be active and have the same role."))]}
        )
    open_refs = Referral.unscoped.filter(state__in=OPEN_STATES).filter(Q(sender=from_user) | Q(assignee=from_user))
    if actor.user is not None:
        assert actor.user.territory is not None
        open_refs = open_refs.filter(territory__path__startswith=actor.user.territory.path)
    moved = 0
    with transaction.atomic():
        for ref in open_refs.select_for_update():
            changes: dict[str, Any] = {"version": F("version") + 1}
            if ref.sender_id == from_user.pk:
                changes["sender"] = to_user
            if ref.assignee_id == from_user.pk:
                changes["assignee"] = to_user
            Referral.unscoped.filter(pk=ref.pk).update(**changes)
            record(
                actor,
                Action.UPDATE,
                ref,
                child_id=ref.child_id,
                before={"user": from_user.username},
                after={"user": to_user.username},
                note="bulk reassignment",
            )
            moved += 1
    return moved


# --- the comment thread -------------------------------------------------------------------------------

#: The longest comment accepted (characters).
COMMENT_MAX = 2000


def may_discuss(user: Any, referral: Referral) -> bool:
    """Whether ``user`` takes part in the referral's thread: a party to it (sender, receiver, the
    municipality's coordinator: :func:`crecer.referrals.machine.parties`). Callers first find the referral
    through :func:`crecer.referrals.scope.visible`, so its need-to-know rules (sensitive categories,
    the receiver's access ending) hold too."""
    return bool(machine.parties(user, referral) - {machine.SYSTEM})


def comments(user: Any, referral: Referral) -> list[Any]:
    """The thread, oldest first, for a party (anyone else: :class:`django.http.Http404`, never revealing it)."""
    from django.http import Http404

    from crecer.referrals.models import Comment

    if not may_discuss(user, referral):
        raise Http404
    return list(Comment.objects.filter(referral=referral).select_related("author"))


def add_comment(actor: Actor, referral: Referral, text: str) -> Any:
    """A party adds a comment to the thread (audited; the other parties are notified). A non-party gets
    :class:`django.http.Http404`; an empty or too long text is refused beside the field."""
    from django.http import Http404

    from crecer.referrals.models import Comment

    user = actor.user
    if not may_discuss(user, referral):
        raise Http404
    errors = Collector()
    text = (text or "").strip()
    if not text:
        errors.add("text", "required", _("Write the comment."))
    elif len(text) > COMMENT_MAX:
        errors.add(
            "text",
            "too_long",
            _("The comment is %(n)s characters long; the most is %(max)s.") % {"n": len(text), "max": COMMENT_MAX},
        )
    errors.raise_if_any()
    with transaction.atomic():
        comment = Comment.objects.create(referral=referral, author=user, text=text)  # type: ignore[misc]
        record(
            actor,
            Action.CREATE,
            comment,
            child_id=referral.child_id,
            after={"referral": referral.pk, "text": text},
        )
        others = [u for u in _thread_people(referral) if u.pk != user.pk]  # type: ignore[union-attr]
        notify(others, referral, "comment", actor)
    return comment


def _thread_people(referral: Referral) -> list[User]:
    """Whom a new comment concerns: the sender, the assignee (else the receiving organisation's staff)."""
    found = {referral.sender_id: referral.sender}
    for user in _receivers(referral):
        found[user.pk] = user
    return list(found.values())
