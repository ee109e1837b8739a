"""The prenatal entry flow and the birth, as a midwife does them at the first prenatal visit.

1. ``/caregivers/new/``: find the mother (search by name or document) or register her with her household;
   the caregivers who may already be her are shown before saving (:func:`crecer.dedup.candidates.find_caregivers`).
2. ``/pregnancies/new/?mother=<id>``: the pregnancy (LMP and/or expected delivery date; the first visit's
   gestational week is derived) and the EPsA applied at this first visit, saved together.
3. The pregnancy's page shows a risk the EPsA raised and offers its recommended referral at once
   (``/pregnancies/<id>/refer/``, the template tag ``pregnancy_risks``).
4. ``/pregnancies/<id>/birth/``: the newborn, linked to the mother and the pregnancy, with birth weight,
   gestational weeks and the newborn welcome kit.

These pages live in ``web`` (the outward layer) because they join the registry, the trajectory, the
duplicate candidates and referrals; every write goes through those apps' actions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.categories import service_categories
from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup import candidates
from crecer.lib import documents, names
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import OPEN_STATES, Referral, Service
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.models import Caregiver, Household, Pregnancy
from crecer.registry.reads import log_reads
from crecer.risks.models import RiskFlag
from crecer.territories.models import Facility, FacilityKind, Territory
from crecer.tracking import actions as tracking_actions
from crecer.tracking import forms
from crecer.validation import InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


class _Rollback(Exception):
    """Raised inside a transaction to undo the writes of a flow step that found errors."""


@dataclass
class FormField:
    """One field of a form: its label, its value and the errors shown beside it."""

    name: str
    label: Any
    kind: str = "text"  # text, date, number, select, check, hidden
    value: Any = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hint: Any = ""


def _fields(specs: list[FormField], data: dict[str, Any], errors: dict[str, Any]) -> list[FormField]:
    for f in specs:
        if f.name in data:
            f.value = data[f.name]
        f.errors = [e["message"] for e in errors.get(f.name, [])]
    return specs


def _other_errors(errors: dict[str, Any], shown: list[FormField]) -> list[str]:
    """Messages of errors no field of the form shows (said at the top, in plain words)."""
    names_shown = {f.name for f in shown}
    return [e["message"] for name, items in errors.items() if name not in names_shown for e in items]


def _leaf_territories(user: Any) -> list[Territory]:
    leaf = len(conf.profile().territory_levels) - 1
    return list(Territory.objects.filter(path__startswith=user.territory.path, depth=leaf).order_by("name"))


def _facilities(user: Any) -> list[Facility]:
    return list(
        Facility.objects.filter(
            territory__path__startswith=user.territory.path,
            kind__in=(FacilityKind.HEALTH_CENTRE, FacilityKind.HOSPITAL),
        ).order_by("name")[:500]
    )


def _may_register(user: Any) -> None:
    if not permissions.has(user, permissions.REGISTER) or user.territory is None:
        raise PermissionDenied(_("Only health workers and municipal coordinators register people."))


def _document_label(code: str) -> str:
    return documents.get(code).label if code in documents.known_types() else code


def _suggested_household_code() -> str:
    return f"H{timezone.localdate():%y%m%d}-{secrets.token_hex(3).upper()}"


# --- 1. the mother and her household ------------------------------------------------------------------------

MOTHER_FIELDS = (
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "birth_date",
    "national_id_type",
    "national_id",
    "phone",
    "schooling_years",
    "territory_code",
    "sex",
)
HOUSEHOLD_MODES = ("new", "existing", "none")


def _person_fields(user: Any, member: bool) -> list[FormField]:
    profile = conf.profile()
    specs = [
        FormField("given_names", gettext_lazy("Given names"), required=True),
        FormField("paternal_surname", gettext_lazy("Paternal (first) surname"), required=True),
        FormField("maternal_surname", gettext_lazy("Maternal (second) surname")),
        FormField("birth_date", gettext_lazy("Birth date"), "date"),
        FormField(
            "national_id_type",
            gettext_lazy("Document type"),
            "select",
            value=profile.default_document,
            options=[(d, _document_label(d)) for d in profile.documents],
        ),
        FormField("national_id", gettext_lazy("Document number")),
        FormField("phone", gettext_lazy("Phone")),
        FormField("schooling_years", gettext_lazy("Years of schooling"), "number"),
        FormField(
            "territory_code",
            gettext_lazy("Where she lives") if not member else gettext_lazy("Where they live"),
            "select",
            required=True,
            value=user.territory.code,
            options=[(t.code, t.name) for t in _leaf_territories(user)],
        ),
    ]
    if member:
        specs.insert(
            3,
            FormField(
                "sex",
                gettext_lazy("Sex"),
                "select",
                required=True,
                options=[("", ""), ("F", str(gettext_lazy("Female"))), ("M", str(gettext_lazy("Male")))],
            ),
        )
    else:
        specs.append(FormField("sex", "", "hidden", value="F"))
    return specs


def _household_fields() -> list[FormField]:
    return [
        FormField(
            "household_mode",
            gettext_lazy("Household"),
            "select",
            value="new",
            options=[
                ("new", str(gettext_lazy("Register her household now"))),
                ("existing", str(gettext_lazy("Her household is already registered (give its code)"))),
                ("none", str(gettext_lazy("Later"))),
            ],
        ),
        FormField(
            "household_code",
            gettext_lazy("Household code"),
            value=_suggested_household_code(),
            hint=gettext_lazy("The Social Household Registry folio, or keep the code suggested."),
        ),
        FormField("address", gettext_lazy("Address")),
        FormField(
            "vulnerability_percentile",
            gettext_lazy("Vulnerability percentile (Social Household Registry, 1–100)"),
            "number",
        ),
    ]


def _search(user: Any, query: str) -> list[Caregiver]:
    """Caregivers in scope whose name contains every word of ``query`` or whose document it is."""
    found = scope.caregivers(user).select_related("territory")
    words = names.fold(query).split()
    if not words:
        return []
    held = candidates.document_keys(query)
    by_name = found
    for word in words:
        by_name = by_name.filter(search_name__contains=word)
    return list((by_name | found.filter(national_id__in=held)).order_by("search_name", "pk")[:20])


def _register_person(
    actor: Actor, raw: dict[str, Any], household: dict[str, str] | None
) -> tuple[Caregiver | None, dict[str, Any]]:
    """The household (when new) and the caregiver, both or neither; the errors of both, by field."""
    errors: dict[str, Any] = {}
    caregiver: Caregiver | None = None
    try:
        with transaction.atomic():
            if household is not None:
                try:
                    registry_actions.create_household(actor, household)
                except InputErrors as exc:
                    found = exc.as_dict()
                    errors.update({("household_code" if k == "code" else k): v for k, v in found.items()})
                    raw = {k: v for k, v in raw.items() if k != "household_code"}
            try:
                caregiver = registry_actions.create_caregiver(actor, raw)
            except InputErrors as exc:
                errors.update(exc.as_dict())
            if errors:
                raise _Rollback
    except _Rollback:
        caregiver = None
    except PermissionDenied as exc:
        errors["territory_code"] = [{"code": "forbidden", "message": str(exc)}]
        caregiver = None
    return caregiver, errors


@login_required
def caregiver_new(request: HttpRequest) -> HttpResponse:
    """Find or register a pregnant woman (or, with ``?household=<id>``, another member of a household)."""
    user: Any = request.user
    _may_register(user)
    into: Household | None = None
    if request.GET.get("household"):
        into = (
            scope.households(user)
            .filter(pk=request.GET["household"] if request.GET["household"].isdigit() else 0)
            .first()
        )
        if into is None:
            raise Http404
    member = into is not None
    actor = _actor(request)
    posted = request.method == "POST"
    data: dict[str, Any] = {k: str(request.POST.get(k, "")).strip() for k in request.POST} if posted else {}
    errors: dict[str, Any] = {}
    found: list[candidates.CaregiverCandidate] = []
    if posted:
        raw = {f: data.get(f, "") for f in MOTHER_FIELDS}
        if not member:
            raw["sex"] = "F"
        household: dict[str, str] | None = None
        mode = data.get("household_mode", "none") if not member else "member"
        if member:
            assert into is not None
            raw["household_code"] = into.code
        elif mode == "new":
            household = {
                "code": data.get("household_code", ""),
                "territory_code": raw["territory_code"],
                "address": data.get("address", ""),
                "vulnerability_percentile": data.get("vulnerability_percentile", ""),
            }
            raw["household_code"] = household["code"]
        elif mode == "existing":
            code = data.get("household_code", "")
            if not code:
                errors["household_code"] = [{"code": "required", "message": _("Give the code of her household.")}]
            elif not scope.households(user).filter(code=code).exists():
                errors["household_code"] = [
                    {
                        "code": "unknown",
                        "message": _("No household you may see has the code “%(code)s”.") % {"code": code},
                    }
                ]
            raw["household_code"] = code
        cleaned = {k: v for k, v in raw.items() if v != ""}
        if not errors and data.get("confirm_new") != "1":
            found = candidates.find_caregivers(user, cleaned)
        if not errors and not found:
            caregiver, errors = _register_person(actor, cleaned, household)
            if caregiver is not None:
                if member:
                    assert into is not None
                    messages.success(request, _("%(name)s was registered.") % {"name": caregiver.full_name})
                    return redirect("household-detail", household_id=into.pk)
                messages.success(
                    request,
                    _("%(name)s was registered. Now her pregnancy.") % {"name": caregiver.full_name},
                )
                return redirect(f"{reverse('pregnancy-new')}?mother={caregiver.pk}")
    query = request.GET.get("q", "").strip()
    matches = _search(user, query) if query else []
    person = _fields(_person_fields(user, member), data, errors)
    household_fields = [] if member else _fields(_household_fields(), data, errors)
    log_reads(actor, "caregiver registration", caregivers=[c.caregiver.pk for c in found] + [c.pk for c in matches])
    return render(
        request,
        "web/prenatal/caregiver_new.html",
        {
            "member": member,
            "household": into,
            "person_fields": person,
            "household_fields": household_fields,
            "other_errors": _other_errors(errors, person + household_fields),
            "errors": errors,
            "candidates": found,
            "query": query,
            "matches": matches,
        },
        status=422 if errors else 200,
    )


# --- 2. the pregnancy and the EPsA of the first visit ----------------------------------------------------------


def _pregnancy_fields(user: Any) -> list[FormField]:
    today = timezone.localdate()
    return [
        FormField("lmp_date", gettext_lazy("Last menstrual period"), "date"),
        FormField(
            "edd_date",
            gettext_lazy("Expected delivery date"),
            "date",
            hint=gettext_lazy("Give the last menstrual period, the expected delivery date (by ultrasound) or both."),
        ),
        FormField("first_visit_date", gettext_lazy("Date of this first visit"), "date", value=today.isoformat()),
        FormField(
            "facility_code",
            gettext_lazy("Health facility"),
            "select",
            value=user.facility.code if user.facility_id else "",
            options=[("", "")] + [(f.code, f.name) for f in _facilities(user)],
        ),
    ]


def _epsa_fields(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"s.epsa.{f.name}",
            "label": f.label,
            "kind": f.kind,
            "checked": data.get(f"s.epsa.{f.name}") == "on",
            "value": data.get(f"s.epsa.{f.name}", "") if f.kind != "check" else "",
        }
        for f in forms.instrument_fields("epsa")
    ]


def _encounter_errors(found: dict[str, Any]) -> dict[str, Any]:
    """The first visit's errors (``first_visit.<field>``) under the pregnancy form's names."""
    renamed = {"date": "first_visit_date"}
    out: dict[str, Any] = {}
    for key, items in found.items():
        name = key.removeprefix("first_visit.")
        out.setdefault(renamed.get(name, name), []).extend(items)
    return out


@login_required
def pregnancy_new(request: HttpRequest) -> HttpResponse:
    """Register the pregnancy of a mother in scope and apply the EPsA of the first visit, together."""
    user: Any = request.user
    _may_register(user)
    mother_id = request.GET.get("mother") or request.POST.get("mother") or ""
    mother = scope.get_caregiver_or_404(user, mother_id if str(mother_id).isdigit() else 0)
    if not scope.can_register_in(user, mother.territory):
        raise PermissionDenied(_("You cannot register pregnancies of women living outside your territory."))
    actor = _actor(request)
    posted = request.method == "POST"
    data: dict[str, Any] = dict(request.POST.items()) if posted else {"use.epsa": "on"}
    errors: dict[str, Any] = {}
    if posted:
        raw = {k: data.get(k, "").strip() for k in ("lmp_date", "edd_date", "first_visit_date", "facility_code")}
        raw = {k: v for k, v in raw.items() if v}
        visit: dict[str, Any] = {"date": raw.get("first_visit_date", ""), "facility_code": raw.get("facility_code", "")}
        if data.get("use.epsa") == "on":
            visit["screenings"] = [
                {"instrument": "epsa", "inputs": forms.instrument_inputs("epsa", request.POST, "s.epsa.")}
            ]
        pregnancy: Pregnancy | None = None
        try:
            pregnancy = tracking_actions.register_pregnancy_with_first_visit(actor, raw, visit, mother=mother)
        except InputErrors as exc:
            errors = _encounter_errors(exc.as_dict())
        if pregnancy is not None:
            messages.success(request, _("The pregnancy and its first visit were saved."))
            return redirect("pregnancy-detail", pregnancy_id=pregnancy.pk)
    fields = _fields(_pregnancy_fields(user), data, errors)
    epsa = _epsa_fields(data)
    log_reads(actor, "pregnancy registration", caregivers=[mother.pk])
    return render(
        request,
        "web/prenatal/pregnancy_new.html",
        {
            "mother": mother,
            "fields": fields,
            "epsa": epsa,
            "use_epsa": data.get("use.epsa") == "on",
            "other_errors": _other_errors(errors, fields),
            "errors": errors,
        },
        status=422 if errors else 200,
    )


# --- 3. the referral a risk of the pregnancy recommends ---------------------------------------------------------


@login_required
def pregnancy_refer(request: HttpRequest, pregnancy_id: int) -> HttpResponse:
    """Send the referral a risk flag of the pregnancy recommends, in one click (POST only)."""
    user: Any = request.user
    pregnancy = scope.get_pregnancy_or_404(user, pregnancy_id)
    if request.method != "POST":
        return redirect("pregnancy-detail", pregnancy_id=pregnancy.pk)
    flag_id = request.POST.get("flag", "")
    flag = RiskFlag.unscoped.filter(pk=flag_id if flag_id.isdigit() else 0, pregnancy=pregnancy).first()
    if flag is None or flag.data_category not in user.data_categories():
        raise Http404
    if not permissions.has(user, permissions.SEND_REFERRALS) or not scope.can_register_in(
        user, pregnancy.mother.territory
    ):
        raise PermissionDenied(_("You cannot refer this pregnancy."))
    recommendation = flag.recommendation or {}
    rules = {r.id: r for r in conf.profile().rules}
    rule = rules.get(flag.rule_id)
    language = get_language() or "es"
    try:
        referral = referral_actions.create_referral(
            _actor(request),
            pregnancy=pregnancy,
            service_code=request.POST.get("service") or recommendation.get("service", ""),
            reason=request.POST.get("reason") or (rule.description(language) if rule else ""),
            consent=request.POST.getlist("consent"),
            flag=flag,
        )
    except InputErrors as exc:
        log_reads(_actor(request), "pregnancy referral refused", pregnancies=[pregnancy.pk])
        messages = [e["message"] for items in exc.as_dict().values() for e in items]
        return render(
            request,
            "web/prenatal/refer_refused.html",
            {"pregnancy": pregnancy, "problems": messages},
            status=422,
        )
    return redirect("referral-detail", referral_id=referral.pk)


def risk_offers(user: Any, pregnancy: Pregnancy) -> list[dict[str, Any]]:
    """The open risk flags of a pregnancy the user may see, each with the referral it recommends (its
    service and whether one is already open) and whether the user may send it now."""
    categories = user.data_categories()
    flags = list(
        RiskFlag.unscoped.filter(pregnancy=pregnancy, status="open", data_category__in=categories).order_by(
            "-raised_at", "pk"
        )
    )
    if not flags:
        return []
    rules = {r.id: r for r in conf.profile().rules}
    language = get_language() or "es"
    services = {s.code: s for s in Service.objects.filter(active=True)}
    # only the open referrals the user may see: a referral is of its service's data category
    service_category = service_categories()
    open_services = {
        code
        for code in Referral.unscoped.filter(pregnancy=pregnancy, state__in=OPEN_STATES).values_list(
            "service__code", flat=True
        )
        if service_category.get(code) in categories
    }
    may_send = permissions.has(user, permissions.SEND_REFERRALS) and scope.can_register_in(
        user, pregnancy.mother.territory
    )
    offers = []
    for flag in flags:
        rule = rules.get(flag.rule_id)
        code = (flag.recommendation or {}).get("service", "")
        service = services.get(code)
        offers.append(
            {
                "flag": flag,
                "label": rule.flag.label(language) if rule else flag.rule_id,
                "description": rule.description(language) if rule else "",
                "service": service,
                "service_name": service.name(language) if service else "",
                "category_label": DataCategory(flag.data_category).label
                if flag.data_category in DataCategory.values
                else "",
                "referred": code in open_services,
                "may_send": may_send
                and service is not None
                and service_category.get(code) in categories
                and code not in open_services,
            }
        )
    return offers


# --- 4. the birth --------------------------------------------------------------------------------------------


def _birth_fields(pregnancy: Pregnancy) -> list[FormField]:
    # another baby of a birth already recorded (twins) is born on the day the pregnancy ended
    born_on = pregnancy.outcome_date if pregnancy.outcome == "live_birth" and pregnancy.outcome_date else None
    today = born_on or timezone.localdate()
    return [
        FormField("given_names", gettext_lazy("Given names"), required=True),
        FormField("paternal_surname", gettext_lazy("Paternal (first) surname"), required=True),
        FormField(
            "maternal_surname", gettext_lazy("Maternal (second) surname"), value=pregnancy.mother.paternal_surname
        ),
        FormField(
            "sex",
            gettext_lazy("Sex"),
            "select",
            required=True,
            options=[("", ""), ("F", str(gettext_lazy("Female"))), ("M", str(gettext_lazy("Male")))],
        ),
        FormField("birth_date", gettext_lazy("Birth date"), "date", required=True, value=today.isoformat()),
        FormField("birth_weight_g", gettext_lazy("Birth weight (g)"), "number"),
        FormField("gestational_weeks", gettext_lazy("Gestational age at birth (weeks)"), "number"),
        FormField(
            "national_id",
            gettext_lazy("Document number"),
            hint=gettext_lazy(
                "Leave empty if the newborn has no document yet: its registry number identifies it until then."
            ),
        ),
    ]


@login_required
def pregnancy_birth(request: HttpRequest, pregnancy_id: int) -> HttpResponse:
    """Register the newborn of a pregnancy (linked to mother and pregnancy) and the welcome kit."""
    user: Any = request.user
    pregnancy = scope.get_pregnancy_or_404(user, pregnancy_id)
    if not scope.can_register_in(user, pregnancy.mother.territory):
        raise PermissionDenied(_("You cannot record births of pregnancies outside your territory."))
    actor = _actor(request)
    posted = request.method == "POST"
    data: dict[str, Any] = dict(request.POST.items()) if posted else {"welcome_kit": "on"}
    errors: dict[str, Any] = {}
    if posted:
        raw = {
            k: data.get(k, "").strip()
            for k in (
                "given_names",
                "paternal_surname",
                "maternal_surname",
                "sex",
                "birth_date",
                "birth_weight_g",
                "gestational_weeks",
                "national_id",
            )
        }
        raw = {k: v for k, v in raw.items() if v}
        facility = pregnancy.facility.code if pregnancy.facility_id and pregnancy.facility else ""
        if facility:
            raw["facility_code"] = facility
        try:
            child = tracking_actions.record_newborn(
                actor,
                pregnancy,
                raw,
                welcome_kit=data.get("welcome_kit") == "on",
                facility_code=user.facility.code if user.facility_id else "",
            )
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            messages.success(request, _("The birth of %(name)s was registered.") % {"name": child.full_name})
            return redirect("child-detail", child_id=child.pk)
    fields = _fields(_birth_fields(pregnancy), data, errors)
    log_reads(actor, "birth form", pregnancies=[pregnancy.pk])
    return render(
        request,
        "web/prenatal/birth.html",
        {
            "pregnancy": pregnancy,
            "fields": fields,
            "welcome_kit": data.get("welcome_kit") == "on",
            "other_errors": _other_errors(errors, fields),
            "errors": errors,
        },
        status=422 if errors else 200,
    )
