"""The local-network fund and the innovation fund.

Network fund: a yearly budget shared among the municipalities of a territory by a configurable formula
(:mod:`crecer.funds.allocation`), each municipality's allocation split into budget lines (the local
network's activities) against which execution is recorded. Innovation fund: calls with weighted criteria,
proposals with attachments, a panel of designated reviewers who declare conflicts and score, awards within
the budget, disbursements and results reports.

Amounts are whole cents (``BigIntegerField``); a weight that moves money is kept as its exact fraction text
beside what people read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.territories.models import Organisation, Territory


class VulnerabilitySource(models.TextChoices):
    RISK_FLAGS = "risk_flags", _("Share of children with an open risk flag")
    INDICATOR = "indicator", _("An indicator's frozen value (percent)")
    NONE = "none", _("No vulnerability weight")


class NetworkFund(models.Model):
    """A year's network fund for the municipalities of ``territory`` (the country or a region)."""

    year = models.PositiveIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=200)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    budget_cents = models.BigIntegerField(_("budget (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="CLP")
    #: what every municipality receives before the rest is shared
    base_cents = models.BigIntegerField(_("base amount (cents)"))
    #: k in weight = children × (1 + k × vulnerability)
    vulnerability_weight = models.DecimalField(_("vulnerability weight"), max_digits=8, decimal_places=4)
    vulnerability_source = models.CharField(
        _("vulnerability source"), max_length=20, choices=VulnerabilitySource.choices
    )
    indicator = models.CharField(_("indicator"), max_length=60, blank=True)
    #: the period of the frozen snapshot the indicator is read from (a year, quarter or month)
    indicator_period = models.CharField(_("period of the indicator"), max_length=10, blank=True)
    allocated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "territory"], name="network_fund_once_a_year")]
        ordering = ["-year", "territory__path"]

    def __str__(self) -> str:
        return f"{self.name} {self.year}"


class Allocation(models.Model):
    """A municipality's share of a network fund, with the figures the formula read."""

    fund = models.ForeignKey(NetworkFund, on_delete=models.PROTECT, related_name="allocations")
    municipality = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    children = models.PositiveIntegerField(_("children"))
    vulnerability = models.CharField(max_length=80)  # exact fraction, e.g. "3/20"
    weight = models.CharField(max_length=120)  # exact fraction
    base_cents = models.BigIntegerField()
    share_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fund", "municipality"], name="allocation_once")]
        ordering = ["fund", "municipality__name"]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.municipality_id}"


class BudgetLine(models.Model):
    """An activity of the local network, funded from the municipality's allocation."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="lines")
    activity = models.CharField(_("activity"), max_length=200)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["allocation", "pk"]

    def __str__(self) -> str:
        return self.activity


class Execution(models.Model):
    """Money spent on a budget line's activity."""

    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="executions")
    date = models.DateField(_("date"))
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    description = models.CharField(_("description"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["line", "date", "pk"]

    def __str__(self) -> str:
        return f"{self.line_id} {self.date}"


# --- innovation fund -------------------------------------------------------------------------------------


class CallState(models.TextChoices):
    OPEN = "open", _("Open for proposals")
    REVIEW = "review", _("Panel review")
    DECIDED = "decided", _("Awarded")


class InnovationCall(models.Model):
    name = models.CharField(_("name"), max_length=200)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    budget_cents = models.BigIntegerField(_("budget (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="CLP")
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.OPEN)
    #: the panel: users designated on the call (who hold the right to review proposals)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-opens_on", "pk"]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    call = models.ForeignKey(InnovationCall, on_delete=models.PROTECT, related_name="criteria")
    name = models.CharField(_("name"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=8, decimal_places=4)
    max_score = models.PositiveSmallIntegerField(_("maximum score"))

    class Meta:
        ordering = ["call", "pk"]

    def __str__(self) -> str:
        return self.name


class ApplicantKind(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    ORGANISATION = "organisation", _("Organisation")


class ProposalState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    AWARDED = "awarded", _("Awarded")


class Proposal(models.Model):
    call = models.ForeignKey(InnovationCall, on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))
    requested_cents = models.BigIntegerField(_("amount requested (cents)"))
    applicant_kind = models.CharField(_("applicant"), max_length=20, choices=ApplicantKind.choices)
    #: the municipality, or the organisation's territory: scopes who reads it
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=ProposalState.choices, default=ProposalState.SUBMITTED)
    submitted_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["call", "submitted_at", "pk"]

    def __str__(self) -> str:
        return self.title


class ProposalFile(models.Model):
    """An attachment of a proposal (or of its results report), stored by :mod:`crecer.core.uploads`."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="files")
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["proposal", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Conflict(models.Model):
    """A reviewer's declared conflict of interest with a proposal: they may not score it."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="conflicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "reviewer"], name="conflict_once")]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.reviewer_id}"


class Score(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="scores")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer", "criterion"], name="score_once_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.reviewer_id} {self.criterion_id}"


class Award(models.Model):
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="award")
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    score = models.CharField(max_length=120)  # the exact score when awarded
    rank = models.PositiveIntegerField()
    awarded_at = models.DateTimeField(auto_now_add=True)
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self) -> str:
        return f"award {self.proposal_id}"


class Disbursement(models.Model):
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="disbursements")
    date = models.DateField(_("date"))
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["award", "date", "pk"]

    def __str__(self) -> str:
        return f"{self.award_id} {self.date}"


class ResultsReport(models.Model):
    """What an awarded project achieved, written by its applicant (a file optional)."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="reports")
    text = models.TextField(_("results"))
    file = models.ForeignKey(ProposalFile, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["award", "pk"]

    def __str__(self) -> str:
        return f"report {self.pk}"
