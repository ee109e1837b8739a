"""Existence answers under control: what a user learns of a record outside their scope.

Registering a person whose identity document is already registered answers that the document is in use:
beside the field, as for any error. When the record holding it lies outside the user's scope, the answer
carries no data of that person — only that the document is registered in another territory, and the way
to ask its coordinator for a transfer (:mod:`crecer.registry.transfers`). Such answers are:

* audited: one *search* event per answer, naming the record (its entity and id, the child) so an auditor
  sees whose existence was told to whom, and the document's type (never its number);
* rate-limited per user: ``CRECER_EXISTENCE_LOOKUPS_PER_HOUR`` answers an hour (20 by default), counted
  in the database (:mod:`crecer.accounts.throttle`), so that every worker process of the server shares the
  count; the hour's window opens at the first answer. Past the limit every document look-up of the user
  (found or not, so that the refusal says nothing either) is refused until the hour ends: 429 with
  Retry-After in the API, a message beside the field on a page, the row's error in an import.

The system (the command line, a country load) is never limited. An answer given inside a unit of work
rolled back as a whole (a FHIR transaction Bundle that fails, an import's trial run) keeps its count and
its event: both are written when that unit ends (:mod:`crecer.audit.outlasting`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from crecer.accounts import throttle
from crecer.audit import outlasting
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.validation import FieldError, InputErrors

#: the code of the answer "registered outside your scope" (API clients rely on it)
ELSEWHERE = "registered_elsewhere"
#: the code of the refusal past the limit
THROTTLED = "throttled"


class TooManyLookups(InputErrors):
    """The user asked about too many documents registered outside their scope this hour (HTTP 429)."""

    def __init__(self, field: str = "national_id", retry_after: int = 3600) -> None:
        self.retry_after = retry_after
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


WINDOW = 3600  # seconds: the limit is per hour
#: the app of the records an answer may be about, when not the registry's
TRACKING = {"encounter": "tracking", "screening": "tracking", "delivery": "tracking"}


def _key(user: Any) -> str:
    return f"existence:{user.pk}"


@dataclass(frozen=True)
class _Answer:
    """One answer "registered elsewhere": its count and its audit event, written together."""

    actor: Actor
    kind: str
    owner_id: int
    doc_type: str
    identifier: str = ""

    def write(self) -> None:
        assert self.actor.user is not None
        told = {"identifier": self.identifier} if self.identifier else {"document_type": self.doc_type}
        with transaction.atomic():
            throttle.hit(_key(self.actor.user), WINDOW)
            record(
                self.actor,
                Action.SEARCH,
                entity=f"{TRACKING.get(self.kind, 'registry')}.{self.kind}",
                entity_id=self.owner_id,
                child_id=self.owner_id if self.kind == "child" else None,
                after={**told, "answer": ELSEWHERE},
                note=f"{self.identifier or 'document'} registered outside the user's scope",
            )


def _held(user: Any) -> int:
    """Answers to ``user`` given inside a unit of work not ended yet (written when it ends)."""
    return sum(
        1
        for a in outlasting.held()
        if isinstance(a, _Answer) and a.actor.user is not None and a.actor.user.pk == user.pk
    )


def used(user: Any) -> int:
    """How many answers about out-of-scope records ``user`` got in the current hour's window."""
    return throttle.hits(_key(user), WINDOW) + _held(user) if user is not None else 0


def check(user: Any, field: str = "national_id") -> None:
    """Refuse (:class:`TooManyLookups`) a document look-up by a user past the limit (never the system)."""
    if user is not None and used(user) >= limit():
        wait = throttle.wait(_key(user), limit(), WINDOW)
        raise TooManyLookups(field, retry_after=wait or WINDOW)


def answered(
    actor: Actor | None, kind: str, owner_id: int, doc_type: str, field: str = "national_id", identifier: str = ""
) -> None:
    """Count and audit one answer "registered elsewhere" about the ``kind`` record ``owner_id`` (held by a
    document of ``doc_type``, or by another ``identifier``: an import's ``external_id``); refuse it
    past the limit. Inside a unit of work that may roll back as a whole (:mod:`crecer.audit.outlasting`)
    the count and the event are written when it ends, committed or not."""
    user = actor.user if actor is not None else None
    if user is None:
        return
    check(user, field)
    assert actor is not None
    answer = _Answer(actor, kind, owner_id, doc_type, identifier)
    if not outlasting.defer(answer):
        answer.write()


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


def key_message() -> str:
    """The answer about an import row's own key held by a record elsewhere, without any data of it."""
    return _(
        "A record with this external id is registered in another territory; it cannot be changed from here. "
        "You can request a transfer of a child or a person on the Transfers page."
    )
