"""Gunicorn settings, read from the environment like secondopinion/settings.py.

The container runs `gunicorn -c gunicorn.conf.py secondopinion.wsgi:application`; each value
below can be changed with the environment variable named beside it.
"""

from __future__ import annotations

import os


def _cpu_count() -> int:
    # The CPUs this process may run on (a container's cpuset), not every CPU of the host.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _workers() -> int:
    if value := os.environ.get("WEB_CONCURRENCY"):
        return int(value)
    # 2 * CPUs + 1, capped: each worker holds a Django process in memory, and past a few
    # workers the database and the object store are the limit, not Python.
    return min(2 * _cpu_count() + 1, int(os.environ.get("GUNICORN_MAX_WORKERS", "8")))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _workers()
# Threads mostly wait for the network (request bodies, the database, the object store). The
# slow-client guard keeps one per worker for pages and lets the others read bodies
# (secondopinion/slowclients.py): with 4, three uploads per worker go on at once.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Uploads stream through the encryptor at the client's speed; give slow phones time.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can't grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# Which proxies may set X-Forwarded-Proto and friends for gunicorn (comma-separated IPs or
# networks, or "*"). Django's own SECURE_PROXY_SSL_HEADER is set in settings.py.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# No access log: it would print raw paths, and paths carry password-reset and invitation tokens
# and report verification codes. The application logs one JSON line per request with the route
# pattern instead (secondopinion/observability.py).
accesslog = None
errorlog = "-"


def post_worker_init(worker: object) -> None:
    # The slow-client guard keeps one of this worker's threads free for pages
    # (secondopinion/slowclients.py): it needs to know how many there are.
    from secondopinion import slowclients

    slowclients.threads = threads
