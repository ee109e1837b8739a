"""Money on results: agreements and their tranches and conditions, evaluations (immutable versions) and
appeals, performance-incentive programmes and their distributions, recognition-award editions and results.

Amounts are whole cents (``BigIntegerField``); a ratio that moves money is stored as its exact fraction text
(``"5/6"``) beside a rounded decimal for people. Evaluations, distributions and award results are frozen:
a recomputation is a new version, never an edit (the application refuses updates and deletes, and database
triggers refuse them too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.territories.models import Organisation, Territory


class Frozen(Exception):
    """Raised on any attempt to change a frozen evaluation, distribution or award result."""


class FrozenQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise Frozen("evaluations are frozen")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise Frozen("evaluations are frozen")


class FrozenModel(models.Model):
    objects = FrozenQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise Frozen("evaluations are frozen")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise Frozen("evaluations are frozen")


class PartyKind(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    REGION = "region", _("Region")
    ORGANISATION = "organisation", _("Organisation")


class AgreementState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    IN_EXECUTION = "in_execution", _("In execution")
    CLOSED = "closed", _("Closed")


class PaymentRule(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    PROPORTIONAL = "proportional", _("Proportional")
    THRESHOLD = "threshold", _("Threshold")


class ConditionRule(models.TextChoices):
    AT_PERIOD_END = "at_period_end", _("Value at the end of the period")
    MONTHS_MET = "months_met", _("Months meeting the target")
    IMPROVEMENT = "improvement", _("Improvement on the baseline")


class Agreement(models.Model):
    """A transfer agreement between the coordinating ministry and a municipality, region or organisation."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    party_kind = models.CharField(_("party"), max_length=20, choices=PartyKind.choices)
    #: the party's territory (the organisation's territory for an organisation): scopes who may read it
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    period = models.CharField(_("period"), max_length=10)
    total_cents = models.BigIntegerField(_("total amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="CLP")
    state = models.CharField(_("state"), max_length=20, choices=AgreementState.choices, default=AgreementState.DRAFT)
    #: the batch it was created in (same agreement for every municipality of a region), and its formula
    batch = models.CharField(max_length=60, blank=True)
    formula = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Tranche(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="tranches")
    number = models.PositiveSmallIntegerField(_("number"))
    #: share of the agreement's total, in percent (the amounts are split so they sum to the total)
    share = models.DecimalField(_("share (%)"), max_digits=7, decimal_places=4)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    due_date = models.DateField(_("due date"))
    payment_rule = models.CharField(_("payment rule"), max_length=20, choices=PaymentRule.choices)
    floor = models.DecimalField(_("floor"), max_digits=6, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "number"], name="tranche_number_once")]
        ordering = ["agreement", "number"]

    def __str__(self) -> str:
        return f"{self.agreement.code} #{self.number}"


class Condition(models.Model):
    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="conditions")
    indicator = models.CharField(_("indicator"), max_length=60)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(_("rule"), max_length=30)
    #: the period read by at_period_end and improvement (months_met, and a profile rule reading months, read
    #: params["months"])
    period = models.CharField(_("period"), max_length=10, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=12, decimal_places=4)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=4)
    weight = models.DecimalField(_("weight"), max_digits=8, decimal_places=4, default=1)
    #: months and k (months_met), points (improvement), anything a profile's rule needs
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["tranche", "pk"]

    def __str__(self) -> str:
        return f"{self.indicator} {self.territory_id}"

    def periods(self) -> list[str]:
        from crecer.results.evaluation import reads_months

        if reads_months(self.rule):
            return list(self.params.get("months") or [])
        return [self.period]


class TechnicalReport(models.Model):
    """A technical report attached to an agreement (stored like evidence: a random name under the data dir)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(_("title"), max_length=200)
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self) -> str:
        return self.title


class Evaluation(FrozenModel):
    """One version of a tranche's evaluation, computed on frozen snapshots; never changed."""

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="evaluations")
    version = models.PositiveIntegerField()
    #: snapshot ids by period, and the definition version of each indicator read
    snapshots = models.JSONField(default=dict)
    definitions = models.JSONField(default=dict)
    #: one entry per condition: indicator, territory, rule, values, baseline, target, weight, compliance …
    conditions = models.JSONField(default=list)
    weighted_compliance = models.CharField(max_length=80)  # exact fraction, e.g. "5/6"
    weighted_display = models.DecimalField(max_digits=7, decimal_places=4)
    amount_cents = models.BigIntegerField()
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    appeal = models.ForeignKey("Appeal", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tranche", "version"], name="evaluation_version_once")]
        ordering = ["tranche", "-version"]

    def __str__(self) -> str:
        return f"{self.tranche} v{self.version}"

    def snapshot_ids(self) -> list[int]:
        return sorted({int(v) for v in self.snapshots.values()})


class AppealState(models.TextChoices):
    OPEN = "open", _("Open")
    RECOMPUTED = "recomputed", _("Recomputed")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="appeals")
    text = models.TextField(_("grounds"))
    original_name = models.CharField(max_length=255, blank=True)
    stored_name = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    filed_at = models.DateTimeField(auto_now_add=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=AppealState.choices, default=AppealState.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.TextField(_("reason of the decision"), blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]

    def __str__(self) -> str:
        return f"appeal {self.pk}"


class IncentiveProgramme(models.Model):
    """A performance-incentive programme: a budget shared among eligible territories by their results."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    period = models.CharField(_("period"), max_length=10)
    budget_cents = models.BigIntegerField(_("budget (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="CLP")
    by_population = models.BooleanField(_("weighted by child population"), default=False)
    territories = models.ManyToManyField(Territory, related_name="+")
    #: the conditions every eligible territory is measured on: [{indicator, rule, period, baseline, target,
    #: weight, params}] (the territory is each eligible one)
    conditions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self) -> str:
        return self.code


class Distribution(FrozenModel):
    programme = models.ForeignKey(IncentiveProgramme, on_delete=models.PROTECT, related_name="distributions")
    version = models.PositiveIntegerField()
    snapshots = models.JSONField(default=dict)
    definitions = models.JSONField(default=dict)
    #: [{territory, code, name, weighted_compliance, population, weight, amount, conditions}]
    rows = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["programme", "version"], name="distribution_version_once")]
        ordering = ["programme", "-version"]

    def __str__(self) -> str:
        return f"{self.programme_id} v{self.version}"


class AwardEdition(models.Model):
    """An edition of the recognition award: categories of municipalities, criteria, levels."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    period = models.CharField(_("period"), max_length=10)
    #: [{code, name, min_children, max_children}] by the registry's child population of the municipality
    categories = models.JSONField(default=list)
    #: [{indicator, threshold, weight}]: a criterion is met when the value reaches the threshold
    criteria = models.JSONField(default=list)
    #: [{indicator, max}]: data-quality figures a municipality must not exceed to be eligible
    quality = models.JSONField(default=list)
    #: [{code, name, min_score}] from 0 to 100
    levels = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self) -> str:
        return self.code


class AwardResult(FrozenModel):
    edition = models.ForeignKey(AwardEdition, on_delete=models.PROTECT, related_name="results")
    version = models.PositiveIntegerField()
    snapshots = models.JSONField(default=dict)
    definitions = models.JSONField(default=dict)
    #: [{territory, code, name, category, children, eligible, quality_failed, score, rank, level}]
    rows = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["edition", "version"], name="award_result_version_once")]
        ordering = ["edition", "-version"]

    def __str__(self) -> str:
        return f"{self.edition_id} v{self.version}"
