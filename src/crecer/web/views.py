"""Server-rendered pages. Thin: reads through the scoped query layer, writes through action functions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crecer.access.models import DataCategory, Role
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import EXCEL_MAX_ROWS, csv_response, xlsx_response
from crecer.dedup.merging import merged_into, survivor_of, survivors_of_number
from crecer.referrals.views import child_referral_sections
from crecer.registry import scope
from crecer.registry.models import CaregiverLink, Pregnancy
from crecer.registry.numbers import looks_like_registry_number
from crecer.registry.reads import log_reads, log_rows
from crecer.registry.search import search
from crecer.territories.models import Facility, FacilityKind, Territory
from crecer.tracking import worklists
from crecer.tracking.views import child_sections, worklist_context, worklist_filters

PAGE_SIZE = 20


def web_actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A landing page per role: what this person works on."""
    user: Any = request.user
    context: dict[str, Any] = {"role": user.role}
    if user.role == Role.HEALTH_WORKER:
        # A health worker's home is the list they work from: urgent results on top, then what is due
        # (this week by default, soonest deadline first), not counts.
        context.update(worklist_context(request, worklist_filters(request)))
        context["worklist_home"] = True
        return render(request, "web/home.html", context)
    children = scope.children(user)
    # Urgent results awaiting action stay on top of the home of everyone they were sent to.
    context["pinned"] = worklists.pinned(user)
    if context["pinned"]:
        worklists.log_worklist(web_actor(request), "home: urgent results", [], context["pinned"])
    if user.role in (Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_MANAGER, Role.NATIONAL_MANAGER):
        context["children_count"] = children.count()
        context["pregnancies_ongoing"] = scope.pregnancies(user).filter(outcome="ongoing").count()
        if user.territory is not None:
            context["breakdown"] = territory_breakdown(user, user.territory)
    if user.role == Role.PROVIDER_STAFF:
        context["shared"] = list(children.select_related("territory").order_by("search_name")[:50])
        log_reads(web_actor(request), "home: shared children", [c.pk for c in context["shared"]])
    if user.role == Role.INSPECTOR and user.territory is not None:
        context["centres"] = Facility.objects.filter(
            kind=FacilityKind.CHILDCARE_CENTRE, territory__path__startswith=user.territory.path
        ).select_related("territory")[:100]
    if user.role == Role.AUDITOR:
        # The audit trail's own scope: events about the children of the territory, named by id only.
        context["recent"] = AuditEvent.objects.filter(child_id__in=scope.audited_children(user).values("pk")).order_by(
            "-at", "-id"
        )[:30]
        context["reads_records"] = user.has_territorial_access
    if user.role == Role.ADMIN:
        context["territory_count"] = Territory.objects.count()
        context["facility_count"] = Facility.objects.count()
    return render(request, "web/home.html", context)


def territory_breakdown(user: Any, territory: Territory) -> list[dict[str, Any]]:
    """Children in scope under each child territory of ``territory`` (one grouped query)."""
    below = list(territory.children.all().order_by("name"))
    if not below:
        return []
    counts: Counter[str] = Counter()
    per_territory = (
        scope.children(user)
        .filter(territory__path__startswith=territory.path)
        .values("territory__path")
        .annotate(n=Count("pk"))
    )
    for row in per_territory:
        # path is "ROOT/…/THIS/SUB/…/": the segment after this territory names the sub-territory.
        segments = row["territory__path"].strip("/").split("/")
        if len(segments) > territory.depth + 1:
            counts[segments[territory.depth + 1]] += row["n"]
    return [{"territory": t, "children": counts[t.code]} for t in below]


@login_required
def child_search(request: HttpRequest) -> HttpResponse:
    """Search children in scope; htmx requests get only the results table."""
    query = request.GET.get("q", "").strip()
    results = search(scope.children(request.user), query)
    if looks_like_registry_number(query):
        # A merged record's old registry number finds the record that holds it now, if in scope.
        survivors = survivors_of_number(query)
        if survivors:
            results = (results | scope.children(request.user).filter(pk__in=survivors)).order_by("search_name", "pk")
    results = results.select_related("territory")
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    if query:
        record(
            web_actor(request),
            Action.SEARCH,
            entity="registry.child",
            note=query[:200],
            after={"count": page.paginator.count},
        )
    log_reads(web_actor(request), "child search", [c.pk for c in page.object_list])
    template = "web/_child_results.html" if request.htmx else "web/child_search.html"  # type: ignore[attr-defined]
    return render(request, template, {"query": query, "page": page, "can_register": scope.can_register(request.user)})


