"""The child's record in the browser: edit the demographics with a reason, link and unlink caregivers
(father, guardian…) with a reason, write case notes filed under a data category, void a record registered
in error. Every write goes through :mod:`crecer.registry.actions`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crecer import conf
from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import actions, scope
from crecer.registry.inputs import clean_document, document_in_use
from crecer.registry.models import CaregiverLink, Child, Relationship, Sex
from crecer.registry.reads import log_reads
from crecer.registry.resolvers import DbResolver
from crecer.validation import Collector, InputErrors

#: the demographic fields the page edits (input names of ``update_child``) and their labels
DEMOGRAPHICS = (
    ("given_names", "text"),
    ("paternal_surname", "text"),
    ("maternal_surname", "text"),
    ("sex", "sex"),
    ("birth_date", "date"),
    ("national_id_type", "document"),
    ("national_id", "text"),
)
#: relationships a page may link (the mother is linked by her document when the child is registered)
LINKABLE = (Relationship.FATHER, Relationship.GUARDIAN, Relationship.OTHER)


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _labels() -> dict[str, str]:
    return {
        "given_names": _("Given names"),
        "paternal_surname": _("Paternal surname"),
        "maternal_surname": _("Maternal surname"),
        "sex": _("Sex"),
        "birth_date": _("Birth date"),
        "national_id_type": _("Document type"),
        "national_id": _("Document number"),
        "reason": _("Reason"),
        "territory_code": _("Territory"),
        "facility_code": _("Health facility"),
        "mother_national_id": _("Mother's document"),
        "relationship": _("Relationship"),
        "caregiver": _("Caregiver"),
        "category": _("Data category"),
        "text": _("Note"),
        "row": _("Record"),
    }


def _editable_child(request: HttpRequest, child_id: int) -> Child:
    """The child, if the user sees it (404 otherwise) and may change its record (403 otherwise)."""
    child = scope.get_child_or_404(request.user, child_id)
    if not scope.can_register_in(request.user, child.territory):
        raise PermissionDenied(_("You cannot change this child's record."))
    return child


def _page(
    request: HttpRequest,
    child: Child,
    *,
    section: str = "",
    errors: dict[str, Any] | None = None,
    data: Any = None,
    registering: bool = False,
) -> HttpResponse:
    """The edit page; ``section`` is the form whose ``errors`` (by field) and posted ``data`` come back."""
    user: Any = request.user
    errors = errors or {}
    current = actions.child_raw(child)
    values = {
        name: (data.get(name, "") if section == "demographics" and data else current.get(name, ""))
        for name, _k in DEMOGRAPHICS
    }
    profile = conf.profile()
    values["national_id_type"] = values["national_id_type"] or profile.default_document
    link_errors = _link_fields(errors) if section == "link" else {}
    labels = _labels()
    categories = scope.categories(user, child)
    log_reads(_actor(request), "child record edit", [child.pk])
    return render(
        request,
        "registry/child_edit.html",
        {
            "child": child,
            "fields": [
                {
                    "name": name,
                    "kind": kind,
                    "label": labels[name],
                    "value": values[name],
                    "errors": errors.get(name, []) if section == "demographics" else [],
                }
                for name, kind in DEMOGRAPHICS
            ],
            "sexes": Sex.choices,
            "documents": profile.documents,
            "default_document": profile.default_document,
            "link_errors": link_errors,
            "registering": registering,
            "links": [
                _with_section(link)
                for link in CaregiverLink.unscoped.filter(child=child)
                .select_related("caregiver")
                .order_by("relationship")
            ],
            "relationships": [(r.value, r.label) for r in LINKABLE],
            "note_categories": [
                (c.value, c.label) for c in DataCategory if c in categories and permissions.may_record(user, c)
            ],
            "notes": scope.notes(user, child),
            "section": section,
            "errors": errors,
            "error_list": [(labels.get(k, ""), e["message"]) for k, items in errors.items() for e in items],
            "data": data or {},
        },
        status=422 if errors else 200,
    )


def _with_section(link: CaregiverLink) -> CaregiverLink:
    link.unlink_section = f"unlink-{link.pk}"  # type: ignore[attr-defined]
    return link


@login_required
def edit_child(request: HttpRequest, child_id: int) -> HttpResponse:
    """The child's record: demographics (changed with a reason), caregivers, notes, voiding."""
    child = _editable_child(request, child_id)
    if request.method == "POST":
        changes = {name: request.POST.get(name, "").strip() for name, _k in DEMOGRAPHICS}
        if not changes["national_id"]:
            del changes["national_id_type"]  # no number: the type chosen says nothing
        try:
            actions.update_child(_actor(request), child, changes, reason=request.POST.get("reason", ""))
        except InputErrors as exc:
            return _page(request, child, section="demographics", errors=exc.as_dict(), data=request.POST)
        messages.success(request, _("The child's record was saved."))
        return redirect("child-edit", child_id=child.pk)
    return _page(request, child)


