"""The admin console: users, invitations, specialists, turnaround, consent versions, case metadata
and the break-glass read. Admins only (MFA-verified by the middleware); no clinical content here.
The audit review pages are in console/audit_views.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import user_has_device

import audit
from accounts import services as account_services
from accounts.access import AuthedRequest, role_required, user_for_admin
from accounts.forms import InviteForm, SpecialistProfileForm
from accounts.models import Role, User
from accounts.stepup import has_recent_stepup, stepup_redirect
from cases import coverage
from cases.access import METADATA_FIELDS, case_for_user
from cases.models import BreakGlass, Case, ConsentVersion
from console import services
from console.forms import (
    BreakGlassForm,
    CaseFilterForm,
    ClinicDetailsForm,
    ConsentVersionForm,
    FeesForm,
    TurnaroundForm,
    UserFilterForm,
    UserStatus,
)
from core.clinic import details
from uploads.models import Upload

PAGE_SIZE = 50


def _refusal(code: str) -> str:
    return {
        "self": _("You cannot do this to your own account. Ask another administrator."),
        "last_admin": _("This is the last active administrator. Invite or reactivate another administrator first."),
    }[code]


def _page(request: AuthedRequest, items: QuerySet[Any]) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


@role_required(Role.ADMIN)
def console(request: AuthedRequest) -> HttpResponse:
    by_role = dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")))
    return render(
        request,
        "console/home.html",
        {
            "by_role": [(label, by_role.get(code, 0)) for code, label in Role.choices],
            "waiting": Case.objects.unassigned().count(),
            "stranded": coverage.stranded(),
            "clinic_unreachable": not details().reachable,
            "invited": User.objects.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX).count(),
        },
    )


@role_required(Role.ADMIN)
def clinic(request: AuthedRequest) -> HttpResponse:
    form = ClinicDetailsForm(request.POST or None, instance=details())
    if request.method == "POST" and form.is_valid():
        changed = services.clinic_update(actor=request.user, details=form.instance)
        messages.success(request, _("Clinic details saved.") if changed else _("Nothing changed."))
        return redirect("console:console_clinic")
    return render(request, "console/clinic.html", {"form": form}, status=400 if form.errors else 200)


@role_required(Role.ADMIN)
def invite(request: AuthedRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, initial={"role": Role.SPECIALIST, "language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        account_services.user_invite(invited_by=request.user, **form.cleaned_data)
        messages.success(request, _("Invitation sent. The link works for 3 days."))
        return redirect("console:console")
    return render(request, "console/invite.html", {"form": form})


def _filter_users(users: QuerySet[User], data: dict[str, str]) -> QuerySet[User]:
    if data.get("role"):
        users = users.filter(role=data["role"])
    invited = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)  # the invitation is not accepted yet
    status = data.get("status")
    if status == UserStatus.DEACTIVATED:
        users = users.filter(is_active=False)
    elif status == UserStatus.INVITED:
        users = users.filter(invited, is_active=True)
    elif status == UserStatus.ACTIVE:
        users = users.filter(is_active=True).exclude(invited)
    return users


@role_required(Role.ADMIN)
def users(request: AuthedRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    found = User.objects.order_by("role", "email")
    if form.is_valid():
        found = _filter_users(found, form.cleaned_data)
    return render(request, "console/users.html", {"form": form, "page_obj": _page(request, found)})


@role_required(Role.ADMIN)
def user_detail(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    target = user_for_admin(request, user_id)
    return render(
        request,
        "console/user.html",
        {
            "target": target,
            "mfa_enrolled": user_has_device(target, confirmed=True),
            "profile": getattr(target, "specialist_profile", None),
        },
    )


def _confirm_then(
    request: AuthedRequest, target: User, template: str, action: Callable[[], None], done: str
) -> HttpResponse:
    """GET shows the confirmation page; POST runs the action and goes back to the user's page."""
    if request.method != "POST":
        return render(request, template, {"target": target})
    try:
        action()
    except services.Refused as e:
        messages.error(request, _refusal(e.code))
    else:
        messages.success(request, done)
    return redirect("console:console_user", target.pk)


