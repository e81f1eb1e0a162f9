"""Where the audit events of a request come from: the client's address and user agent.

AuditContextMiddleware (right after the proxy middleware has set REMOTE_ADDR) keeps them in a
context variable for the request's life, so services take `actor=` and never a request; an event
recorded outside a request (a task, a command) has no address and no user agent.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str


NOBODY = Client(ip=None, user_agent="")
client: contextvars.ContextVar[Client] = contextvars.ContextVar("audit_client", default=NOBODY)


def client_of(request: HttpRequest) -> Client:
    meta = request.META
    return Client(ip=_ip(meta.get("REMOTE_ADDR")), user_agent=meta.get("HTTP_USER_AGENT", "").replace("\x00", "")[:256])


def _ip(value: str | None) -> str | None:
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client.set(client_of(request))
        try:
            return self.get_response(request)
        finally:
            client.reset(token)
