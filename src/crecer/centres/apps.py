from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentresConfig(AppConfig):
    name = "crecer.centres"
    verbose_name = _("Childcare centres")

    def ready(self) -> None:
        # The permits' expiry sweep runs with `crecer sweep`, which knows no domain app: it listens.
        from crecer.centres.sweep import sweep
        from crecer.core import sweeps

        sweeps.register("centres", sweep)
