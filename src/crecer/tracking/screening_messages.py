"""Translated messages for the screening library's error codes (the library itself has no gettext)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crecer.lib import screening


def messages() -> dict[str, str]:
    return {
        "required": _("This answer is required."),
        "invalid_type": _("Expected %(expected)s."),
        "not_a_number": _("Enter a number."),
        "not_an_integer": _("Enter a whole number."),
        "not_a_boolean": _("Answer yes or no."),
        "out_of_range": _("Enter a value from %(min)s to %(max)s."),
        "wrong_count": _("Expected %(expected)s answers, got %(count)s."),
        "too_many_missing": _("%(missing)s answers are missing; at most %(max)s may be missing."),
        "unknown_field": _("Unknown input %(name)s."),
        "invalid_choice": _("Choose one of: %(choices)s."),
        "ambiguous_input": _("Give either %(first)s or %(second)s, not both."),
        "inconsistent_total": _("The total (%(total)s) is not the sum of the parts (%(sum)s)."),
        "unknown_age_group": _("%(group)s is not an age group of this instrument (%(groups)s)."),
        "invalid_age": _("Enter the age as a whole number of days, 0 or more."),
        "age_required": _("The child's age is needed to score this instrument."),
        "age_out_of_band": _(
            "This instrument applies from %(min_days)s to %(max_days)s days of age; the age given is %(age_days)s days."
        ),
        "unknown_instrument": _("Unknown screening instrument %(instrument)s."),
        "unknown_param": _("Unknown parameter %(name)s."),
        "invalid_param": _("Invalid value for parameter %(name)s."),
    }


def translated(code: str, params: dict[str, Any]) -> str:
    """The library's message for ``code`` in the active language, placeholders filled."""
    template = messages().get(code) or screening.MESSAGES.get(code, code)
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template
