from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "crecer.access"
    verbose_name = _("Users and access")
