from django.apps import AppConfig


class CostingConfig(AppConfig):
    name = "crecer.costing"
    label = "costing"
    verbose_name = "Costing and projections"
