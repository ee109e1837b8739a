"""The page that records the action taken on an urgent result (the banner's form posts here)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry.reads import log_reads
from crecer.risks import actions, urgent
from crecer.validation import InputErrors


@login_required
def flag_action(request: HttpRequest, flag_id: int) -> HttpResponse:
    """GET: the urgent result and the form (works without the banner); POST: record the action taken."""
    user: Any = request.user
    flag = urgent.get_flag_or_404(user, flag_id)
    actor = Actor(user, Channel.WEB)
    errors: dict[str, Any] = {}
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    item = urgent.items(user, [flag])[0]
    if request.method == "POST":
        try:
            actions.record_action(actor, flag, request.POST.get("action_taken", ""))
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            messages.success(request, _("The action taken on this urgent result was recorded."))
            return redirect(next_url or item.subject_url)
    log_reads(
        actor,
        "urgent result",
        [flag.child_id] if flag.child_id else [],
        pregnancies=[flag.pregnancy_id] if flag.pregnancy_id else [],
    )
    return render(
        request,
        "risks/flag_action.html",
        {"item": item, "errors": errors, "data": request.POST if errors else {}, "urgent_next": next_url},
        status=422 if errors else 200,
    )
