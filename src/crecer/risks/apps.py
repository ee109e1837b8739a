from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RisksConfig(AppConfig):
    name = "crecer.risks"
    verbose_name = _("Risk protocols")

    def ready(self) -> None:
        from crecer.core.signals import subjects_changed
        from crecer.risks import timeline  # noqa: F401  (adds risk flags to the child's timeline)

        subjects_changed.connect(_evaluate, dispatch_uid="crecer.risks.evaluate")

        from crecer.risks import urgent
        from crecer.tracking import worklists

        # Worklist rows show their flags; urgent results awaiting action are pinned on top of every list.
        worklists.add_flag_source(urgent.flags_for)
        worklists.add_pinned_source(urgent.pinned)


def _evaluate(sender: Any, *, actor: Any, child_ids: list[int], pregnancy_ids: list[int], **kwargs: Any) -> int:
    """The facts of these subjects changed: open and resolve their flags (in the caller's transaction)."""
    from crecer.risks import engine

    return engine.evaluate_ids(actor, child_ids, pregnancy_ids).raised
