"""Childcare centres: the registry, permit applications with their reviews by institution, inspections,
permits, and the children enrolled with their monthly attendance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crecer.registry.models import Child
from crecer.territories.models import Organisation, Territory
from crecer.tracking.models import Delivery


class CentreType(models.TextChoices):
    PUBLIC_INSTITUTE = "public_institute", _("Public institute")
    MUNICIPAL = "municipal", _("Municipal")
    EMPLOYER = "employer", _("Employer")
    PRIVATE = "private", _("Private")
    COMMUNITY = "community", _("Community")


class CentreStatus(models.TextChoices):
    APPLYING = "applying", _("Applying")
    AUTHORISED = "authorised", _("Authorised")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Centre(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=CentreType.choices)
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="centres")
    address = models.CharField(_("address"), max_length=300)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    #: places per age group of the profile (``{"0_1": 10, "1_3": 20}``)
    capacity = models.JSONField(_("capacity by age group"), default=dict)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=CentreStatus.choices, default=CentreStatus.APPLYING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("childcare centre")
        verbose_name_plural = _("childcare centres")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["status", "territory"])]

    def __str__(self) -> str:
        return self.name

    @property
    def places(self) -> int:
        return sum(int(v) for v in self.capacity.values())


class StaffMember(models.Model):
    """A person working at a centre (personal data: never on the public list)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100)
    qualification = models.CharField(_("qualification"), max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Employer(models.Model):
    """An employer whose size obliges it to run (or pay for) a childcare centre, and whether it does."""

    name = models.CharField(_("name"), max_length=200)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    employees = models.PositiveIntegerField(_("employees"))
    centre = models.ForeignKey(Centre, on_delete=models.SET_NULL, null=True, blank=True, related_name="employers")

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved, awaiting the permit")
    REJECTED = "rejected", _("Rejected")
    PERMIT_ISSUED = "permit_issued", _("Permit issued")


class Application(models.Model):
    """One application for a centre's permit: the documents and fees the profile asks of its type, and one
    review per required institution, run in parallel."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="applications")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    submitted_at = models.DateTimeField()
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.IN_REVIEW)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            # One application under way per centre.
            models.UniqueConstraint(
                fields=["centre"], condition=Q(stage__in=["in_review", "approved"]), name="application_open_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.stage}"


class StoredFile(models.Model):
    """An uploaded file kept by :mod:`crecer.core.uploads` (a random name under ``CRECER_UPLOAD_DIR/centres``)."""

    original_name = models.CharField(max_length=255, blank=True)
    stored_name = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True


class ApplicationDocument(StoredFile):
    """A document of the type's checklist, uploaded (``reference``: the file's name, as sent)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    code = models.CharField(max_length=40)
    reference = models.CharField(_("document"), max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "code"], name="document_once")]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.code}"


class FeePayment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="fees")
    code = models.CharField(max_length=40)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    receipt = models.CharField(_("receipt"), max_length=100)
    paid_on = models.DateField(_("paid on"))
    #: the receipt as an uploaded file (kept like every upload: :mod:`crecer.core.uploads`)
    receipt_name = models.CharField(max_length=255, blank=True)
    receipt_stored = models.CharField(max_length=100, blank=True)
    receipt_size = models.PositiveIntegerField(default=0)
    receipt_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "code"], name="fee_once")]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.code} {self.amount}"


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Pending")
    INSPECTING = "inspecting", _("Inspection under way")
    APPROVED = "approved", _("Approved")
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", _("Approved with conditions")
    REJECTED = "rejected", _("Rejected")


APPROVING = (ReviewState.APPROVED, ReviewState.APPROVED_WITH_CONDITIONS)
DECIDED = (*APPROVING, ReviewState.REJECTED)


class Review(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    institution = models.CharField(_("institution"), max_length=40)
    required = models.BooleanField(default=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews"
    )
    state = models.CharField(_("state"), max_length=30, choices=ReviewState.choices, default=ReviewState.PENDING)
    due_on = models.DateField(_("due"))
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    conditions = models.TextField(_("conditions or reasons"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["application", "institution"]
        constraints = [models.UniqueConstraint(fields=["application", "institution"], name="review_once")]
        indexes = [models.Index(fields=["institution", "state"])]

    def __str__(self) -> str:
        return f"{self.institution} {self.state}"

    @property
    def decided(self) -> bool:
        return self.state in DECIDED


class PermitState(models.TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    EXPIRED = "expired", _("Expired")


class Permit(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="permits")
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="permit")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(_("state"), max_length=20, choices=PermitState.choices, default=PermitState.VALID)
    renewals = models.PositiveSmallIntegerField(default=0)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(_("reason"), max_length=300, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["state", "valid_until"])]

    def __str__(self) -> str:
        return self.number


class PermitCounter(models.Model):
    """The last permit number of a year (numbers are sequential per year; the row is locked to take one)."""

    year = models.PositiveIntegerField(primary_key=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}={self.value}"


class Inspection(models.Model):
    """A visit: for a review (its institution's standards), or to verify a suspended permit's centre."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, null=True, blank=True, related_name="inspections")
    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, null=True, blank=True, related_name="inspections")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    visited_on = models.DateField(_("visit date"))
    #: standard code -> {"met": bool, "required": bool, "evidence": [file names]}; the files themselves are
    #: :class:`InspectionEvidence` rows
    checklist = models.JSONField(default=dict)
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visited_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review__isnull=False, permit__isnull=True) | Q(review__isnull=True, permit__isnull=False),
                name="inspection_review_or_permit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} #{self.pk}"

    @property
    def passed(self) -> bool:
        """Every required standard checked at the visit was met."""
        return all(item.get("met") for item in self.checklist.values() if item.get("required"))


class InspectionEvidence(StoredFile):
    """An evidence file of a visit: of one standard of the checklist (``standard``) or of the whole visit."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="evidence")
    standard = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["inspection", "standard", "pk"]

    def __str__(self) -> str:
        return f"{self.inspection_id}:{self.standard or '-'} {self.original_name}"


class Finding(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    text = models.CharField(_("finding"), max_length=500)
    deadline = models.DateField(_("corrective deadline"))
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "pk"]

    def __str__(self) -> str:
        return self.text


class Enrolment(models.Model):
    """A registry child enrolled in a centre by its operator. Its enrolment is also a service delivery of
    the profile's childcare service (``delivery``): the one fact the childcare indicators count."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="enrolments")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="centre_enrolments")
    age_group = models.CharField(_("age group"), max_length=20)
    enrolled_on = models.DateField(_("enrolled on"))
    ended_on = models.DateField(null=True, blank=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="centre_enrolment")

    unscoped = models.Manager()

    class Meta:
        ordering = ["-enrolled_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "child"], condition=Q(ended_on__isnull=True), name="enrolled_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.centre_id}:{self.child_id}"


class Attendance(models.Model):
    """Days a child attended in a month (``month``: its first day), out of the days the centre opened."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    month = models.DateField()
    days_attended = models.PositiveSmallIntegerField()
    days_open = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["month"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "month"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.month:%Y-%m}"
