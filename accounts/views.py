from __future__ import annotations

import time
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice

import audit
from accounts import mfa, services
from accounts.access import AuthedRequest, is_verified
from accounts.forms import (
    CodeForm,
    EmailForm,
    EnrolForm,
    LanguageForm,
    LoginForm,
    PasswordConfirmForm,
    RegisterForm,
    ResetForm,
    TimeZoneForm,
)
from accounts.models import Role, User
from accounts.stepup import DONE_MESSAGES, mark_stepped_up, stepup_required
from accounts.tokens import invitation_token, read_email_verification_token
from core import ratelimit


def _wrong_code() -> str:
    return _("That code is not right, has been used already or has expired. Try the code the app shows now.")


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    return render(request, "landing.html")


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    target: dict[str, str] = {
        Role.PATIENT: "cases:patient_home",
        Role.SPECIALIST: "reports:specialist_home",
        Role.ADMIN: "console:console",
    }
    return redirect(target[request.user.role])


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this when an account is locked after too many bad passwords."""
    return render(request, "accounts/locked_out.html", status=429)


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = RegisterForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services.patient_register(
            full_name=d["full_name"], email=d["email"], password=d["password1"], language=d["language"]
        )
        return redirect("accounts:register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user_id = read_email_verification_token(token)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return render(request, "accounts/verify_email_invalid.html", status=400)
    services.email_verify(user=user)
    messages.success(request, _("Your e-mail address is confirmed. You can sign in now."))
    return redirect("accounts:login")


def resend_verification(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.verification_resend(email=form.cleaned_data["email"].lower())
        return redirect("accounts:register_done")
    return render(request, "accounts/resend_verification.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        from axes.utils import reset as axes_reset

        response = super().form_valid(form)
        user = form.user
        axes_reset(username=user.email)  # a new password lifts the lockout
        user.end_all_sessions()
        audit.record(
            request=self.request,
            actor=user,
            event_type="password.reset",
            action=audit.Action.UPDATE,
            entity_type="User",
            entity_id=str(user.pk),
        )
        return response


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: the invited specialist/admin chooses a password, then enrols MFA."""

    template_name = "accounts/invitation_accept.html"
    token_generator = invitation_token
    reset_url_token = "set-password"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("accounts:mfa_enrol")

    def form_valid(self, form: Any) -> HttpResponse:
        services.invitation_accept(user=form.user)
        return super().form_valid(form)


def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:login")
    if user_has_device(user, confirmed=True):
        return redirect("accounts:security" if is_verified(user) else "accounts:mfa_verify")
    device = services.totp_device_for_enrolment(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = mfa.enrolment_code_check(device=device, code=form.cleaned_data["code"])
        if check.device is not None:
            codes = services.mfa_enrol_confirm(user=user, device=device)
            update_session_auth_hash(request, user)  # this session goes on
            otp_login(request, device)
            request.session.cycle_key()
            request.session["new_backup_codes"] = codes
            return redirect(reverse("accounts:backup_codes") + "?" + _safe_next_query(request))
        form.add_error(
            "code", check.problem(_("That code is not right or has expired. Enter the code the app shows now."))
        )
    uri = device.config_url
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": segno.make(uri, error="m").svg_inline(scale=5, title=_("QR code for your authenticator app")),
            "secret": _base32(device.bin_key),
            "next": _next_url(request, ""),
        },
    )


def _safe_next_query(request: HttpRequest) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": _next_url(request, reverse("accounts:home"))})


def _base32(key: bytes) -> str:
    import base64

    raw = base64.b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if is_verified(request.user):
        return redirect(_next_url(request, reverse("accounts:home")))
    if not user_has_device(request.user, confirmed=True):
        return redirect("accounts:mfa_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = mfa.code_check(user=request.user, code=form.cleaned_data["code"])
        if check.device is not None:
            otp_login(request, check.device)
            request.session.cycle_key()
            audit.record(
                request=request,
                event_type="mfa.verify",
                action=audit.Action.EXECUTE,
                entity_type="User",
                entity_id=str(request.user.pk),
            )
            return redirect(_next_url(request, reverse("accounts:home")))
        audit.record(
            request=request,
            event_type="mfa.verify.failed",
            action=audit.Action.EXECUTE,
            outcome=audit.Outcome.MINOR_FAILURE,
            entity_type="User",
            entity_id=str(request.user.pk),
            detail=check.audit_detail(),
        )
        form.add_error("code", check.problem(_wrong_code()))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request, "")})


