"""The audit review pages of the console: search, CSV/FHIR export, the monthly access review and
its sign-off."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

import audit
from accounts.access import AuthedRequest, role_required
from accounts.models import Role
from accounts.stepup import has_recent_stepup, stepup_redirect
from audit.checkpoint import Checkpoint, latest_checkpoint
from console import review
from console.export import audit_export
from console.forms import AuditSearchForm, SignOffForm, last_full_month, month_start, parse_month
from console.models import AuditReview
from core.responses import attachment

PAGE_SIZE = 50


def _search_form(request: AuthedRequest) -> AuditSearchForm:
    return AuditSearchForm(request.GET if set(request.GET) - {"page"} else None)


@require_GET
@role_required(Role.ADMIN)
def search(request: AuthedRequest) -> HttpResponse:
    form = _search_form(request)
    if not form.is_bound or not form.is_valid():
        return render(request, "console/search.html", {"form": form})
    filters = form.filters()
    canonical = {k: v for k, v in request.GET.items() if k in form.fields and v}
    if canonical != filters:  # an e-mail address was typed: the address bar keeps ids only
        return redirect(review.search_url(**filters))
    page = Paginator(review.search_events(filters).select_related("actor"), PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(
        actor=request.user,
        event_type="audit.search",
        action=audit.Action.READ,
        entity_type="AuditEvent",
        detail={"filters": filters, "page": page.number},
    )
    references = review.case_references({e.case_id for e in page if e.case_id})
    rows = [(e, references.get(e.case_id, "") if e.case_id else "") for e in page]
    return render(
        request, "console/search.html", {"form": form, "page_obj": page, "rows": rows, "query": urlencode(filters)}
    )


def _export(request: AuthedRequest, fmt: str) -> HttpResponseBase:
    if not has_recent_stepup(request):
        return stepup_redirect(request)
    form = AuditSearchForm(request.GET)  # no filter at all exports the whole trail
    if not form.is_valid():
        messages.error(request, _("Correct the search before exporting it."))
        return redirect("console:search")
    filters = form.filters()
    stream = audit_export(actor=request.user, events=review.search_events(filters), fmt=fmt, filters=filters)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/fhir+json"
    extension = "csv" if fmt == "csv" else "json"
    return attachment(StreamingHttpResponse(stream, content_type=content_type), f"audit-{stamp}.{extension}")


@require_GET
@role_required(Role.ADMIN)
def export_csv(request: AuthedRequest) -> HttpResponseBase:
    return _export(request, "csv")


@require_GET
@role_required(Role.ADMIN)
def export_fhir(request: AuthedRequest) -> HttpResponseBase:
    return _export(request, "fhir")


def _latest_checkpoint() -> Checkpoint | None:
    try:
        return latest_checkpoint()
    except (OSError, BotoCoreError, ClientError):  # the page still works while the store is away
        return None


def _access_review_page(request: AuthedRequest, month: Any, form: SignOffForm, status: int = 200) -> HttpResponse:
    report = review.access_review(month=month)
    audit.record(
        actor=request.user,
        event_type="audit.access_review.read",
        action=audit.Action.READ,
        entity_type="AuditEvent",
        detail={"month": f"{month:%Y-%m}"},
    )
    return render(
        request,
        "console/access_review.html",
        {
            "report": report,
            "form": form,
            "month": month,
            "checkpoint": _latest_checkpoint(),
            "signed": AuditReview.objects.filter(month=month).select_related("signed_by").first(),
            "sign_offs": AuditReview.objects.select_related("signed_by")[:24],
            "can_sign": month <= month_start(timezone.now().date()),
        },
        status=status,
    )


@require_GET
@role_required(Role.ADMIN)
def access_review(request: AuthedRequest) -> HttpResponse:
    month = parse_month(request.GET.get("month")) or last_full_month(timezone.now().date())
    if request.GET.get("month") and parse_month(request.GET["month"]) is None:
        messages.error(request, _("Enter the month as year-month, like 2025-01. Showing the last full month."))
    return _access_review_page(request, month, SignOffForm(initial={"month": f"{month:%Y-%m}"}))


@require_POST
@role_required(Role.ADMIN)
def sign_off(request: AuthedRequest) -> HttpResponse:
    form = SignOffForm(request.POST)
    if not form.is_valid():
        month = parse_month(request.POST.get("month")) or last_full_month(timezone.now().date())
        return _access_review_page(request, month, form)
    month = form.cleaned_data["month"]
    try:
        review.audit_review_sign_off(
            admin=request.user, month=month, checks=form.cleaned_data["checks"], note=form.cleaned_data["note"]
        )
    except review.AlreadySigned:
        messages.error(request, _("This month was already signed off."))
    else:
        messages.success(request, _("The review of %(month)s is signed off.") % {"month": f"{month:%Y-%m}"})
    return redirect(reverse("console:access_review") + "?" + urlencode({"month": f"{month:%Y-%m}"}))


@require_POST
@role_required(Role.ADMIN)
def verify_chain(request: AuthedRequest) -> HttpResponse:
    """Check the audit chain now and say what was found (the page, not a command line)."""
    back = redirect(reverse("console:access_review") + "#sign-off")
    try:
        check = review.audit_chain_check(admin=request.user)
    except (OSError, BotoCoreError, ClientError):
        messages.error(
            request, _("The audit chain could not be checked: the file store is not answering. Try again later.")
        )
        return back
    if not check.ok and check.broken_id is not None:
        messages.error(
            request,
            _(
                "The audit chain is broken at event %(id)d: it was edited, inserted or deleted outside the "
                "application. The other administrators have been told."
            )
            % {"id": check.broken_id},
        )
    elif not check.ok:
        messages.error(
            request,
            _(
                "The audit chain does not match its newest signed checkpoint: events may have been removed from its end."
            ),
        )
    else:
        messages.success(
            request,
            ngettext(
                "The audit chain is intact: %(n)d event verified, and a signed checkpoint is saved.",
                "The audit chain is intact: %(n)d events verified, and a signed checkpoint is saved.",
                check.count,
            )
            % {"n": check.count},
        )
    return back
