from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "crecer.monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.monitoring import importers  # noqa: F401
