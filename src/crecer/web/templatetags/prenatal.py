"""``{% pregnancy_risks %}``: the open risks of the pregnancy on its page, each offering its recommended
referral in one click (the pregnancy page belongs to the trajectory, which does not read risks or
referrals; the page's template asks here)."""

from __future__ import annotations

from typing import Any

from django import template

from crecer.lib import screening as screening_lib
from crecer.tracking import inputs, timeline
from crecer.web.prenatal import risk_offers

register = template.Library()


@register.filter
def instrument_name(code: str) -> str:
    """An instrument's name in the user's language, as the profile gives it, never its code."""
    try:
        return inputs.instrument_name(code)
    except screening_lib.ScreeningInputError:
        return code


@register.filter
def result_name(code: str) -> str:
    """A screening's classification in words ("positive" -> "alterada")."""
    return timeline.result_label(code)


@register.inclusion_tag("web/prenatal/_risks.html", takes_context=True)
def pregnancy_risks(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    pregnancy = context["pregnancy"]
    return {
        "pregnancy": pregnancy,
        "offers": risk_offers(request.user, pregnancy),
        "csrf_token": context.get("csrf_token"),
    }
