"""Phasing plans: phases with dates and territories, the weights that prioritise territories, and the
proposals of municipalities to enter a phase. Composite indices are data of the country profile
(``planning.toml``) computed from frozen snapshots; they have no table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.territories.models import Territory


class Plan(models.Model):
    """A phasing plan of a territory (the nation, a region): which territories of ``level`` enter when."""

    name = models.CharField(_("name"), max_length=200)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    #: the territory level whose territories are phased (a profile level key, e.g. municipality)
    level = models.CharField(_("level"), max_length=40)
    #: the period whose latest frozen snapshot gives the indicator figures of the priorities (e.g. 2025)
    period = models.CharField(_("period"), max_length=10)
    #: weights of the prioritisation parts, as decimal text {part: "0.35"}
    weights = models.JSONField(_("weights"), default=dict)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("phasing plan")
        verbose_name_plural = _("phasing plans")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="phases")
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    starts = models.DateField(_("start date"))
    ends = models.DateField(_("end date"))
    territories = models.ManyToManyField(Territory, related_name="+", blank=True, verbose_name=_("territories"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="phase_number_once")]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.number}"


class ProposalState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Proposal(models.Model):
    """A municipality's coordinator proposing their territory for a phase; a manager accepts (the
    territory joins the phase) or declines it, with a reason."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="proposals")
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.PENDING)
    answer = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.phase_id} {self.territory_id} {self.state}"
