"""Every URL × role. A URL missing from MATRIX fails the suite, so a new page cannot ship
without a decision about who may reach it. Forbidden role pages answer 404, like missing ones.

Roles: anonymous, patient A (who owns the cases), patient B, the specialist assigned to A's
case, another specialist, an admin (all staff MFA-verified), and a specialist/admin who signed
in with a password but has not verified a second factor: those reach nothing but enrolment,
verification and sign-out. Every case URL answers a stranger exactly as it answers for a case
that does not exist (404), and each such read or denial leaves an audit event."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from audit.models import AuditEvent
from cases.models import Status
from tests.accounts.matrix import (
    ALL_URL_NAMES,
    CASE_KWARGS,
    CASES,
    SAMPLE_KWARGS,
    _kwargs,
    _url,
)

ROLES = [
    "anonymous",
    "patient_a",
    "patient_b",
    "specialist",
    "other_specialist",
    "admin",
    "unverified_specialist",
    "unverified_admin",
]
LOGIN = "/accounts/login/"
MFA = "/accounts/mfa/"
STEP_UP = "/accounts/security/step-up/"

OWNER_ONLY: dict[str, Any] = {
    "anonymous": LOGIN,
    "patient_a": 200,
    "patient_b": 404,
    "specialist": 404,
    "other_specialist": 404,
    "admin": 404,
    "*": MFA,
}

LEAD_ONLY: dict[str, Any] = {
    "anonymous": LOGIN,
    "specialist": 200,
    "patient_a": 404,
    "patient_b": 404,
    "other_specialist": 404,
    "admin": 404,
    "*": MFA,
}
ADMIN_ONLY: dict[str, Any] = {
    "anonymous": LOGIN,
    "admin": 200,
    "patient_a": 404,
    "patient_b": 404,
    "specialist": 404,
    "other_specialist": 404,
    "*": MFA,
}
# The review pages: the specialist assigned to the case (colleagues and earlier authors too).
SPECIALIST_ONLY: dict[str, Any] = {
    "anonymous": LOGIN,
    "specialist": 200,
    "patient_a": 404,
    "patient_b": 404,
    "other_specialist": 404,
    "admin": 404,
    "*": MFA,
}
POST_ONLY: dict[str, Any] = {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA}

# Expected GET result per role: an int status, or a URL prefix the response redirects to.
# "*" is the default for roles not named.
MATRIX: dict[str, dict[str, Any]] = {
    "landing": {"anonymous": 200, "*": "/home/", "unverified_specialist": MFA, "unverified_admin": MFA},
    "set_language": {"*": 405},
    "healthz": {"*": 200},
    "healthz_detail": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "accounts:home": {
        "anonymous": LOGIN,
        "patient_a": "/patient/",
        "patient_b": "/patient/",
        "specialist": "/specialist/",
        "other_specialist": "/specialist/",
        "admin": "/console/",
        "*": MFA,
    },
    "cases:patient_home": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "patient_b": 200,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "cases:about_you": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "patient_b": 200,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "cases:title": {**OWNER_ONLY},
    "lifecycle:draft_delete": {**OWNER_ONLY},
    "cases:start": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "patient_b": 200,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "cases:detail": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "specialist": 200,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "cases:step": {**OWNER_ONLY},
    "cases:emergency": {**OWNER_ONLY},
    "cases:check": {**OWNER_ONLY},
    "cases:submitted": {**OWNER_ONLY},
    "cases:withdraw": {**OWNER_ONLY},
    "uploads:files": {**OWNER_ONLY},
    "uploads:status": {**OWNER_ONLY},
    "uploads:backup": {**OWNER_ONLY},
    "uploads:upload": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "uploads:upload_file": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "uploads:remove": {**POST_ONLY},
    "uploads:download": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "specialist": 200,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "uploads:thumbnail": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "specialist": 200,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "cases:submit": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "cases:consent": {**OWNER_ONLY, "patient_a": "/cases/"},
    "cases:consent_withdraw": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "cases:message": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:specialist_home": {
        "anonymous": LOGIN,
        "specialist": 200,
        "other_specialist": 200,
        "patient_a": 404,
        "patient_b": 404,
        "admin": 404,
        "*": MFA,
    },
    "console:console": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "console:invite": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "accounts:login": {"anonymous": 200, "*": "/home/", "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:logout": {"*": 405},
    "accounts:register": {"anonymous": 200, "*": "/home/", "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:register_done": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:resend_verification": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:verify_email": {"*": 400, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:password_reset": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:password_reset_done": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:password_reset_confirm": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:password_reset_complete": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:invitation_accept": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:security": {"anonymous": LOGIN, "*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:step_up": {"anonymous": LOGIN, "*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:mfa_enrol": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "patient_b": 200,
        "specialist": "/accounts/security/",
        "other_specialist": "/accounts/security/",
        "admin": "/accounts/security/",
        "unverified_specialist": "/accounts/mfa/verify/",
        "unverified_admin": 200,
    },
    "accounts:mfa_verify": {
        "anonymous": LOGIN,
        "patient_a": "/accounts/mfa/enrol/",
        "patient_b": "/accounts/mfa/enrol/",
        "specialist": "/home/",
        "other_specialist": "/home/",
        "admin": "/home/",
        "unverified_specialist": 200,
        "unverified_admin": "/accounts/mfa/enrol/",
    },
    "accounts:backup_codes": {
        "anonymous": LOGIN,
        "*": "/accounts/security/",
        "unverified_specialist": MFA,
        "unverified_admin": MFA,
    },
    "accounts:backup_codes_regenerate": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:mfa_remove": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:time_zone": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:keep_alive": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:edit": {**LEAD_ONLY},
    "reports:preview": {**LEAD_ONLY},
    "reports:preview_pdf": {**LEAD_ONLY},
    # The sample draft is incomplete: what is missing is shown (the preview) before any step-up.
    "reports:sign": {**LEAD_ONLY, "specialist": "/specialist/cases/"},
    "reports:addendum": {**LEAD_ONLY},
    "reports:addendum_sign": {**LEAD_ONLY, "specialist": STEP_UP},
    "reports:follow_up": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:close": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:second_opinion": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:workspace": {**SPECIALIST_ONLY},
    "reports:photo": {**SPECIALIST_ONLY},
    "reports:compare": {**SPECIALIST_ONLY},
    "reports:series": {**SPECIALIST_ONLY},
    "reports:message": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:request_information": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "uploads:image": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "specialist": 200,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "uploads:frame": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "specialist": 200,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    # A signed report's PDF: readers of the case, after a fresh factor (step-up); strangers 404.
    "reports:download": {
        "anonymous": LOGIN,
        "patient_a": STEP_UP,
        "specialist": STEP_UP,
        "patient_b": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    # Public verification (no clinical content): anyone, but staff still verify their factor first.
    "reports:verify": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    # The footer's pages (privacy, accessibility, cookies, contact): anyone.
    "privacy": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accessibility": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "cookies": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "contact": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:verify_code": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:queue": {
        "anonymous": LOGIN,
        "specialist": 200,
        "other_specialist": 200,
        "patient_a": 404,
        "patient_b": 404,
        "admin": 404,
        "*": MFA,
    },
    "reports:claim": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:start_review": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:consult_invite": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:consult_note": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:assignment_list": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "reports:assign": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    # Retention, legal hold, erasure and deletion certificates (lifecycle/views.py)
    "lifecycle:retention": {**ADMIN_ONLY},
    "lifecycle:retention_remove": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "lifecycle:legal_hold": {**ADMIN_ONLY},
    "lifecycle:legal_hold_release": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "lifecycle:deletion_requests": {**ADMIN_ONLY},
    "lifecycle:deletion_approve": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "lifecycle:deletion_refuse": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "lifecycle:certificates": {**ADMIN_ONLY},
    "lifecycle:certificate_download": {**ADMIN_ONLY},
    # The patient's erasure request needs a fresh step-up; their certificate download does not.
    "lifecycle:erase": {**OWNER_ONLY, "patient_a": STEP_UP, "patient_b": STEP_UP},
    "lifecycle:erase_certificate": {**OWNER_ONLY},
    "lifecycle:certificate_verify": {"*": 200, "unverified_specialist": MFA, "unverified_admin": MFA},
    # The admin console (issue 6): metadata only; resetting someone's MFA asks for a fresh factor.
    "console:console_users": {**ADMIN_ONLY},
    "console:console_user": {**ADMIN_ONLY},
    "console:console_user_deactivate": {**ADMIN_ONLY},
    "console:console_user_reactivate": {**POST_ONLY},
    "console:console_user_mfa_reset": {**ADMIN_ONLY, "admin": STEP_UP},
    "console:console_specialist_edit": {**ADMIN_ONLY},
    "console:console_turnaround": {**ADMIN_ONLY},
    "console:console_clinic": ADMIN_ONLY,
    "console:console_fees": {**ADMIN_ONLY},
    "console:console_consent_versions": {**ADMIN_ONLY},
    "console:console_consent_publish": {**ADMIN_ONLY},
    "console:console_consent_version": {**ADMIN_ONLY},
    "console:console_cases": {**ADMIN_ONLY},
    "console:console_case": {**ADMIN_ONLY},
    "console:console_break_glass": {**POST_ONLY},
    # Audit review (admins; exports after step-up) and the patient's access log.
    "console:search": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "console:export_csv": {
        "anonymous": LOGIN,
        "admin": STEP_UP,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "console:export_fhir": {
        "anonymous": LOGIN,
        "admin": STEP_UP,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "console:access_review": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    "console:sign_off": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "console:verify_chain": {**POST_ONLY},
    "cases:access_log": {**OWNER_ONLY},
    "reports:statistics": {
        "anonymous": LOGIN,
        "admin": 200,
        "patient_a": 404,
        "patient_b": 404,
        "specialist": 404,
        "other_specialist": 404,
        "*": MFA,
    },
    # Data export: each patient their own data only; the downloads after a fresh factor.
    "lifecycle:export": {
        "anonymous": LOGIN,
        "patient_a": 200,
        "patient_b": 200,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "lifecycle:export_zip": {
        "anonymous": LOGIN,
        "patient_a": STEP_UP,
        "patient_b": STEP_UP,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
    "lifecycle:export_fhir": {
        "anonymous": LOGIN,
        "patient_a": STEP_UP,
        "patient_b": STEP_UP,
        "specialist": 404,
        "other_specialist": 404,
        "admin": 404,
        "*": MFA,
    },
}
# Reachable by staff before the second factor is verified (everything else redirects to MFA).
MFA_EXEMPT = {"accounts:mfa_enrol", "accounts:mfa_verify", "accounts:logout", "set_language", "healthz"}


def test_every_url_is_in_the_matrix() -> None:
    missing = [n for n in ALL_URL_NAMES if n not in MATRIX]
    assert not missing, f"add these URLs to the authorization matrix: {missing}"
    assert not set(MATRIX) - set(ALL_URL_NAMES), "the matrix names URLs that no longer exist"


def test_every_url_pattern_is_named() -> None:
    def unnamed(patterns: list[Any]) -> list[str]:
        out: list[str] = []
        for p in patterns:
            if isinstance(p, URLResolver):
                out += unnamed(p.url_patterns)
            elif not p.name:
                out.append(str(p.pattern))
        return out

    assert unnamed(get_resolver().url_patterns) == []


def _check(response: Any, expected: Any) -> bool:
    if isinstance(expected, int):
        return response.status_code == expected
    return response.status_code == 302 and response["Location"].startswith(expected)


@pytest.mark.parametrize("name", ALL_URL_NAMES)
def test_get_matrix(name: str, clients: dict[str, Client]) -> None:
    rules = MATRIX[name]
    failures = []
    for role in ROLES:
        expected = rules.get(role, rules.get("*"))
        response = clients[role].get(_url(name))
        if not _check(response, expected):
            failures.append(f"{role}: expected {expected}, got {response.status_code} {response.get('Location', '')}")
    assert not failures, f"{name}: " + "; ".join(failures)


CASE_URLS = sorted(n for n in ALL_URL_NAMES if set(CASE_KWARGS) & set(_kwargs(n)))


@pytest.mark.parametrize("name", CASE_URLS)
def test_case_urls_audit_every_read_and_denial(name: str, clients: dict[str, Client]) -> None:
    target = CASES[next(iter(_kwargs(name).values()))]
    case = target.report.case if hasattr(target, "report") else getattr(target, "case", target)
    for role in ("patient_a", "patient_b", "specialist", "other_specialist", "admin"):
        user = clients[role].session.get("_auth_user_id")
        before = AuditEvent.objects.filter(actor_id=user, case_id=case.pk).count()
        response = clients[role].get(_url(name))
        if response.status_code in (200, 404):
            events = AuditEvent.objects.filter(actor_id=user, case_id=case.pk).order_by("-id")
            assert events.count() > before, f"{role} on {name}: no audit event"
            assert (events[0].outcome == "0") == (response.status_code == 200), f"{role} on {name}"


@pytest.mark.parametrize("name", ["cases:step", "cases:check", "cases:detail", "cases:withdraw"])
def test_another_patients_case_looks_like_a_missing_one(name: str, clients: dict[str, Client]) -> None:
    theirs = clients["patient_b"].get(_url(name))
    real = CASES[SAMPLE_KWARGS[name.split(":")[-1]]["case_id"]]
    missing = clients["patient_b"].get(_url(name).replace(str(real.pk), "00000000-0000-4000-8000-000000000000"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cases:submit", {}),
        ("cases:withdraw", {}),
        ("cases:message", {"body": "hello"}),
        ("cases:consent_withdraw", {}),
        ("cases:step", {"reason": "changed by a stranger"}),
        ("reports:start_review", {}),
        ("reports:consult_invite", {}),
        ("reports:consult_note", {"note": "a stranger's"}),
        ("reports:message", {"message-body": "hello"}),
        ("reports:request_information", {"request-body": "hello"}),
    ],
)
def test_strangers_cannot_change_a_case(name: str, data: dict[str, str], clients: dict[str, Client]) -> None:
    case = CASES[SAMPLE_KWARGS[name.split(":")[-1]]["case_id"]]
    before = (case.status, case.reason, case.messages.count(), case.consultations.count())
    for role in ("patient_b", "other_specialist", "admin"):
        assert clients[role].post(_url(name), data).status_code == 404, role
    case.refresh_from_db()
    assert (case.status, case.reason, case.messages.count(), case.consultations.count()) == before


def test_only_specialists_claim_and_only_admins_assign(clients: dict[str, Client]) -> None:
    case = CASES["unassigned"]
    for role in ("patient_a", "patient_b", "admin"):
        assert clients[role].post(_url("reports:claim")).status_code == 404, role
    for role in ("patient_a", "patient_b", "specialist", "other_specialist"):
        assert clients[role].post(_url("reports:assign"), {"specialist": str(case.patient_id)}).status_code == 404
    case.refresh_from_db()
    assert (case.status, case.specialist_id) == (Status.SUBMITTED, None)


@pytest.mark.parametrize("role", ["unverified_specialist", "unverified_admin"])
def test_unverified_staff_reach_nothing_but_mfa(role: str, clients: dict[str, Client]) -> None:
    # One test per role walking every URL: the fixture is the slow part, not the requests.
    failures = []
    for name in sorted(set(ALL_URL_NAMES) - MFA_EXEMPT):
        for method in ("get", "post"):
            response = getattr(clients[role], method)(_url(name))
            if response.status_code != 302 or not response["Location"].startswith(MFA):
                failures.append(f"{method.upper()} {name}: {response.status_code} {response.get('Location', '')}")
    assert not failures, failures
