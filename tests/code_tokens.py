"""What counts as an internal code shown to people, found in the text a page shows (docs/language.md).

A page's *visible text* is its HTML without tags, scripts, styles and attribute values (a form's values,
links and CSS classes may carry codes: people do not read them); ``title``, ``aria-label`` and
``placeholder`` are read aloud or shown, so they count. In it, a code is:

- a versioned rule or definition: ``development_risk@1``, ``stunting@1``;
- a record kind of the audit trail: ``registry.child``, ``registry.child #107``;
- a snake_case word (``in_progress``, ``stimulation_session``): Spanish and English never write one;
- an uppercase code with hyphens that is not a registry number (``CL-RUN``, ``PROF-F000001-2``);
- a value of the models' choices, a referral's outcome or the profile's codes (``attended``,
  ``accepted``, ``eedp``) standing alone where its label differs from it.

Text in ``<code>`` is something people type (a file's column names, a command) and is not read.

Not codes (meant for people): the names of formats (``UTF-8``, ``AAAA-MM-DD``), registry numbers (``ALT-000123-4``, typed and read aloud at the desk),
user names (people type them to sign in), identity document numbers, the names of places and people,
and a language's own short name in the language switch (``ES``, ``EN``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import cache

VERSIONED = re.compile(r"\b[a-z][a-z0-9_]*@\d+\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
UPPER_HYPHENATED = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b")
REGISTRY_NUMBER = re.compile(r"^[A-Z]+-\d+-[0-9K]$")
#: the names of formats people are asked to use
FORMAT_NAMES = frozenset({"UTF-8", "AAAA-MM-DD", "YYYY-MM-DD"})
SHOWN_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|placeholder)="([^"]*)"')


def visible_text(page: str) -> str:
    """The text of ``page`` people read (see the module's docstring)."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"(?is)<(script|style|code)\b.*?</\1>", " ", body)
    shown = " ".join(SHOWN_ATTRIBUTES.findall(body))
    text = re.sub(r"(?s)<[^>]+>", " ", body)
    return html.unescape(f"{text} {shown}")


@cache
def _record_kinds() -> re.Pattern[str]:
    from django.apps import apps

    labels = sorted({m._meta.app_label for m in apps.get_models() if m.__module__.startswith("crecer.")})
    return re.compile(r"\b(?:" + "|".join(map(re.escape, labels)) + r")\.[a-z_]+\b(?: #\d+)?")


@cache
def choice_codes() -> frozenset[str]:
    """Values of the models' choices and of the profile's codes whose label is not the value itself."""
    from django.apps import apps
    from django.utils import translation

    from crecer import conf

    codes: set[str] = set()
    with translation.override("es"):
        for model in apps.get_models():
            if not model.__module__.startswith("crecer."):
                continue
            for field in model._meta.get_fields():
                for value, label in getattr(field, "choices", None) or []:
                    if isinstance(value, str) and value and value.lower() != str(label).lower():
                        codes.add(value)
        from crecer.referrals.actions import OUTCOMES

        profile = conf.profile()
        codes.update(profile.instruments)
        codes.update(OUTCOMES)
        codes.update(service.code for service in profile.services)
    # Words a Spanish page writes as words (and single letters) are not told apart from codes.
    return frozenset(c for c in codes if len(c) > 2 and not c.isupper() and c not in SPANISH_WORDS)


#: choice values that are also Spanish words or the people's own abbreviations
SPANISH_WORDS = frozenset(
    {"alta", "baja", "media", "total", "social", "normal", "rural", "urbano", "urbana", "prenatal", "general"}
)


def code_tokens(page: str, allowed: Iterable[str] = ()) -> list[str]:
    """The codes (see the module's docstring) in the text of ``page``; ``allowed``: words meant for
    people on this page (the user names shown)."""
    text = visible_text(page)
    for word in allowed:
        text = text.replace(word, " ")
    found = VERSIONED.findall(text) + _record_kinds().findall(text) + SNAKE.findall(text)
    found += [t for t in UPPER_HYPHENATED.findall(text) if not REGISTRY_NUMBER.match(t) and t not in FORMAT_NAMES]
    words = set(re.findall(r"\b[a-z][a-z0-9]+\b", text))
    found += sorted(words & choice_codes())
    return found
