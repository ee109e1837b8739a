"""Response headers that the security middleware of Django 5.2 does not set."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from crecer.accounts.addresses import client_address, is_trusted, trusted_networks

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
        self.networks = trusted_networks()  # validated once, at start

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        meta["CRECER_PEER_ADDR"] = peer
        if self.networks and is_trusted(peer):
            # The proxy may append to a list; the last value is the one it set.
            if meta.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower() == "https":
                meta["wsgi.url_scheme"] = "https"
            # The one rule of the client's address (also django-axes' and the API throttle's).
            meta["REMOTE_ADDR"] = client_address(request)
        meta.pop("HTTP_X_FORWARDED_PROTO", None)
        meta.pop("HTTP_X_FORWARDED_FOR", None)
        return self.get_response(request)
