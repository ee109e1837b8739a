from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crecer.accounts"
    verbose_name = _("Accounts and sign-in")

    def ready(self) -> None:
        from crecer.accounts import events

        events.connect()
