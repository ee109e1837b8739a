from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "crecer.tracking"
    verbose_name = _("Child trajectory")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.tracking import importers  # noqa: F401
