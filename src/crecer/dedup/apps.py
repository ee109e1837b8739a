from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "crecer.dedup"
    label = "dedup"
    default_auto_field = "django.db.models.BigAutoField"
