from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "crecer.places"
    verbose_name = _("Territories, facilities and organisations")

    def ready(self) -> None:
        # Importers register themselves with the import framework, which imports no domain app.
        from crecer.places import importers  # noqa: F401