@login_required
def child_detail(request: HttpRequest, child_id: int) -> HttpResponse:
    user: Any = request.user
    try:
        child = scope.get_child_or_404(user, child_id)
    except Http404:
        # A merged record's old address leads to the record that holds it now, if the user may see it.
        survivor = survivor_of(child_id)
        if survivor is not None and scope.children(user).filter(pk=survivor).exists():
            return redirect("child-detail", child_id=survivor)
        raise
    categories = scope.categories(user, child)
    log_reads(web_actor(request), "child page", [child.pk])
    links = CaregiverLink.unscoped.filter(child=child).select_related("caregiver").order_by("relationship")
    context: dict[str, Any] = {
        "child": child,
        "categories": categories,
        "links": links,
        "notes": scope.notes(user, child),
        "show_health": DataCategory.HEALTH in categories,
        "show_social": DataCategory.SOCIAL in categories,
        "is_auditor": scope.can_read_audit(user),
        "can_edit": scope.can_register_in(user, child.territory),
    }
    if DataCategory.HEALTH in categories and child.pregnancy_id:
        context["pregnancy"] = Pregnancy.unscoped.filter(pk=child.pregnancy_id).first()
    if context["is_auditor"]:
        context["audit"] = AuditEvent.objects.about_child(child.pk, merged_into(child.pk))[:50]
    context.update(child_sections(user, child))
    context.update(child_referral_sections(user, child))
    return render(request, "web/child_detail.html", context)


@login_required
def child_audit(request: HttpRequest, child_id: int) -> HttpResponse:
    """Who created, changed or viewed this child (auditors)."""
    if not scope.can_read_audit(request.user):
        raise PermissionDenied(_("Only auditors can read the audit trail."))
    # The audit trail's scope, not the records' (an auditor need not read the child's record): the page
    # names the child by registry number and id.
    child = scope.get_audited_child_or_404(request.user, child_id)
    merged = merged_into(child.pk)
    page = Paginator(AuditEvent.objects.about_child(child.pk, merged), 50).get_page(request.GET.get("page"))
    # The events carry the child's data (and that of the records merged into it) in before/after.
    log_reads(web_actor(request), "audit trail", [child.pk, *merged])
    context = {"child": child, "page": page, "reads_records": scope.children(request.user).filter(pk=child.pk).exists()}
    return render(request, "web/child_audit.html", context)


@login_required
def territory_browser(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The territory tree with, for each part, the number of children the user may see there."""
    user: Any = request.user
    if code is None:
        territory = user.territory or Territory.objects.filter(depth=0).first()
        if territory is None:
            return render(request, "web/territory.html", {"territory": None})
    else:
        territory = get_object_or_404(Territory, code=code)
    in_scope = scope.children(user).filter(territory__path__startswith=territory.path)
    context = {
        "territory": territory,
        "ancestors": territory.ancestors(),
        "breakdown": territory_breakdown(user, territory),
        "children_count": in_scope.count(),
        "facilities": territory.facilities.order_by("kind", "name") if not territory.children.exists() else [],
    }
    return render(request, "web/territory.html", context)


EXPORT_COLUMNS = (
    "registry_number",
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id_type",
    "national_id",
    "territory__code",
    "facility__code",
)


@login_required
def child_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The search results (identity columns only), as CSV (streamed) or Excel, within the user's scope.

    Every child in the file is logged as read, chunk by chunk as the rows go out."""
    query = request.GET.get("q", "").strip()
    rows = search(scope.children(request.user), query).values_list("pk", *EXPORT_COLUMNS)
    header = [c.replace("__code", "_code") for c in EXPORT_COLUMNS]
    count = rows.count()
    with transaction.atomic():
        record(
            web_actor(request),
            Action.EXPORT,
            entity="registry.child",
            note=query[:200],
            after={"count": count, "format": fmt},
        )
    if fmt == "xlsx" and count > EXCEL_MAX_ROWS:
        return HttpResponse(
            _("Too many rows for Excel (%(count)s); download CSV instead.") % {"count": count}, status=413
        )
    logged = log_rows(web_actor(request), f"child export {fmt}", rows.iterator(chunk_size=2000))
    return xlsx_response(header, logged, "ninos") if fmt == "xlsx" else csv_response(header, logged, "ninos")


def server_error(request: HttpRequest) -> HttpResponse:
    """The page of an unexpected error (``handler500``): in the site's layout and the language of the
    request, rendered without the database (which may be what failed) and without the request's context
    processors (the header shows the signed-out menu)."""
    from django.template import loader
    from django.utils import translation

    from crecer import conf
    from crecer.access.models import Language

    language = getattr(request, "LANGUAGE_CODE", "")
    with translation.override(language if language in Language.values else settings.LANGUAGE_CODE):
        try:
            profile = conf.profile()  # read from files, cached
        except Exception:  # the error page must render whatever failed
            profile = None
        html = loader.get_template("500.html").render({"crecer_profile": profile})
    return HttpResponse(html, status=500)