@login_required
def backup_codes(request: AuthedRequest) -> HttpResponse:
    codes = request.session.pop("new_backup_codes", None)
    if not codes:
        return redirect("accounts:security")
    return render(
        request, "accounts/backup_codes.html", {"codes": codes, "next": _next_url(request, reverse("accounts:home"))}
    )


@login_required
def security(request: AuthedRequest) -> HttpResponse:
    static = StaticDevice.objects.filter(user=request.user).first()
    return render(
        request,
        "accounts/security.html",
        {
            "has_mfa": user_has_device(request.user, confirmed=True),
            "backup_codes_left": static.token_set.count() if static else 0,
            "language_form": LanguageForm(instance=request.user),
            "time_zone_form": TimeZoneForm(instance=request.user),
        },
    )


@require_POST
@login_required
def keep_alive(request: AuthedRequest) -> HttpResponse:
    """ "Stay signed in" in the sign-out warning: the session counts as active from now."""
    request.session["last_seen"] = time.time()
    return HttpResponse(status=204)


@require_POST
@login_required
def time_zone(request: AuthedRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, _("Your time zone is saved."))
    else:
        messages.error(request, str(form.errors["time_zone"][0]))
    return redirect("accounts:security")


@require_POST
@login_required
@stepup_required
def backup_codes_regenerate(request: AuthedRequest) -> HttpResponse:
    codes = services.backup_codes_regenerate(user=request.user)
    services.factor_changed(user=request.user, event_type="mfa.backup_codes")
    update_session_auth_hash(request, request.user)  # this session goes on
    request.session["new_backup_codes"] = codes
    return redirect("accounts:backup_codes")


@require_POST
@login_required
@stepup_required
def mfa_remove(request: AuthedRequest) -> HttpResponse:
    if request.user.is_care_staff:
        messages.error(request, _("Specialists and administrators must keep two-step verification."))
        return redirect("accounts:security")
    services.mfa_remove(user=request.user)
    update_session_auth_hash(request, request.user)  # this session goes on
    messages.success(request, _("Two-step verification is off."))
    return redirect("accounts:security")


def _password_tries_over(request: AuthedRequest) -> bool:
    """The password step-up has no device throttle (codes do: django-otp): a few tries per
    account in a window, wherever they come from."""
    return ratelimit.over_limit(
        request, scope="stepup-password", rate=settings.STEP_UP_PASSWORD_RATE, key=str(request.user.pk)
    )


@login_required
def step_up(request: AuthedRequest) -> HttpResponse:
    with_code = user_has_device(request.user, confirmed=True)
    form = (CodeForm if with_code else PasswordConfirmForm)(request.POST or None)
    if request.method == "POST" and not with_code and _password_tries_over(request):
        form.is_valid()
        minutes = settings.STEP_UP_PASSWORD_RATE[1] // 60
        form.add_error(
            "password",
            _("Too many wrong passwords. Wait %(minutes)d minutes and try again, or sign out and in again.")
            % {"minutes": minutes},
        )
    elif request.method == "POST" and form.is_valid():
        check = mfa.code_check(user=request.user, code=form.cleaned_data["code"]) if with_code else None
        ok = (
            check.device is not None
            if check is not None
            else request.user.check_password(form.cleaned_data["password"])
        )
        audit.record(
            request=request,
            event_type="stepup",
            action=audit.Action.EXECUTE,
            outcome=audit.Outcome.SUCCESS if ok else audit.Outcome.MINOR_FAILURE,
            entity_type="User",
            entity_id=str(request.user.pk),
            detail=check.audit_detail() if check is not None else None,
        )
        if ok:
            mark_stepped_up(request)
            done = DONE_MESSAGES.get(request.GET.get("done", ""))
            if done:
                messages.success(request, done)
            return redirect(_next_url(request, reverse("accounts:security")))
        if check is not None:
            form.add_error("code", check.problem(_wrong_code()))
        else:
            form.add_error("password", _("That is not right. Try again."))
    return render(
        request, "accounts/step_up.html", {"form": form, "with_code": with_code, "next": _next_url(request, "")}
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The visitor switcher; a signed-in user's choice is also saved to their account."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        form = LanguageForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
    return response
