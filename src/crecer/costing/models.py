"""Unit costs of the service catalogue (versioned: a new price is a new row, never an edit) and coverage
targets per service, territory and year. Amounts are exact decimals of the currency."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.territories.models import Territory


class UnitCost(models.Model):
    """What serving one eligible person for a year costs: a service, or one product of it (a kit's
    contents, say); the service's unit cost is the sum of its products' in force. In force from
    ``valid_from`` until a later version of the same service and product."""

    service = models.CharField(_("service"), max_length=40)
    product = models.CharField(_("product"), max_length=80, blank=True)
    amount = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    #: the year whose prices the amount is in
    price_year = models.PositiveSmallIntegerField(_("price year"))
    valid_from = models.DateField(_("valid from"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("unit cost")
        verbose_name_plural = _("unit costs")
        constraints = [
            models.UniqueConstraint(fields=["service", "product", "valid_from"], name="unit_cost_version_once"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="unit_cost_not_negative"),
        ]
        ordering = ["service", "product", "valid_from"]

    def __str__(self) -> str:
        return f"{self.service} {self.product} {self.valid_from}"


class CoverageTarget(models.Model):
    """The share of the eligible population a territory plans to serve with a service in a year (0–1).
    It holds for the territories below it that have none of their own."""

    service = models.CharField(_("service"), max_length=40)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    coverage = models.DecimalField(_("coverage"), max_digits=5, decimal_places=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("coverage target")
        verbose_name_plural = _("coverage targets")
        constraints = [
            models.UniqueConstraint(fields=["service", "territory", "year"], name="coverage_target_once"),
            models.CheckConstraint(
                condition=models.Q(coverage__gte=0) & models.Q(coverage__lte=1), name="coverage_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.territory_id} {self.year}"
