from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

import audit
from accounts.models import User


class AuthedRequest(HttpRequest):
    """A request behind login_required/role_required: `user` is a real User."""

    user: User


def is_verified(user: Any) -> bool:
    """True once a second factor was verified in this session (set by django-otp's middleware)."""
    return bool(getattr(user, "is_verified", lambda: False)())


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Anonymous users go to the login page; signed-in users of another role get a 404,
    the same answer as for a page that does not exist."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.user.role not in roles:
                case_id = kwargs.get("case_id")
                audit.record(
                    request=request,
                    event_type="page.denied",
                    action=audit.Action.READ,
                    outcome=audit.Outcome.MINOR_FAILURE,
                    entity_type="Case" if case_id else "Page",
                    entity_id=str(case_id or getattr(request.resolver_match, "view_name", "")),
                    case_id=case_id,
                )
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def user_for_admin(request: HttpRequest, user_id: uuid.UUID | str) -> User:
    """A user's account for the admin console (admins-only views): 404 when missing. Reading a
    patient's account is a read of personal data, so it is audited."""
    user = User.objects.select_related("specialist_profile", "invited_by").filter(pk=user_id).first()
    if user is None:
        raise Http404
    audit.record(
        request=request,
        event_type="user.read",
        action=audit.Action.READ,
        entity_type="User",
        entity_id=str(user.pk),
        patient_id=user.pk if user.is_patient else None,
    )
    return user
