"""The auditor's page (``/audit/``): the audit trail of their territory, filtered by user, child, action
and dates, a page at a time, each change's before and after told in words (field labels, values as
labels)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer.access.models import User
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.dedup.merging import merged_into
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.registry.reads import log_reads

PAGE_SIZE = 25

#: Words for keys of before/after that are not a field of the record's model.
KEY_LABELS = {
    "version": gettext_lazy("version"),
    "reason": gettext_lazy("reason"),
    "overdue": gettext_lazy("overdue"),
    "user": gettext_lazy("user"),
    "recipients": gettext_lazy("recipients"),
    "kind": gettext_lazy("kind"),
    "referral": gettext_lazy("referral"),
    "text": gettext_lazy("text"),
    "assignee": gettext_lazy("assigned to"),
    "organisation": gettext_lazy("organisation"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _model(entity: str) -> Any:
    try:
        return apps.get_model(entity)
    except (LookupError, ValueError):
        return None


def _value(field: Any, value: Any) -> str:
    """A stored value as people read it: a choice's label, yes/no, a list joined, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_value(field, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_key_label(None, k)}: {_value(None, v)}" for k, v in value.items())
    choices = dict(getattr(field, "flatchoices", None) or [])
    if value in choices:
        return str(choices[value])
    return str(value)


def _key_label(model: Any, key: str) -> str:
    if model is not None:
        try:
            return str(model._meta.get_field(key).verbose_name).capitalize()
        except FieldDoesNotExist:
            pass
    if key in KEY_LABELS:
        return str(KEY_LABELS[key]).capitalize()
    return key.replace("_", " ").capitalize()


def changes(event: AuditEvent) -> list[Change]:
    """The event's before and after, field by field, in words (only what changed, or what was written)."""
    model = _model(event.entity)
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    found = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(key)
            except FieldDoesNotExist:
                field = None
        found.append(
            Change(
                _key_label(model, key),
                _value(field, old) if key in before else "—",
                _value(field, new) if key in after else "—",
            )
        )
    return found


def audited_events(auditor: Any) -> QuerySet[AuditEvent]:
    """The events an auditor reads here: about the children of their territory, and the other events
    (sign-ins, catalogue, places…) of the users of their territory."""
    path = auditor.territory.path if auditor.territory is not None else None
    national = auditor.territory is not None and auditor.territory.depth == 0
    users = User.objects.filter(territory__path__startswith=path) if path else User.objects.none()
    if national:
        users = User.objects.all()
    return AuditEvent.objects.filter(
        Q(child_id__in=scope.audited_children(auditor).values("pk"))
        | Q(child_id__isnull=True, actor_id__in=users.values("pk"))
    )


def _date(raw: str, field: str, errors: dict[str, list[dict[str, str]]]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = [{"code": "invalid_date", "message": _("Enter a date as dd/mm/yyyy.")}]
        return None


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    auditor: Any = request.user
    if not scope.can_read_audit(auditor):
        raise PermissionDenied(_("Only auditors can read the audit trail."))
    events = audited_events(auditor)
    errors: dict[str, list[dict[str, str]]] = {}
    filters = {k: request.GET.get(k, "").strip() for k in ("user", "child", "action", "since", "until")}
    read: list[int] = []
    if filters["user"]:
        try:
            events = events.filter(actor=scope.audited_user_or_404(auditor, filters["user"]))
        except Http404:  # unknown, or outside the territory: told alike
            errors["user"] = [{"code": "unknown", "message": _("No user of your territory has this name.")}]
    if filters["child"]:
        raw = filters["child"]
        child = (
            scope.audited_children(auditor)
            .filter(Q(registry_number__iexact=raw) | Q(pk=int(raw) if raw.isdigit() else 0))
            .first()
        )
        if child is None:
            errors["child"] = [
                {"code": "unknown", "message": _("No child of your territory has this registry number.")}
            ]
        else:
            merged = merged_into(child.pk)
            events = events.filter(child_id__in=[child.pk, *merged])
            read = [child.pk, *merged]
    if filters["action"]:
        if filters["action"] in Action.values:
            events = events.filter(action=filters["action"])
        else:
            errors["action"] = [{"code": "invalid_choice", "message": _("Choose an action from the list.")}]
    since = _date(filters["since"], "since", errors)
    until = _date(filters["until"], "until", errors)
    if since and until and until < since:
        errors["until"] = [{"code": "before_start", "message": _("The end date is before the start date.")}]
    tz = timezone.get_current_timezone()
    if since:
        events = events.filter(at__gte=dt.datetime.combine(since, dt.time(), tzinfo=tz))
    if until:
        events = events.filter(at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz))
    if errors:
        events = events.none()
    page = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    children = {
        c.pk: c.registry_number
        for c in Child.unscoped.filter(pk__in={e.child_id for e in items if e.child_id}).only("pk", "registry_number")
    }
    rows = [(e, changes(e), children.get(e.child_id or 0, "")) for e in items]
    # The events carry the children's data in before/after.
    log_reads(Actor(auditor, Channel.WEB), "audit trail", read or list(children))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "errors": errors,
            "actions": Action.choices,
            "querystring": query.urlencode(),
        },
        status=422 if errors else 200,
    )