#: where the link form shows the errors of the registry's rules (person and link) that have no field of its own
LINK_FIELDS = {"caregiver": "national_id"}


def _link_fields(errors: dict[str, Any]) -> dict[str, list[Any]]:
    """The errors of linking by the link form's fields (the rest are listed at the top of the form)."""
    by_field: dict[str, list[Any]] = {}
    for key, items in errors.items():
        by_field.setdefault(LINK_FIELDS.get(key, key), []).extend(items)
    return by_field


@login_required
@require_POST
def link_caregiver(request: HttpRequest, child_id: int) -> HttpResponse:
    """Link a caregiver registered with the given document, or register them first (names and sex given).
    The rules (relationship, document, names, reason) are the registry's: their errors come back beside
    the form's fields."""
    child = _editable_child(request, child_id)
    post = request.POST
    relationship = post.get("relationship", "")
    person = {
        name: post.get(name, "")
        for name in ("given_names", "paternal_surname", "maternal_surname", "sex", "national_id_type", "national_id")
    }
    caregiver = None
    if person["national_id"].strip():
        # find them by their document as the registry writes it (a bad number is reported on registering)
        doc_type, number = clean_document(
            person["national_id_type"], person["national_id"], conf.profile().default_document, Collector()
        )
        if number is not None:
            caregiver = scope.caregivers(request.user).filter(national_id_type=doc_type, national_id=number).first()
            if caregiver is None:
                # A document held outside the user's scope is answered (and audited) before the transaction
                # that registers and links, whose rollback would take the audit event with it.
                errors = Collector()
                try:
                    document_in_use("caregiver", doc_type, number, DbResolver(_actor(request)), errors, None)
                except InputErrors as exc:
                    errors.errors.update(exc.errors)
                if errors.errors:
                    return _page(
                        request,
                        child,
                        section="link",
                        errors=InputErrors(errors.errors).as_dict(),
                        data=post,
                        registering=False,
                    )
    found = caregiver is not None
    try:
        with transaction.atomic():
            if caregiver is None:
                caregiver = actions.create_caregiver(
                    _actor(request), {**person, "territory_code": child.territory.code}
                )
            actions.link_caregiver(_actor(request), child, caregiver, relationship, reason=post.get("reason", ""))
    except InputErrors as exc:
        return _page(request, child, section="link", errors=exc.as_dict(), data=post, registering=not found)
    messages.success(
        request,
        _("%(name)s was linked as %(relationship)s.")
        % {"name": caregiver.full_name, "relationship": Relationship(relationship).label.lower()},
    )
    return redirect("child-edit", child_id=child.pk)


@login_required
@require_POST
def unlink_caregiver(request: HttpRequest, child_id: int, link_id: int) -> HttpResponse:
    child = _editable_child(request, child_id)
    link = CaregiverLink.unscoped.filter(pk=link_id, child=child).select_related("child__territory").first()
    if link is None:
        raise Http404
    try:
        actions.unlink_caregiver(_actor(request), link, reason=request.POST.get("reason", ""))
    except InputErrors as exc:
        return _page(request, child, section=f"unlink-{link.pk}", errors=exc.as_dict(), data=request.POST)
    messages.success(request, _("The link was removed."))
    return redirect("child-edit", child_id=child.pk)


@login_required
@require_POST
def add_note(request: HttpRequest, child_id: int) -> HttpResponse:
    """A case note filed under a data category the user may record (sensitive ones seen only by those
    granted them)."""
    child = _editable_child(request, child_id)
    try:
        actions.add_case_note(_actor(request), child, request.POST.get("category", ""), request.POST.get("text", ""))
    except InputErrors as exc:
        return _page(request, child, section="note", errors=exc.as_dict(), data=request.POST)
    messages.success(request, _("The note was saved."))
    return redirect("child-edit", child_id=child.pk)


@login_required
def void_child(request: HttpRequest, child_id: int) -> HttpResponse:
    """Void a record registered in error, with a reason (it stays for the audit, hidden everywhere)."""
    child = _editable_child(request, child_id)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            actions.void_child(_actor(request), child, request.POST.get("reason", ""))
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            messages.success(request, _("The record of %(name)s was voided.") % {"name": child.full_name})
            return redirect("child-search")
    log_reads(_actor(request), "child void form", [child.pk])
    return render(
        request,
        "registry/child_void.html",
        {"child": child, "errors": errors, "reason": request.POST.get("reason", "")},
        status=422 if errors else 200,
    )
