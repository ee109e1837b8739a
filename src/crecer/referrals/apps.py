from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "crecer.referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.referrals import importers  # noqa: F401
        from crecer.referrals import timeline as _timeline  # noqa: F401  (adds referrals to the child's timeline)
        from crecer.risks.signals import urgent_flags_raised

        urgent_flags_raised.connect(_notify_urgent, dispatch_uid="crecer.referrals.notify_urgent")


def _notify_urgent(sender: Any, *, actor: Any, flag_ids: list[int], **kwargs: Any) -> int:
    """Urgent flags were opened: notify at once (in the writer's transaction; e-mails after it commits)."""
    from crecer.referrals.actions import notify_urgent

    return notify_urgent(flag_ids, actor)