@role_required(Role.ADMIN)
def user_deactivate(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    target = user_for_admin(request, user_id)
    return _confirm_then(
        request,
        target,
        "console/user_deactivate.html",
        lambda: services.user_deactivate(user=target, by=request.user),
        _("The account is deactivated and all its sessions have ended."),
    )


@require_POST
@role_required(Role.ADMIN)
def user_reactivate(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    target = user_for_admin(request, user_id)
    services.user_reactivate(actor=request.user, user=target)
    messages.success(request, _("The account is active again."))
    return redirect("console:console_user", target.pk)


@role_required(Role.ADMIN)
def user_mfa_reset(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    """Both the confirmation and the reset need a fresh factor of the admin."""
    target = user_for_admin(request, user_id)
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    return _confirm_then(
        request,
        target,
        "console/user_mfa_reset.html",
        lambda: services.user_mfa_reset(user=target, by=request.user),
        _("Two-step verification is reset. We have e-mailed the person to set it up again."),
    )


@role_required(Role.ADMIN)
def specialist_edit(request: AuthedRequest, user_id: uuid.UUID) -> HttpResponse:
    target = user_for_admin(request, user_id)
    profile = getattr(target, "specialist_profile", None)
    if profile is None:
        raise Http404
    initial = {
        "licence_number": profile.licence_number,
        "specialties": profile.specialties,
        "jurisdictions": ", ".join(profile.jurisdictions),
    }
    form = SpecialistProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.specialist_profile_update(actor=request.user, profile=profile, **form.cleaned_data)
        messages.success(request, _("The specialist's details are saved."))
        return redirect("console:console_user", target.pk)
    return render(request, "console/specialist_edit.html", {"target": target, "form": form})


@role_required(Role.ADMIN)
def turnaround(request: AuthedRequest) -> HttpResponse:
    form = TurnaroundForm(
        request.POST or None, current=services.turnaround_current(), medians=services.turnaround_medians()
    )
    if request.method == "POST" and form.is_valid():
        changed = services.turnaround_update(actor=request.user, hours=form.cleaned_data)
        messages.success(request, _("Turnaround saved.") if changed else _("Nothing changed."))
        return redirect("console:console_turnaround")
    return render(request, "console/turnaround.html", {"form": form})


@role_required(Role.ADMIN)
def consent_versions(request: AuthedRequest) -> HttpResponse:
    versions = (
        ConsentVersion.objects.annotate(cases=Count("consentacceptance__case", distinct=True))
        .order_by("-version")
        .defer("text_en", "text_es")
    )
    return render(request, "console/consent_versions.html", {"versions": versions})


@role_required(Role.ADMIN)
def consent_version(request: AuthedRequest, version: int) -> HttpResponse:
    found = ConsentVersion.objects.filter(version=version).first()
    if found is None:
        raise Http404
    return render(request, "console/consent_version.html", {"version": found})


@role_required(Role.ADMIN)
def consent_publish(request: AuthedRequest) -> HttpResponse:
    form = ConsentVersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        version = services.consent_publish(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Consent version %(n)d is published.") % {"n": version.version})
        return redirect("console:console_consent_versions")
    return render(request, "console/consent_publish.html", {"form": form, "current": ConsentVersion.current()})


def _filter_cases(cases: QuerySet[Case], data: dict[str, str]) -> QuerySet[Case]:
    if data.get("reference"):
        cases = cases.filter(reference__icontains=data["reference"])
    for field in ("status", "specialty", "country"):
        if data.get(field):
            cases = cases.filter(**{field: data[field]})
    return cases


@role_required(Role.ADMIN)
def cases(request: AuthedRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    found: QuerySet[Case] = Case.objects.only(*METADATA_FIELDS).order_by("-created_at", "id")
    if form.is_valid():
        found = _filter_cases(found, form.cleaned_data)
    page = _page(request, found)
    audit.record(
        actor=request.user,
        event_type="console.cases.read",
        action=audit.Action.READ,
        entity_type="Case",
        detail={"cases": [c.pk for c in page]},
    )
    return render(
        request,
        "console/cases.html",
        {"form": form, "page_obj": page, "filtered": any(request.GET.get(f) for f in form.fields)},
    )


def _case_page(request: AuthedRequest, case: Case, form: BreakGlassForm) -> HttpResponse:
    files = Upload.objects.filter(case=case).counted().aggregate(n=Count("pk"), size=Sum("size"))
    return render(
        request,
        "console/case.html",
        {
            "case": case,
            "files": files,
            "form": form,
            "specialist": User.objects.filter(pk=case.specialist_id).only("full_name").first()
            if case.specialist_id
            else None,
            "events": case.events.select_related("actor").only(
                "old_status", "new_status", "reason", "at", "actor__role"
            ),
            "break_glass": BreakGlass.objects.filter(case=case).select_related("admin"),
            "break_glass_minutes": settings.BREAK_GLASS_MINUTES,
        },
    )


@role_required(Role.ADMIN)
def case_detail(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    return _case_page(request, case_for_user(request, case_id, metadata_only=True), BreakGlassForm())


@require_POST
@role_required(Role.ADMIN)
def break_glass(request: AuthedRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_user(request, case_id, metadata_only=True)
    form = BreakGlassForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, form)
    services.break_glass_open(case=case, admin=request.user, reason=form.cleaned_data["reason"])
    return redirect("cases:detail", case.pk)


@role_required(Role.ADMIN)
def fees(request: AuthedRequest) -> HttpResponse:
    form = FeesForm(request.POST or None, current=services.fees_current())
    if request.method == "POST" and form.is_valid():
        changed = services.fees_update(actor=request.user, fees=form.cleaned_data)
        messages.success(request, _("Fees saved.") if changed else _("Nothing changed."))
        return redirect("console:console_fees")
    return render(request, "console/fees.html", {"form": form, "currency": settings.FEE_CURRENCY})
