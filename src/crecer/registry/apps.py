from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "crecer.registry"
    verbose_name = _("Person registry")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.registry import importers  # noqa: F401
