"""The client's address, believed from a reverse proxy only when that proxy is trusted.

A client can write any X-Forwarded-For it likes; only the entries added by our own proxies are true.
So the address is the peer's (REMOTE_ADDR) unless the peer is a trusted proxy; then X-Forwarded-For is
read from the right, skipping the trusted proxies, and the first address that is not one of them is
the client. Trusted proxies: ``settings.CRECER_TRUSTED_PROXIES`` (addresses or CIDR networks).
django-axes takes its address from here (``AXES_CLIENT_IP_CALLABLE``), and so does the API throttle.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CRECER_TRUSTED_PROXIES: {entry!r} is not an IP address or network (CIDR): {exc}"
            ) from exc
    return tuple(networks)


def trusted_networks() -> tuple[Network, ...]:
    """The networks of CRECER_TRUSTED_PROXIES (validated: a bad entry stops the server, naming it)."""
    return _networks(tuple(settings.CRECER_TRUSTED_PROXIES))


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted(address: str) -> bool:
    parsed = _parse(address)
    if parsed is None:
        return False
    return any(parsed in network for network in trusted_networks())


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (see the module's docstring)."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    if not is_trusted(peer):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            # A trusted proxy passed on something that is not an address: believe nothing beyond it.
            return peer
        if not is_trusted(hop):
            return str(parsed)
    # No header, or every hop is one of our proxies: the furthest of them.
    return str(_parse(hops[0])) if hops else peer
