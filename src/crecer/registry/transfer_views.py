"""The transfers page: request the transfer of a record registered in another territory, and decide the
requests about records of one's own territory (``docs/transfers.md``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crecer import conf
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import scope, transfers
from crecer.registry.models import Caregiver, Child
from crecer.registry.reads import log_reads
from crecer.validation import InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


@login_required
def transfers_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    errors: dict[str, Any] = {}
    form = {
        "kind": request.GET.get("kind", "child"),
        "national_id_type": request.GET.get("national_id_type", ""),
        "national_id": request.GET.get("national_id", ""),
        "reason": "",
    }
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        try:
            transfers.request_transfer(_actor(request), form)
        except InputErrors as exc:
            errors = exc.as_dict()
        except PermissionDenied as exc:
            errors = {"row": [{"code": "forbidden", "message": str(exc)}]}
        else:
            messages.success(request, _("Transfer requested: a coordinator of the record's territory will decide."))
            return redirect("transfers")
    found = list(
        transfers.visible(user)
        .select_related("from_territory", "to_territory", "requested_by", "child", "caregiver")
        .order_by("-created_at", "-pk")[:100]
    )
    children = set(
        scope.children(user).filter(pk__in=[t.child_id for t in found if t.child_id]).values_list("pk", flat=True)
    )
    caregivers = set(
        scope.caregivers(user)
        .filter(pk__in=[t.caregiver_id for t in found if t.caregiver_id])
        .values_list("pk", flat=True)
    )
    rows: list[dict[str, Any]] = []
    for t in found:
        person: Child | Caregiver | None = None
        if t.child_id in children:
            person = t.child
        elif t.caregiver_id in caregivers:
            person = t.caregiver
        rows.append({"t": t, "person": person, "may_decide": transfers.may_decide(user, t)})
    log_reads(
        _actor(request),
        "transfer requests",
        [t.child_id for t, r in zip(found, rows, strict=True) if r["person"] is not None and t.child_id],
        caregivers=[
            t.caregiver_id for t, r in zip(found, rows, strict=True) if r["person"] is not None and t.caregiver_id
        ],
    )
    return render(
        request,
        "registry/transfers.html",
        {
            "rows": rows,
            "form": form,
            "errors": errors,
            "documents": list(conf.profile().documents),
            "can_request": scope.can_register(user),
        },
    )


@login_required
@require_POST
def decide_transfer(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = transfers.get_or_404(request.user, transfer_id)
    approve = request.POST.get("decision") == "approve"
    try:
        transfers.decide(_actor(request), transfer, approve, request.POST.get("note", ""))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Transfer approved: the record moved.") if approve else _("Transfer refused."))
    return redirect("transfers")
