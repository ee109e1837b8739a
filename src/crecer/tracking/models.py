"""The child's trajectory: encounters (prenatal contacts and check-ups) with the measurements,
screenings and service deliveries made in them, and parenting groups.

Measurements and screenings are never edited in place: a correction is a new row that supersedes the
old one (``is_current`` marks the valid one), so the history of every value stays visible.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crecer.registry.models import Caregiver, Child, Pregnancy
from crecer.territories.models import Facility


class EncounterKind(models.TextChoices):
    PRENATAL = "prenatal", _("Prenatal contact")
    CHECK_UP = "check_up", _("Check-up")
    NUTRITION = "nutrition", _("Nutrition consultation")
    HOME_VISIT = "home_visit", _("Home visit")
    OTHER = "other", _("Other contact")


class Encounter(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True, unique=True)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="encounters")
    pregnancy = models.ForeignKey(Pregnancy, on_delete=models.PROTECT, null=True, blank=True, related_name="encounters")
    kind = models.CharField(_("kind"), max_length=20, choices=EncounterKind.choices)
    # The scheduled contact this encounter fulfils ("" for a visit outside the schedule).
    contact_code = models.CharField(_("scheduled contact"), max_length=20, blank=True)
    date = models.DateField(_("date"))
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    professional = models.ForeignKey(
        "access.User", on_delete=models.PROTECT, null=True, blank=True, related_name="encounters"
    )
    # As another system names the professional, when imported.
    professional_name = models.CharField(_("professional"), max_length=150, blank=True)
    gestational_weeks = models.PositiveSmallIntegerField(_("gestational age (weeks)"), null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    # The local date of recording, beside the timestamp: timeliness (days from contact to record) is a
    # comparison of two dates, exact and fast on both databases.
    recorded_on = models.DateField(default=timezone.localdate, editable=False)
    recorded_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False, pregnancy__isnull=True)
                | Q(child__isnull=True, pregnancy__isnull=False),
                name="encounter_child_or_pregnancy",
            ),
            # A scheduled contact is fulfilled once.
            models.UniqueConstraint(
                fields=["child", "contact_code"],
                condition=Q(voided_at__isnull=True, child__isnull=False) & ~Q(contact_code=""),
                name="encounter_child_contact_once",
            ),
            models.UniqueConstraint(
                fields=["pregnancy", "contact_code"],
                condition=Q(voided_at__isnull=True, pregnancy__isnull=False) & ~Q(contact_code=""),
                name="encounter_pregnancy_contact_once",
            ),
        ]
        indexes = [
            models.Index(fields=["child", "date"]),
            models.Index(fields=["pregnancy", "date"]),
            models.Index(fields=["facility", "date"]),
            # data quality of a period scans the encounters of that period
            models.Index(fields=["date"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class Measurement(models.Model):
    """Anthropometry (and haemoglobin) taken at an encounter, with WHO z-scores computed on save."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="measurements")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField(_("date"))
    age_days = models.PositiveIntegerField(_("age (days)"))
    weight_kg = models.FloatField(_("weight (kg)"), null=True, blank=True)
    length_cm = models.FloatField(_("length/height (cm)"), null=True, blank=True)
    # l = lying (length), h = standing (height), "" = as expected for the age.
    position = models.CharField(_("position"), max_length=1, blank=True)
    head_cm = models.FloatField(_("head circumference (cm)"), null=True, blank=True)
    muac_cm = models.FloatField(_("arm circumference (cm)"), null=True, blank=True)
    oedema = models.BooleanField(_("bilateral oedema"), default=False)
    haemoglobin_g_l = models.FloatField(_("haemoglobin (g/L)"), null=True, blank=True)
    z_wfa = models.FloatField(null=True, blank=True)
    z_lhfa = models.FloatField(null=True, blank=True)
    z_wflh = models.FloatField(null=True, blank=True)
    z_bmi = models.FloatField(null=True, blank=True)
    z_hcfa = models.FloatField(null=True, blank=True)
    z_acfa = models.FloatField(null=True, blank=True)
    # Indicators whose z-score WHO flags as implausible (re-measure), e.g. ["wfa"].
    implausible = models.JSONField(default=list, blank=True)
    # Classification codes of crecer.lib.growth.classify (-1 missing, -2 implausible).
    stunting = models.SmallIntegerField(null=True, blank=True)
    underweight = models.SmallIntegerField(null=True, blank=True)
    wasting = models.SmallIntegerField(null=True, blank=True)
    overweight = models.SmallIntegerField(null=True, blank=True)
    bmi_5_19 = models.SmallIntegerField(null=True, blank=True)
    anaemia = models.BooleanField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    correction_reason = models.CharField(max_length=300, blank=True)
    # Why a value the checks found doubtful (WHO implausible, outside the age band or the scale) was
    # recorded anyway: the reason the professional confirmed it with ("" when nothing was doubtful).
    confirmation_reason = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        indexes = [
            # a child's current measurements by date (the last one of a period: a short backward scan),
            # with the classifications indicators count, so that reading them needs no row (is_current is
            # repeated as a column: SQLite does not count a partial index's condition as a column it holds)
            models.Index(
                fields=[
                    *("child", "measured_on", "id"),
                    *("stunting", "wasting", "underweight", "overweight", "anaemia", "is_current"),
                ],
                condition=Q(is_current=True),
                name="measurement_current_by_child",
            ),
            # whether a contact has a current measurement (data quality)
            models.Index(
                fields=["encounter", "is_current"], condition=Q(is_current=True), name="measurement_current_by_contact"
            ),
            # data quality of a period scans the measurements of that period
            models.Index(fields=["measured_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.measured_on}"


class Screening(models.Model):
    """An instrument applied to a child (development) or to a caregiver (e.g. the mother's EPDS)."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="screenings")
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The child it concerns (also for the mother's scale, which is part of the child's follow-up).
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="screenings")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, null=True, blank=True, related_name="screenings")
    pregnancy = models.ForeignKey(Pregnancy, on_delete=models.PROTECT, null=True, blank=True, related_name="screenings")
    instrument = models.CharField(_("instrument"), max_length=30)
    instrument_version = models.CharField(max_length=30)
    applied_on = models.DateField(_("date"))
    age_days = models.IntegerField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    score = models.FloatField(null=True, blank=True)
    subscores = models.JSONField(default=dict, blank=True)
    classification = models.CharField(_("result"), max_length=20)
    sub_classifications = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)
    data_category = models.CharField(max_length=30)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    correction_reason = models.CharField(max_length=300, blank=True)
    # Why a value the checks found doubtful (WHO implausible, outside the age band or the scale) was
    # recorded anyway: the reason the professional confirmed it with ("" when nothing was doubtful).
    confirmation_reason = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        indexes = [
            # a child's current screenings by date, with what indicators read of them (no row needed)
            models.Index(
                fields=["child", "applied_on", "id", "instrument", "classification", "age_days", "is_current"],
                condition=Q(is_current=True),
                name="screening_current_by_child",
            ),
            models.Index(fields=["pregnancy", "is_current"]),
            models.Index(fields=["instrument", "applied_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.applied_on} {self.classification}"


class ParentingGroup(models.Model):
    """A group programme for caregivers (e.g. 6–8 sessions with a facilitator)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    service_code = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=200)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    facilitator = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    facilitator_name = models.CharField(_("facilitator"), max_length=150, blank=True)
    start_date = models.DateField(_("start date"))
    planned_sessions = models.PositiveSmallIntegerField(_("planned sessions"))

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("parenting group")
        verbose_name_plural = _("parenting groups")

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(ParentingGroup, on_delete=models.PROTECT, related_name="members")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="group_memberships")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="group_memberships")
    sessions_attended = models.PositiveSmallIntegerField(default=0)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    unscoped = models.Manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "caregiver"], name="group_member_once")]

    def __str__(self) -> str:
        return f"{self.caregiver_id} in {self.group_id}"


class GroupSession(models.Model):
    group = models.ForeignKey(ParentingGroup, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(_("session"))
    held_on = models.DateField(_("date"))
    attendees = models.ManyToManyField(GroupMember, related_name="sessions", blank=True)

    unscoped = models.Manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "number"], name="group_session_once")]

    def __str__(self) -> str:
        return f"{self.group_id} #{self.number}"


class Delivery(models.Model):
    """A service delivered to a child or caregiver: welcome kit, home visit, stimulation session, enrolment…"""

    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    service_code = models.CharField(_("service"), max_length=40)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries")
    delivered_on = models.DateField(_("date"))
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries")
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey("access.User", on_delete=models.PROTECT, null=True, related_name="+")
    voided_at = models.DateTimeField(null=True, blank=True)

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("service delivery")
        verbose_name_plural = _("service deliveries")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False) | Q(caregiver__isnull=False), name="delivery_has_recipient"
            )
        ]
        indexes = [
            # what a child received and when (indicators read it from the index alone)
            models.Index(fields=["child", "service_code", "delivered_on", "voided_at"], name="delivery_by_child"),
            models.Index(fields=["service_code", "delivered_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} {self.delivered_on}"
