from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoriesConfig(AppConfig):
    name = "crecer.territories"
    verbose_name = _("Territories and facilities")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.territories import importers  # noqa: F401
