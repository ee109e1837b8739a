"""The person registry: children, caregivers, households, pregnancies and their links.

Person tables have no ``objects`` manager on purpose. Reads of person data go through
:mod:`crecer.registry.scope` (deny by default); the raw ``unscoped`` manager is for action
functions, imports and migrations, and its name makes every such use stand out in review.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crecer.access.models import DataCategory
from crecer.lib import names
from crecer.lib import pregnancy as pregnancy_dating
from crecer.territories.models import Facility, Organisation, Territory


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class Household(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    # Rank in the social registry, 1 = most vulnerable; "the 60% most vulnerable" is <= 60.
    vulnerability_percentile = models.PositiveSmallIntegerField(_("vulnerability percentile"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.CheckConstraint(
                condition=Q(vulnerability_percentile__isnull=True)
                | Q(vulnerability_percentile__gte=1, vulnerability_percentile__lte=100),
                name="household_percentile_1_100",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Person(models.Model):
    """Fields every registered person has."""

    registry_number = models.CharField(_("registry number"), max_length=20, unique=True, editable=False)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True, unique=True)
    given_names = models.CharField(_("given names"), max_length=120, blank=True)
    paternal_surname = models.CharField(_("paternal surname"), max_length=80, blank=True)
    maternal_surname = models.CharField(_("maternal surname"), max_length=80, blank=True)
    search_name = models.CharField(max_length=300, db_index=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    national_id_type = models.CharField(_("document type"), max_length=20, blank=True)
    # NULL, not "", for "no document": the unique constraint must ignore people without one.
    national_id = models.CharField(_("document number"), max_length=30, null=True, blank=True)  # noqa: DJ001
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Records are voided, not deleted: references from encounters and referrals stay valid.
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    unscoped = models.Manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.full_name} ({self.registry_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_name()
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return names.full_name(self.given_names, self.paternal_surname, self.maternal_surname)

    def refresh_search_name(self) -> None:
        self.search_name = names.search_key(self.given_names, self.paternal_surname, self.maternal_surname)


def _document_unique(model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["national_id_type", "national_id"],
        condition=Q(national_id__isnull=False),
        name=f"{model}_document_unique",
    )


class Caregiver(Person):
    """A mother, father, guardian or other adult caring for a child."""

    schooling_years = models.PositiveSmallIntegerField(_("years of schooling"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("caregiver")
        verbose_name_plural = _("caregivers")
        constraints = [_document_unique("caregiver")]


class Child(Person):
    """A child followed from gestation (unborn: no birth date yet) to about age 8."""

    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("health facility"),
    )
    pregnancy = models.ForeignKey(
        "Pregnancy", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    birth_weight_g = models.PositiveIntegerField(_("birth weight (g)"), null=True, blank=True)
    gestational_weeks = models.PositiveSmallIntegerField(_("gestational age at birth (weeks)"), null=True, blank=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = [_document_unique("child")]
        indexes = [models.Index(fields=["birth_date"]), models.Index(fields=["territory", "birth_date"])]

    def age_days(self, on: Any = None) -> int | None:
        if self.birth_date is None:
            return None
        return ((on or timezone.localdate()) - self.birth_date).days


class Relationship(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    GUARDIAN = "guardian", _("Guardian")
    OTHER = "other", _("Other caregiver")


class CaregiverLink(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="caregiver_links")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="child_links")
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("caregiver link")
        verbose_name_plural = _("caregiver links")
        constraints = [
            models.UniqueConstraint(fields=["child", "caregiver"], name="link_child_caregiver_unique"),
            models.UniqueConstraint(
                fields=["child", "relationship"],
                condition=Q(relationship__in=["mother", "father"]),
                name="link_one_mother_one_father",
            ),
        ]
        indexes = [models.Index(fields=["caregiver", "relationship"])]

    def __str__(self) -> str:
        return f"{self.caregiver_id} {self.relationship} of {self.child_id}"


class PendingMother(models.Model):
    """A child registered with the document of a mother nobody has registered yet (a hospital's birth file
    loaded before the mothers). One row per reading of the document under the profile's types; the link
    is made, and audited, as soon as a caregiver with that document is registered by any path."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="pending_mothers")
    #: the document as it was given
    document = models.CharField(_("mother's document"), max_length=30)
    document_type = models.CharField(max_length=20)
    document_number = models.CharField(max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)
    #: when the link was made (or the child got a mother otherwise); None while pending
    linked_at = models.DateTimeField(null=True, blank=True)
    caregiver = models.ForeignKey(Caregiver, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("pending mother link")
        verbose_name_plural = _("pending mother links")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "document_type", "document_number"],
                condition=Q(linked_at__isnull=True),
                name="pending_mother_reading_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["document_type", "document_number"],
                condition=Q(linked_at__isnull=True),
                name="pending_mother_by_document",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} <- {self.document_type}:{self.document_number}"


