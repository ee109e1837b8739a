"""Validation of the writes on risk flags (shared by the pages and the API)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crecer.validation import Collector

ACTION_MAX_LENGTH = 2000


def clean_action_taken(raw: Any) -> str:
    """The action taken on an urgent result: required plain text, at most 2,000 characters."""
    errors = Collector()
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        errors.add("action_taken", "required", _("Say what was done (for example: called the mother, referred her)."))
    elif len(text) > ACTION_MAX_LENGTH:
        errors.add(
            "action_taken",
            "too_long",
            _("Write at most %(count)s characters.") % {"count": ACTION_MAX_LENGTH},
        )
    errors.raise_if_any()
    return text
