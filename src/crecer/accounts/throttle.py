"""Throttles: hits counted per key within a window, in the database so that every worker process of the
server shares the count (an in-process cache would give each of N workers its own count, N times the limit).

A key's window opens at its first hit and lasts ``seconds``; a hit after the window starts a new one.
Two throttles use it:

* bad API tokens per client address (:func:`bad_token`, :func:`token_limit`): each bearer token that does
  not authenticate (unknown, revoked, expired, of a deactivated user) counts against the client's address
  (:func:`crecer.accounts.addresses.client_address`). After ``CRECER_API_BAD_TOKEN_LIMIT`` failures within
  ``CRECER_API_BAD_TOKEN_WINDOW`` seconds every bearer request from that address answers 429 with
  Retry-After until the window ends; reaching the limit is an audit event (a lockout through the API);
* existence look-ups per user (:mod:`crecer.registry.existence`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crecer.accounts import events
from crecer.accounts.models import ThrottleCounter
from crecer.audit.models import Channel
from crecer.core.prepared import Lookup

#: the counter of a key that reached a number of hits in a window begun after a moment
_REACHED = Lookup(ThrottleCounter, where=[("key", "="), ("hits", ">="), ("window_start", ">")])


def hits(key: str, seconds: int) -> int:
    """The hits of ``key`` in its current window (0 once the window ended)."""
    since = timezone.now() - dt.timedelta(seconds=seconds)
    found = ThrottleCounter.objects.filter(key=key, window_start__gt=since).values_list("hits", flat=True)
    return next(iter(found), 0)


def reached(key: str, limit: int, seconds: int, now: dt.datetime) -> tuple[Lookup, tuple[Any, ...]]:
    """The look-up of ``key``'s counter if it reached ``limit`` hits in a window begun after ``now`` less
    ``seconds`` (SQL written once per process, crecer.core.prepared: every API request asks)."""
    return _REACHED, (key, limit, now - dt.timedelta(seconds=seconds))


def seconds_left(counter: ThrottleCounter | None, seconds: int, now: dt.datetime) -> int | None:
    """Seconds until the key of ``counter`` (found by :func:`reached`) may go on; None if it was not found."""
    if counter is None:
        return None
    return max(1, math.ceil((counter.window_start + dt.timedelta(seconds=seconds) - now).total_seconds()))


def wait(key: str, limit: int, seconds: int) -> int | None:
    """Seconds until ``key`` may go on when it reached ``limit`` hits in its window; None otherwise."""
    now = timezone.now()
    lookup, values = reached(key, limit, seconds, now)
    return seconds_left(lookup.first(*values), seconds, now)


def hit(key: str, seconds: int, n: int = 1) -> int:
    """Count ``n`` hits of ``key``; the count in its window after them."""
    now = timezone.now()
    with transaction.atomic():
        counter, _created = ThrottleCounter.objects.select_for_update().get_or_create(
            key=key, defaults={"hits": 0, "window_start": now}
        )
        if counter.window_start <= now - dt.timedelta(seconds=seconds):
            counter.hits, counter.window_start = 0, now
        counter.hits += n
        counter.save(update_fields=["hits", "window_start"])
    return counter.hits


def _token_key(address: str) -> str:
    return f"token:{address}"


def token_limit(address: str, now: dt.datetime) -> tuple[Lookup, tuple[Any, ...]]:
    """The look-up of whether ``address`` reached the bad-token limit, to run beside another (the token's,
    :func:`crecer.core.prepared.first_of_each`); its answer goes to :func:`token_wait`."""
    return reached(_token_key(address), settings.CRECER_API_BAD_TOKEN_LIMIT, settings.CRECER_API_BAD_TOKEN_WINDOW, now)


def token_wait(counter: ThrottleCounter | None, now: dt.datetime) -> int | None:
    """Seconds until the address may try a bearer token again, from what :func:`token_limit`'s look-up found;
    None if it is not throttled."""
    return seconds_left(counter, settings.CRECER_API_BAD_TOKEN_WINDOW, now)


def bad_token(request: HttpRequest, address: str) -> None:
    """Count one bad token from ``address``; the failure that reaches the limit is audited."""
    with transaction.atomic():
        count = hit(_token_key(address), settings.CRECER_API_BAD_TOKEN_WINDOW)
        if count == settings.CRECER_API_BAD_TOKEN_LIMIT:
            events.locked_out(request, "", address, channel=Channel.API)
