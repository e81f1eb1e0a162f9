"""The visitor's address behind the TLS proxy, for rate limits, login lockouts and audit records.

Behind a reverse proxy, REMOTE_ADDR is the proxy's address: every visitor would share one login
lockout and one rate-limit counter, and the audit trail would name the proxy. The proxy adds the
address it saw to X-Forwarded-For. That header is believed only when the connection comes from
a network in TRUSTED_PROXIES, and then read from the right: each trusted hop is skipped and the
first address that is not a trusted proxy is the visitor (anything to its left was written by
the visitor and could be anything). Without TRUSTED_PROXIES the header is ignored.

A few lines of standard-library code rather than django-ipware: ipware matches trusted proxies
by string prefix, not by network, and this is the only thing needed from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())
    except ValueError as e:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {e}") from e


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(remote_addr: str, forwarded_for: str, trusted: tuple[str, ...]) -> str:
    """The visitor's address, given the peer's address and the X-Forwarded-For header."""
    networks = _networks(trusted)
    peer = _address(remote_addr)
    if not networks or peer is None or not forwarded_for or not any(peer in n for n in networks):
        return remote_addr
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:  # garbage from a hop we could not trust: keep the last sound one
            break
        client = address
        if not any(address in n for n in networks):
            break
    return str(client)


class ForwardedForMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = tuple(settings.TRUSTED_PROXIES)
        if trusted:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""), trusted
            )
        return self.get_response(request)
