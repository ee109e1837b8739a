"""Existence answers under control: what a user learns of a record outside their scope.

Registering a person whose identity document is already registered answers that the document is in use:
beside the field, as for any error. When the record holding it lies outside the user's scope, the answer
carries no data of that person — only that the document is registered in another territory, and the way
to ask its coordinator for a transfer (:mod:`crecer.registry.transfers`). Such answers are:

* audited: one *search* event per answer, naming the record (its entity and id, the child) so an auditor
  sees whose existence was told to whom, and the document's type (never its number);
* rate-limited per user: ``CRECER_EXISTENCE_LOOKUPS_PER_HOUR`` answers an hour (20 by default), counted
  in the cache. Past the limit every document look-up of the user (found or not, so that the refusal says
  nothing either) is refused until the hour ends: 429 in the API, a message beside the field on a page,
  the row's error in an import.

The system (the command line, a country load) is never limited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.validation import FieldError, InputErrors

#: the code of the answer "registered outside your scope" (API clients rely on it)
ELSEWHERE = "registered_elsewhere"
#: the code of the refusal past the limit
THROTTLED = "throttled"


class TooManyLookups(InputErrors):
    """The user asked about too many documents registered outside their scope this hour (HTTP 429)."""

    def __init__(self, field: str = "national_id") -> None:
        super().__init__(
            {
                field: [
                    FieldError(
                        THROTTLED,
                        _(
                            "Too many look-ups of documents registered in other territories this hour; "
                            "try again later or ask your coordinator."
                        ),
                    )
                ]
            }
        )


def limit() -> int:
    return int(getattr(settings, "CRECER_EXISTENCE_LOOKUPS_PER_HOUR", 20))


def _key(user: Any) -> str:
    return f"crecer:existence:{user.pk}:{timezone.now():%Y%m%d%H}"


def used(user: Any) -> int:
    """How many answers about out-of-scope records ``user`` got this hour."""
    return int(cache.get(_key(user), 0)) if user is not None else 0


def check(user: Any, field: str = "national_id") -> None:
    """Refuse (:class:`TooManyLookups`) a document look-up by a user past the limit (never the system)."""
    if user is not None and used(user) >= limit():
        raise TooManyLookups(field)


def answered(actor: Actor | None, kind: str, owner_id: int, doc_type: str, field: str = "national_id") -> None:
    """Count and audit one answer "registered elsewhere" about the ``kind`` record ``owner_id``; refuse it
    past the limit."""
    user = actor.user if actor is not None else None
    if user is None:
        return
    check(user, field)
    key = _key(user)
    if not cache.add(key, 1, timeout=3600):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, timeout=3600)
    assert actor is not None
    record(
        actor,
        Action.SEARCH,
        entity=f"registry.{kind}",
        entity_id=owner_id,
        child_id=owner_id if kind == "child" else None,
        after={"document_type": doc_type, "answer": ELSEWHERE},
        note="document registered outside the user's scope",
    )


def message(kind: str) -> str:
    """The answer, without any data of the person."""
    if kind == "child":
        return _(
            "A child with this document is registered in another territory. "
            "You can request a transfer of the record on the Transfers page; that territory's coordinator decides."
        )
    return _(
        "A person with this document is registered in another territory. "
        "You can request a transfer of the record on the Transfers page; that territory's coordinator decides."
    )
