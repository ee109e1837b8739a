"""Pages: registering a child (with the likely existing records shown before saving), the review queue
of possible duplicates, a pair side by side with merge / not the same, and the merges (with undo)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy

from crecer import conf
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup import candidates, merging, refresh
from crecer.dedup.models import Decision, PairStatus
from crecer.lib import linkage
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.models import CaregiverLink, Child, Relationship
from crecer.registry.reads import log_reads
from crecer.territories.models import Facility, Territory
from crecer.validation import InputErrors

FORM_FIELDS = (
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id_type",
    "national_id",
    "mother_national_id",
    "territory_code",
    "facility_code",
    "household_code",
    "birth_weight_g",
    "gestational_weeks",
)


COMPARISON_LABELS = {
    "given": gettext_lazy("Given names"),
    "surnames": gettext_lazy("Surnames"),
    "birth_date": gettext_lazy("Birth date"),
    "sex": gettext_lazy("Sex"),
    "mother": gettext_lazy("Mother's document"),
    "territory": gettext_lazy("Territory"),
}
LEVEL_LABELS = {
    "exact": gettext_lazy("the same"),
    "same": gettext_lazy("the same"),
    "sounds_alike": gettext_lazy("sound alike"),
    "first_name": gettext_lazy("same first name"),
    "similar": gettext_lazy("similar"),
    "different": gettext_lazy("different"),
    "missing": gettext_lazy("missing in one"),
    "swapped": gettext_lazy("swapped"),
    "one_missing": gettext_lazy("one surname missing"),
    "paternal_only": gettext_lazy("only the first surname agrees"),
    "day_month_swapped": gettext_lazy("day and month swapped"),
    "one_typo": gettext_lazy("one digit differs"),
    "near": gettext_lazy("within a month"),
}


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _places(user: Any) -> tuple[list[Territory], list[Facility]]:
    leaf = len(conf.profile().territory_levels) - 1
    territories = list(Territory.objects.filter(path__startswith=user.territory.path, depth=leaf).order_by("name"))
    facilities = list(Facility.objects.filter(territory__path__startswith=user.territory.path).order_by("name")[:500])
    return territories, facilities


@login_required
def register_child(request: HttpRequest) -> HttpResponse:
    """Register a child; before saving, the records that may already be this child are shown."""
    user: Any = request.user
    if not scope.can_register(user) or user.territory is None:
        raise Http404
    raw = {f: request.POST.get(f, "").strip() for f in FORM_FIELDS} if request.method == "POST" else {}
    if request.method == "GET" and user.territory.depth == len(conf.profile().territory_levels) - 1:
        raw = {"territory_code": user.territory.code, "facility_code": user.facility.code if user.facility else ""}
    errors: dict[str, Any] = {}
    found: list[candidates.Candidate] = []
    if request.method == "POST":
        cleaned = {k: v for k, v in raw.items() if v != ""}
        confirmed = request.POST.get("confirm_new") == "1"
        if not confirmed:
            found = candidates.find(user, cleaned)
        if confirmed or not found:
            try:
                child = registry_actions.create_child(_actor(request), cleaned)
            except InputErrors as exc:
                errors = exc.as_dict()
            except PermissionDenied as exc:
                errors = {"territory_code": [{"code": "forbidden", "message": str(exc)}]}
            else:
                return redirect("child-detail", child.pk)
    territories, facilities = _places(user)
    log_reads(_actor(request), "registration candidates", [c.child.pk for c in found])
    return render(
        request,
        "dedup/register.html",
        {
            "form": raw,
            "errors": errors,
            "candidates": found,
            "territories": territories,
            "facilities": facilities,
            "documents": conf.profile().documents,
            "default_document": conf.profile().child_document,
        },
        status=400 if errors else 200,
    )


@login_required
def review_queue(request: HttpRequest, refresh_error: str = "") -> HttpResponse:
    user: Any = request.user
    if not merging.may_merge(user):
        raise Http404
    status = request.GET.get("status", PairStatus.OPEN)
    if status not in PairStatus.values:
        status = PairStatus.OPEN
    pairs = merging.pairs_for(user).filter(status=status).select_related("child_a__territory", "child_b__territory")
    decision = request.GET.get("decision", "")
    if decision in Decision.values:
        pairs = pairs.filter(decision=decision)
    page = Paginator(pairs.order_by("-probability", "pk"), 30).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    log_reads(_actor(request), "duplicate queue", [pk for p in page.object_list for pk in (p.child_a_id, p.child_b_id)])
    return render(
        request,
        "dedup/queue.html",
        {
            "page": page,
            "status": status,
            "decision": decision,
            "statuses": PairStatus.choices,
            "job": refresh.status(refresh.current()),
            "refresh_error": refresh_error,
        },
        status=409 if refresh_error else 200,
    )


@login_required
def refresh_queue(request: HttpRequest) -> HttpResponse:
    """POST: refresh the queue in the background (one run at a time); back to the queue, which shows
    the progress."""
    user: Any = request.user
    if not merging.may_merge(user):
        raise Http404
    if request.method != "POST":
        return redirect("dedup-queue")
    try:
        refresh.start(_actor(request))
    except InputErrors as exc:
        return review_queue(request, refresh_error=exc.as_dict()["refresh"][0]["message"])
    return redirect("dedup-queue")


@login_required
def refresh_status(request: HttpRequest) -> HttpResponse:
    """The refresh's progress: JSON, or (asked by the page every few seconds) the progress box; once the
    run is over the page reloads to show the refreshed queue."""
    user: Any = request.user
    if not merging.may_merge(user):
        raise Http404
    job = refresh.status(refresh.current())
    if request.headers.get("HX-Request"):
        response = render(request, "dedup/_refresh.html", {"job": job})
        if not job["active"] and request.GET.get("was") == "active":
            response["HX-Refresh"] = "true"
        return response
    return JsonResponse(job, encoder=DjangoJSONEncoder)


def _facts(child: Child) -> dict[str, Any]:
    mother = (
        CaregiverLink.unscoped.filter(child=child, relationship=Relationship.MOTHER).select_related("caregiver").first()
    )
    return {
        "child": child,
        "mother": mother.caregiver if mother else None,
        "encounters": child.encounters.count(),
        "measurements": child.measurements.count(),
        "screenings": child.screenings.count(),
        "referrals": child.referrals.count(),
    }


@login_required
def pair_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    user: Any = request.user
    pair = merging.pairs_for(user).select_related("child_a__territory", "child_b__territory").filter(pk=pair_id).first()
    if pair is None:
        raise Http404
    errors: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            if action in ("keep_a", "keep_b"):
                survivor, folded = (
                    (pair.child_a_id, pair.child_b_id) if action == "keep_a" else (pair.child_b_id, pair.child_a_id)
                )
                sides = {"a": pair.child_a_id, "b": pair.child_b_id}
                choices = {
                    field: sides.get(request.POST.get(f"choose_{field}", ""), 0)
                    for field, _a, _b in merging.differing(pair.child_a, pair.child_b)
                    if request.POST.get(f"choose_{field}")
                }
                merge = merging.merge(_actor(request), survivor, folded, reason, pair=pair, choices=choices)
                return redirect("merge-detail", merge.pk)
            if action == "distinct":
                merging.mark_distinct(_actor(request), pair, reason)
                return redirect("dedup-queue")
        except InputErrors as exc:
            errors = exc.as_dict()

    def keys(child: Child, mother: Any) -> linkage.Keys:
        return linkage.keys(
            {
                "given_names": child.given_names,
                "paternal_surname": child.paternal_surname,
                "maternal_surname": child.maternal_surname,
                "birth_date": child.birth_date,
                "sex": child.sex,
                "mother_document": mother.national_id if mother else "",
                "territory": child.territory.code,
            }
        )

    a, b = _facts(pair.child_a), _facts(pair.child_b)
    log_reads(_actor(request), "duplicate pair", [pair.child_a_id, pair.child_b_id])
    levels = [
        (COMPARISON_LABELS[name], LEVEL_LABELS.get(level, level))
        for name, level in linkage.score(
            keys(pair.child_a, a["mother"]), keys(pair.child_b, b["mother"])
        ).levels.items()
    ]
    return render(
        request,
        "dedup/pair.html",
        {
            "pair": pair,
            "a": a,
            "b": b,
            "levels": levels,
            "errors": errors,
            "choices": _choices(request, pair, errors),
        },
        status=400 if errors else 200,
    )


CHOICE_LABELS = {
    "given_names": gettext_lazy("Given names"),
    "paternal_surname": gettext_lazy("Paternal surname"),
    "maternal_surname": gettext_lazy("Maternal surname"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "national_id": gettext_lazy("Document"),
    "territory_code": gettext_lazy("Territory"),
    "facility_code": gettext_lazy("Health centre"),
    "birth_weight_g": gettext_lazy("Birth weight (g)"),
    "gestational_weeks": gettext_lazy("Weeks of gestation at birth"),
}


def _shown(field: str, value: Any, child: Child) -> str:
    """A value as people read it: labels, not codes; dates as the language writes them."""
    from django.utils.formats import date_format

    if value in (None, ""):
        return "—"
    if field == "sex":
        return str(child.get_sex_display())
    if field == "birth_date":
        return date_format(child.birth_date, "SHORT_DATE_FORMAT") if child.birth_date else str(value)
    if field == "territory_code":
        return child.territory.name
    if field == "facility_code":
        return child.facility.name if child.facility else str(value)
    return str(value)


def _choices(request: HttpRequest, pair: Any, errors: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields where the two records differ, each with both values to choose between (the one checked:
    as posted, else the filled one, record A's first), and its error if the choice was refused."""
    rows = []
    for field, value_a, value_b in merging.differing(pair.child_a, pair.child_b):
        picked = request.POST.get(f"choose_{field}") or ("a" if value_a not in (None, "") else "b")
        rows.append(
            {
                "field": field,
                "label": CHOICE_LABELS[field],
                "a": _shown(field, value_a, pair.child_a),
                "b": _shown(field, value_b, pair.child_b),
                "picked": picked,
                "errors": errors.get(field, [])
                + (errors.get("national_id_type", []) if field == "national_id" else []),
            }
        )
    return rows


@login_required
def merge_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not merging.may_merge(user):
        raise Http404
    merges = merging.merges_for(user).select_related("survivor", "merged", "actor").order_by("-created_at")
    page = Paginator(merges, 30).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    log_reads(_actor(request), "merge list", [pk for m in page.object_list for pk in (m.survivor_id, m.merged_id)])
    return render(request, "dedup/merges.html", {"page": page})


@login_required
def merge_detail(request: HttpRequest, merge_id: int) -> HttpResponse:
    user: Any = request.user
    merge = (
        merging.merges_for(user).select_related("survivor", "merged", "actor", "undone_by").filter(pk=merge_id).first()
    )
    if merge is None:
        raise Http404
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            merging.unmerge(_actor(request), merge, request.POST.get("reason", ""))
            return redirect("merge-detail", merge.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    moved = {label.split(".")[1]: len(ids) for label, ids in merge.moved.items()}
    kept = {label.split(".")[1]: len(ids) for label, ids in merge.before.get("kept", {}).items()}
    log_reads(_actor(request), "merge page", [merge.survivor_id, merge.merged_id])
    return render(
        request,
        "dedup/merge.html",
        {"merge": merge, "moved": moved, "kept": kept, "errors": errors},
        status=400 if errors else 200,
    )
