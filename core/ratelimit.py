"""Attempts per client address (or per account) in a fixed window, counted in the shared cache so that every web
process counts together. The address is hashed before it becomes a cache key."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest


def over_limit(request: HttpRequest, *, scope: str, rate: tuple[int, int], key: str = "") -> bool:
    """Count one attempt of this client at `scope`; True once it is over `rate` = (attempts,
    seconds). Each scope has its own counter. `key` counts per something else than the address
    (an account), for attempts that must not be spread over many addresses."""
    attempts, seconds = rate
    client = key or str(request.META.get("REMOTE_ADDR") or "unknown")
    key = f"ratelimit:{scope}:" + hashlib.sha256(client.encode()).hexdigest()[:32]
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        count = 1
    return int(count) > int(attempts)
