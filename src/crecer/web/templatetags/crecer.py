"""Template filters shared by the pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()

STATES = {
    "upcoming": lambda: _("upcoming"),
    "due": lambda: _("due"),
    "overdue": lambda: _("overdue"),
    "missed": lambda: _("missed"),
    "done": lambda: _("done"),
    "risk": lambda: _("risk"),
}


@register.filter
def state_label(state: str) -> str:
    """A schedule state in the active language."""
    label = STATES.get(str(state))
    return label() if label else str(state)


@register.filter
def contact_name(contact: object) -> str:
    """A scheduled contact's (or service's) name in the active language."""
    name = getattr(contact, "name", None)
    return name(get_language() or "es") if callable(name) else str(contact)


@register.filter
def alert_label(code: str) -> str:
    """A worklist alert (growth problem or screening result) in the active language."""
    from crecer.tracking.timeline import alert_label as label

    return label(str(code))


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """``mapping[key]`` in a template (empty when missing)."""
    return mapping.get(key, "")


@register.filter
def document_label(code: str) -> str:
    """An identity document type as people name it ("RUN", "Pasaporte"), never its internal code."""
    from crecer.lib import documents

    try:
        return documents.get(str(code)).label
    except documents.InvalidDocument:
        return str(code)


@register.filter
def category_label(code: str) -> str:
    """A data category ("mental_health") as people name it ("Salud mental")."""
    from crecer.access.models import DataCategory

    try:
        return str(DataCategory(str(code)).label)
    except ValueError:
        return str(code)


@register.filter
def entity_label(label: str) -> str:
    """A record kind of the audit trail ("referrals.referral") by its name ("Derivación")."""
    from django.apps import apps

    try:
        return str(apps.get_model(str(label))._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return str(label)


@register.filter
def sector_label(code: str) -> str:
    """A sector of services and organisations ("child_protection") by its name ("Protección de la infancia")."""
    from crecer.territories.models import Sector

    try:
        return str(Sector(str(code)).label)
    except ValueError:
        return str(code)


@register.filter
def actor_label(event: object) -> str:
    """Who did what an audit event records: the user name, or "the system" for the sweeps, commands and
    rules that act without a user (never the internal word ``system``)."""
    if getattr(event, "actor_id", None) is None and getattr(event, "actor_username", "") in ("", "system"):
        return _("System")
    return str(getattr(event, "actor_username", ""))


@register.filter
def outcome_label(code: str) -> str:
    """A counter-referral's outcome ("attended") in the active language ("atendido")."""
    from crecer.referrals.actions import outcome_label as label

    return label(str(code))
