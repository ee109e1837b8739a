from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "crecer.referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.referrals import importers  # noqa: F401
        from crecer.referrals import timeline as _timeline  # noqa: F401  (adds referrals to the child's timeline)
