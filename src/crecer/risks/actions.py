"""Writes on risk flags by people (the engine opens and resolves flags itself): recording the action
taken on an urgent result. Validated, allowed, written and audited in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.risks.inputs import clean_action_taken
from crecer.risks.models import RiskFlag
from crecer.validation import Collector, InputErrors


def record_action(actor: Actor, flag: RiskFlag, text: str) -> RiskFlag:
    """Record what was done about an urgent result (text, who, when); it then leaves the top of the
    worklists and its banner goes. The flag's status still follows its rule.

    The user registers in the subject's territory and may record the flag's data category; the caller
    found the flag through :func:`crecer.risks.urgent.get_flag_or_404` (scope)."""
    territory = flag.child.territory if flag.child is not None else flag.pregnancy.mother.territory  # type: ignore[union-attr]
    permissions.check_register(actor.user, territory.path)
    permissions.check_record(actor.user, flag.data_category)
    errors = Collector()
    if not flag.urgent:
        errors.add("flag", "not_urgent", _("Only urgent results wait for an action to be recorded."))
    cleaned = ""
    try:
        cleaned = clean_action_taken(text)
    except InputErrors as exc:  # merged below so every problem is said at once
        for name, found in exc.errors.items():
            for error in found:
                errors.add(name, error.code, error.message)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set: the first action recorded wins; a second one is refused, never overwrites it.
        updated = RiskFlag.unscoped.filter(pk=flag.pk, acted_at__isnull=True).update(
            action_taken=cleaned, acted_at=now, acted_by=actor.user
        )
        if not updated:
            errors.add("action_taken", "already_recorded", _("Someone already recorded the action taken."))
            errors.raise_if_any()
        flag.refresh_from_db()
        record(
            actor,
            Action.UPDATE,
            flag,
            child_id=flag.child_id,
            before={"acted_at": None},
            after={"action_taken": cleaned, "acted_by": actor.username, "acted_at": now},
            note="urgent action",
        )
    return flag
