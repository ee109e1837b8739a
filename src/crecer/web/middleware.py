"""Response headers that the security middleware of Django 5.2 does not set."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from contextlib import suppress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Everything is served from this origin: no CDN, no inline script (htmx reads hx-* attributes).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # Person data must not linger in shared browsers' or proxies' caches.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# --- behind a reverse proxy ----------------------------------------------------------------------


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CRECER_TRUSTED_PROXIES: {entry!r} is not an IP address or network (CIDR): {exc}"
            ) from exc
    return tuple(networks)


def trusted_networks() -> tuple[Network, ...]:
    """The networks of CRECER_TRUSTED_PROXIES (validated; a bad entry stops the server with its name)."""
    return _networks(tuple(settings.CRECER_TRUSTED_PROXIES))


def is_trusted_proxy(address: str, networks: Iterable[Network] | None = None) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in (trusted_networks() if networks is None else networks))


class TrustedProxyMiddleware:
    """Believe X-Forwarded-Proto and X-Forwarded-For only from the configured reverse proxies.

    A TLS-terminating proxy talks plain HTTP to the server and says ``X-Forwarded-Proto: https``. From a
    peer in CRECER_TRUSTED_PROXIES the request is marked as HTTPS (so the HTTPS redirect, secure cookies
    and CSRF's origin check see the truth) and REMOTE_ADDR becomes the client's address: the rightmost
    X-Forwarded-For entry that is not itself a trusted proxy (the entries to its left were written by
    the client and prove nothing). From any other peer the headers are ignored. Either way both headers
    are removed, so nothing downstream (login throttling, logs) can read a forged value; the peer's own
    address is kept in ``META["CRECER_PEER_ADDR"]``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = trusted_networks()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        meta["CRECER_PEER_ADDR"] = peer
        proto = meta.pop("HTTP_X_FORWARDED_PROTO", "")
        forwarded_for = meta.pop("HTTP_X_FORWARDED_FOR", "")
        if self.networks and is_trusted_proxy(peer, self.networks):
            # The proxy may append to a list; the last value is the one it set.
            if proto.split(",")[-1].strip().lower() == "https":
                meta["wsgi.url_scheme"] = "https"
            hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
            while hops and is_trusted_proxy(hops[-1], self.networks):
                hops.pop()
            if hops:
                with suppress(ValueError):  # not an address: keep the proxy's own
                    meta["REMOTE_ADDR"] = str(ipaddress.ip_address(hops[-1].strip("[]")))
        return self.get_response(request)
