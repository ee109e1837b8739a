"""Throttling of bad API tokens per client address.

Each bearer token that does not authenticate (unknown, revoked, expired, of a deactivated user) counts
against the client's address (:func:`crecer.accounts.addresses.client_address`). After
``CRECER_API_BAD_TOKEN_LIMIT`` failures within ``CRECER_API_BAD_TOKEN_WINDOW`` seconds every bearer
request from that address answers 429 with Retry-After until the window ends; reaching the limit is an
audit event (a lockout through the API). The counter lives in the database so that every worker
process of the server shares it.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crecer.accounts import events
from crecer.accounts.models import BadTokenCounter
from crecer.audit.models import Channel
from crecer.core.prepared import Lookup

#: the counter of an address that reached a number of failures in a window begun after a moment
_BLOCKED = Lookup(BadTokenCounter, where=[("address", "="), ("failures", ">="), ("window_start", ">")])


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CRECER_API_BAD_TOKEN_WINDOW)


def retry_after(address: str) -> int | None:
    """Seconds until ``address`` may try again, or None if it is not throttled."""
    now = timezone.now()
    # Every API request asks: SQL written once per process (crecer.core.prepared).
    counter = _BLOCKED.first(address, settings.CRECER_API_BAD_TOKEN_LIMIT, now - _window())
    if counter is None:
        return None
    return max(1, math.ceil((counter.window_start + _window() - now).total_seconds()))


def bad_token(request: HttpRequest, address: str) -> None:
    """Count one bad token from ``address``; the failure that reaches the limit is audited."""
    now = timezone.now()
    with transaction.atomic():
        counter, _created = BadTokenCounter.objects.select_for_update().get_or_create(
            address=address, defaults={"failures": 0, "window_start": now}
        )
        if counter.window_start <= now - _window():
            counter.failures, counter.window_start = 0, now
        counter.failures += 1
        counter.save(update_fields=["failures", "window_start"])
        if counter.failures == settings.CRECER_API_BAD_TOKEN_LIMIT:
            events.locked_out(request, "", address, channel=Channel.API)
