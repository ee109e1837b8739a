"""``{% urgent_banner child=… %}`` / ``{% urgent_banner caregiver=… %}``: the pending urgent results of a
person, with the form that records the action taken (``risks/_urgent_banner.html``).

A tag, so that any page can show the banner without its app importing this one (the pregnancy page lives
in ``tracking``, below ``risks``). Python callers may use :func:`crecer.risks.urgent.banner` and include
the template themselves."""

from __future__ import annotations

from typing import Any

from django import template

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry.reads import log_reads
from crecer.risks import urgent

register = template.Library()


@register.inclusion_tag("risks/_urgent_banner.html", takes_context=True)
def urgent_banner(context: Any, child: Any = None, caregiver: Any = None) -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        return {"urgent_items": []}
    found = urgent.banner(request.user, child=child, caregiver=caregiver, next_url=request.get_full_path())
    # A mother's page names the children whose check-up carried her result: their reads are logged here.
    named = [
        i.flag.child_id
        for i in found["urgent_items"]
        if i.flag.child_id and i.flag.child_id != getattr(child, "pk", None)
    ]
    if named:
        log_reads(Actor(request.user, Channel.WEB), "urgent banner", named)
    return {**found, "csrf_token": context.get("csrf_token")}