class PregnancyOutcome(models.TextChoices):
    ONGOING = "ongoing", _("Ongoing")
    LIVE_BIRTH = "live_birth", _("Live birth")
    STILLBIRTH = "stillbirth", _("Stillbirth")
    MISCARRIAGE = "miscarriage", _("Miscarriage")


class Pregnancy(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True, unique=True)
    mother = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="pregnancies")
    lmp_date = models.DateField(_("last menstrual period"), null=True, blank=True)
    edd_date = models.DateField(_("expected delivery date"))
    first_visit_date = models.DateField(_("first prenatal visit"), null=True, blank=True)
    first_visit_week = models.PositiveSmallIntegerField(_("gestational week at first visit"), null=True, blank=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=PregnancyOutcome.choices, default=PregnancyOutcome.ONGOING
    )
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("pregnancy")
        verbose_name_plural = _("pregnancies")
        indexes = [models.Index(fields=["first_visit_date"])]

    def __str__(self) -> str:
        return f"{_('Pregnancy')} {self.pk} ({self.edd_date})"

    @property
    def origin(self) -> Any:
        """The day gestational age counts from (:func:`crecer.lib.pregnancy.origin`)."""
        return pregnancy_dating.origin(self.lmp_date, self.edd_date)


class CaseNote(models.Model):
    """A dated note on a child, filed under a data category (some categories are sensitive)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="notes")
    category = models.CharField(_("data category"), max_length=30, choices=DataCategory.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")
    written_at = models.DateTimeField(auto_now_add=True)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["-written_at"]

    def __str__(self) -> str:
        return f"{self.category} note on {self.child_id}"


class AccessGrantQuerySet(models.QuerySet["AccessGrant"]):
    def active(self, now: Any = None) -> AccessGrantQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=now).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now)
        )


class AccessGrant(models.Model):
    """An explicit, purpose-bound share of a child's record with an organisation (e.g. a referral)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="grants")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="grants")
    categories = models.JSONField(_("shared data categories"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    granted_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        indexes = [models.Index(fields=["organisation", "child"])]

    def __str__(self) -> str:
        return f"{self.child_id} -> {self.organisation_id}"


class RegistryCounter(models.Model):
    """Sequences for human-readable registry numbers (allocated in blocks for bulk loads)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class TransferState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class TransferRequest(models.Model):
    """A request to move a person's record (registered in another territory) to the requester's territory,
    decided by a coordinator of the record's territory (``docs/transfers.md``)."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    # where the record lived when asked (its coordinators decide) and where it would move
    from_territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    to_territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=10, choices=TransferState.choices, default=TransferState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("transfer request")
        verbose_name_plural = _("transfer requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False, caregiver__isnull=True)
                | Q(child__isnull=True, caregiver__isnull=False),
                name="transfer_child_or_caregiver",
            ),
        ]
        indexes = [models.Index(fields=["from_territory", "state"]), models.Index(fields=["requested_by", "state"])]

    def __str__(self) -> str:
        return f"transfer {self.pk} {self.state}"

    @property
    def kind(self) -> str:
        return "child" if self.child_id else "caregiver"
