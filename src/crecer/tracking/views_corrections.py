"""Corrections in the browser: the child's recorded measurements and screenings with their history, and
the forms that correct one with a reason (the earlier value stays, marked as superseded), through the same
actions as the API (``correct_measurement``, ``correct_screening``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.registry.reads import log_reads
from crecer.tracking import forms, inputs, timeline
from crecer.tracking import scope as tracking_scope
from crecer.tracking.actions import correct_measurement, correct_screening
from crecer.tracking.models import Measurement, Screening
from crecer.validation import InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _can_correct(user: Any, child: Child) -> bool:
    return scope.can_register_in(user, child.territory)


@login_required
def records(request: HttpRequest, child_id: int) -> HttpResponse:
    """Every measurement and screening of the child the user may see, corrected ones included, each with
    who recorded it, why it was corrected or confirmed, and a link to correct the current ones."""
    user: Any = request.user
    child = scope.get_child_or_404(user, child_id)
    categories = scope.categories(user, child)
    measurements = []
    if DataCategory.HEALTH in categories:
        measurements = list(
            Measurement.unscoped.filter(child=child).select_related("recorded_by").order_by("-measured_on", "-pk")
        )
    screenings = list(
        Screening.unscoped.filter(child=child, data_category__in=categories)
        .select_related("recorded_by")
        .order_by("-applied_on", "-pk")
    )
    log_reads(_actor(request), "child records", [child.pk])
    return render(
        request,
        "tracking/records.html",
        {
            "child": child,
            "can_correct": _can_correct(user, child),
            "measurements": [
                {
                    "m": m,
                    "values": [
                        (label, getattr(m, name))
                        for name, label in forms.MEASUREMENT_LABELS.items()
                        if name not in ("position", "oedema") and getattr(m, name) is not None
                    ],
                    "implausible": [inputs.indicator_name(code) for code in m.implausible or []],
                }
                for m in measurements
            ],
            "screenings": [
                {
                    "s": s,
                    "name": inputs.instrument_name(s.instrument),
                    "result": timeline.result_label(s.classification),
                }
                for s in screenings
            ],
        },
    )


@login_required
def correct_measurement_page(request: HttpRequest, measurement_id: int) -> HttpResponse:
    """Correct a measurement with a reason; a corrected value WHO flags asks for its own confirmation."""
    user: Any = request.user
    measurement = tracking_scope.get_measurement_or_404(user, measurement_id)
    child = measurement.child
    if not _can_correct(user, child):
        raise PermissionDenied(_("You cannot correct records of this child."))
    errors: dict[str, Any] = {}
    data: Any = {
        f"m.{name}": ("on" if value else "")
        if name == "oedema"
        else ("" if value is None else f"{value:g}" if isinstance(value, float) else value)
        for name in inputs.MEASUREMENT_FIELDS
        for value in [getattr(measurement, name)]
    }
    if request.method == "POST":
        data = request.POST
        changes: dict[str, Any] = {
            name: request.POST.get(f"m.{name}", "") for name in inputs.MEASUREMENT_FIELDS if name != "oedema"
        }
        changes["oedema"] = request.POST.get("m.oedema") == "on"
        try:
            correct_measurement(
                _actor(request),
                measurement,
                changes,
                request.POST.get("reason", ""),
                request.POST.get("m.confirm_reason", ""),
            )
        except InputErrors as exc:
            errors = {
                (key if key in ("reason", "measurement") else f"m.{key}"): items for key, items in exc.as_dict().items()
            }
        else:
            messages.success(request, _("Measurement corrected; the earlier values stay in the history."))
            return redirect("child-records", child_id=child.pk)
    log_reads(_actor(request), "measurement correction form", [child.pk])
    labels: dict[str, Any] = {f"m.{name}": label for name, label in forms.MEASUREMENT_LABELS.items()}
    labels.update(reason=_("Reason for the correction"), measurement=_("Measurement"))
    return render(
        request,
        "tracking/correct.html",
        {
            "child": child,
            "title": _("Correct a measurement"),
            "when": measurement.measured_on,
            "fields": [forms.bind(f, "m.", data, errors) for f in forms.measurement_fields()],
            "confirm": forms.needs_confirmation(errors, "m.") or bool(request.POST.get("m.confirm_reason")),
            "confirm_name": "m.confirm_reason",
            "confirm_value": request.POST.get("m.confirm_reason", ""),
            "reason": request.POST.get("reason", ""),
            "errors": errors,
            "error_list": forms.error_list(errors, labels),
        },
        status=422 if errors else 200,
    )


@login_required
def correct_screening_page(request: HttpRequest, screening_id: int) -> HttpResponse:
    """Correct a child's screening (its answers) with a reason; it is scored again."""
    user: Any = request.user
    screening = tracking_scope.get_screening_or_404(user, screening_id)
    child = screening.child
    assert child is not None
    if not _can_correct(user, child):
        raise PermissionDenied(_("You cannot correct records of this child."))
    code = screening.instrument
    prefix = f"s.{code}."
    errors: dict[str, Any] = {}
    data: Any = forms.inputs_as_data(code, screening.inputs, prefix)
    if request.method == "POST":
        data = request.POST
        answers = forms.numbers(forms.instrument_inputs(code, request.POST, prefix))
        try:
            correct_screening(
                _actor(request),
                screening,
                answers,
                request.POST.get("reason", ""),
                request.POST.get(f"{prefix}confirm_reason", ""),
            )
        except InputErrors as exc:
            errors = forms.form_errors(
                {
                    (f"screenings[0].{k}" if k.startswith(("inputs.", "instrument")) else k): v
                    for k, v in exc.as_dict().items()
                },
                [code],
            )
        else:
            messages.success(request, _("Screening corrected; the earlier result stays in the history."))
            return redirect("child-records", child_id=child.pk)
    log_reads(_actor(request), "screening correction form", [child.pk])
    name = inputs.instrument_name(code)
    fields = [forms.bind(f, prefix, data, errors) for f in forms.instrument_fields(code)]
    labels: dict[str, Any] = {b["name"]: b["field"].label for b in fields}
    labels.update({f"use.{code}": name, "reason": _("Reason for the correction"), "screening": name})
    return render(
        request,
        "tracking/correct.html",
        {
            "child": child,
            "title": _("Correct a screening: %(name)s") % {"name": name},
            "when": screening.applied_on,
            "fields": fields,
            "instrument_errors": errors.get(f"use.{code}", []),
            "confirm": forms.needs_confirmation(errors, prefix)
            or forms.needs_confirmation(errors, f"use.{code}")
            or bool(request.POST.get(f"{prefix}confirm_reason")),
            "confirm_name": f"{prefix}confirm_reason",
            "confirm_value": request.POST.get(f"{prefix}confirm_reason", ""),
            "reason": request.POST.get("reason", ""),
            "errors": errors,
            "error_list": forms.error_list(errors, labels),
        },
        status=422 if errors else 200,
    )
