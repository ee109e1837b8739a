"""Territories (a tree of any depth), facilities and provider organisations.

The tree's level names come from the country profile; the code only knows depths. Each territory
stores its materialised path (``CL/CL13/CL13101/``) so "everything under this territory" is one
indexed prefix query on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer import conf


class TerritoryQuerySet(models.QuerySet["Territory"]):
    def subtree(self, root: Territory) -> TerritoryQuerySet:
        """The territory and everything below it."""
        return self.filter(path__startswith=root.path)


class Territory(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=40, help_text=_("Level key from the country profile"))
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    path = models.CharField(max_length=1000, editable=False, db_index=True)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def level_name(self) -> str:
        """The level's name in the active language, from the profile."""
        from django.utils.translation import get_language

        try:
            level = conf.profile().level(self.level)
        except KeyError:
            return self.level
        return level.name_en if (get_language() or "es").startswith("en") else level.name_es

    def ancestors(self) -> list[Territory]:
        """From the root down to the parent (one query)."""
        codes = [c for c in self.path.strip("/").split("/")[:-1] if c]
        by_code = {t.code: t for t in Territory.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def contains(self, other: Territory) -> bool:
        return other.path.startswith(self.path)


class FacilityKind(models.TextChoices):
    HEALTH_CENTRE = "health_centre", _("Health centre")
    HOSPITAL = "hospital", _("Hospital")
    SCHOOL = "school", _("School")
    CHILDCARE_CENTRE = "childcare_centre", _("Childcare centre")
    MUNICIPAL_OFFICE = "municipal_office", _("Municipal office")
    SOCIAL_SERVICE = "social_service", _("Social service")
    CHILD_PROTECTION_OFFICE = "child_protection_office", _("Child protection office")
    CIVIL_REGISTRY = "civil_registry", _("Civil registry")
    HOUSING_OFFICE = "housing_office", _("Housing office")
    EMPLOYMENT_OFFICE = "employment_office", _("Employment office")
    OTHER = "other", _("Other service")


class Facility(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40, choices=FacilityKind.choices)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="facilities")

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Sector(models.TextChoices):
    HEALTH = "health", _("Health")
    EDUCATION = "education", _("Education")
    SOCIAL = "social", _("Social protection")
    HOUSING = "housing", _("Housing")
    EMPLOYMENT = "employment", _("Employment")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    CIVIL_REGISTRY = "civil_registry", _("Civil registry")
    CHILDCARE = "childcare", _("Childcare")
    MUNICIPAL = "municipal", _("Municipality")


class Organisation(models.Model):
    """An institution whose staff use Crecer: a service provider receiving referrals, a municipality."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=40, choices=Sector.choices)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="organisations")

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
