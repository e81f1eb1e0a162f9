"""Logs without patient data: one JSON object per line, tagged with the request (or task) id,
the user id (never a name) and the case id, and one line per request or task with its timing.

What may appear in a log line: ids (UUIDs), route patterns (never the path typed by the
visitor, never a query string), status codes, durations, codes. Django's own request loggers
print the raw path, so their lines are rewritten to the route here.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

log = logging.getLogger("secondopinion.request")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user_id: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="")
case_id: contextvars.ContextVar[str] = contextvars.ContextVar("case_id", default="")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Django loggers whose messages carry the raw request path as their first argument.
_PATH_LOGGERS = {"django.request", "django.server", "django.security.DisallowedHost", "django.security.csrf"}


class ContextFilter(logging.Filter):
    """Adds request_id, user_id and case_id to every record, and keeps out raw paths, Celery's
    task arguments and return values, and the text of exceptions."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = user_id.get()
        record.case_id = case_id.get()
        if record.name in _PATH_LOGGERS:
            request = getattr(record, "request", None)
            route = _route(request) if isinstance(request, HttpRequest) else "-"
            record.msg, record.args = "%s %s", (record.levelname.lower(), route)
            record.request = None  # the request object (headers, cookies) is not for logs
        if record.name.startswith("celery"):
            _celery_record(record)
        if record.exc_info:
            # An exception's text may quote what it failed on (an address an SMTP server refused,
            # the value of a unique key): the log keeps where it happened and its type.
            record.exc_text = _traceback_without_text(record.exc_info)
            record.exc_info = None
        return True


# Celery's task lines ("Task x[id] received", "... succeeded in 0.1s: <return value>", failures
# and retries with the exception's text) carry arguments, return values and exception texts, in
# the message and again in `extra={"data": ...}`, which the JSON formatter would print.
_CELERY_FIELDS = re.compile(r"%\((return_value|args|kwargs|exc|traceback)\)[sr]")


def _celery_record(record: logging.LogRecord) -> None:
    record.__dict__.pop("data", None)
    if isinstance(record.args, dict):
        record.msg = _CELERY_FIELDS.sub("(not logged)", str(record.msg))
        record.args = {
            k: v
            for k, v in record.args.items()
            if k in {"id", "name", "runtime", "description", "hostname", "eta", "internal"}
        }
    elif isinstance(record.args, tuple):  # e.g. "Task handler raised error: %r" with the exception
        record.args = tuple(type(a).__name__ if isinstance(a, BaseException) else a for a in record.args)


def _traceback_without_text(exc_info: Any) -> str:
    import traceback

    _type, exc, tb = exc_info
    frames = "".join(traceback.format_list(traceback.extract_tb(tb)))
    cause = f" (from {type(exc.__cause__).__name__})" if exc is not None and exc.__cause__ else ""
    return f"Traceback (most recent call last):\n{frames}{getattr(_type, '__name__', 'Exception')}{cause}"


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return f"{request.method} {match.route}" if match is not None else f"{request.method} (unresolved)"


class RequestLogMiddleware:
    """First in the chain: names the request, times it, logs one line when it ends, and
    returns the id in X-Request-ID so a user's report can be matched to the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        tokens = [request_id.set(rid), user_id.set(""), case_id.set("")]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            self._tag(request)
            route = getattr(request.resolver_match, "route", "") if request.resolver_match else ""
            duration = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "%s %s %s %sms",
                request.method,
                route or "-",
                response.status_code,
                duration,
                extra={
                    "method": request.method,
                    "route": route,
                    "view": getattr(request.resolver_match, "view_name", "") if request.resolver_match else "",
                    "status": response.status_code,
                    "duration_ms": duration,
                },
            )
            response["X-Request-ID"] = rid
            return response
        finally:
            for var, token in zip((request_id, user_id, case_id), tokens, strict=True):
                var.reset(token)

    @staticmethod
    def _tag(request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id.set(str(user.pk))
        match = request.resolver_match
        if match is not None and "case_id" in match.kwargs:
            case_id.set(str(match.kwargs["case_id"]))


def task_started(task_id: str, task_name: str, kwargs: dict[str, Any] | None) -> float:
    """Celery's task_prerun: tasks log under their own id (arguments are ids by design)."""
    request_id.set(task_id or "")
    case_id.set(str((kwargs or {}).get("case_id", "")))
    logging.getLogger("secondopinion.task").info("task started", extra={"task": task_name})
    return time.perf_counter()


def task_finished(task_name: str, state: str, started: float | None) -> None:
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    logging.getLogger("secondopinion.task").info(
        "task finished", extra={"task": task_name, "state": state, "duration_ms": duration}
    )
    request_id.set("")
    case_id.set("")


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry gets the error and the stack, never what the user sent or who they are."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {k: request[k] for k in ("method",) if k in request}
    event.pop("user", None)
    event.pop("breadcrumbs", None)
    return event


def init_sentry(dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=sentry_before_send,  # type: ignore[arg-type]
    )
