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
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import ConsentAcceptance, Status
from tests.factories import (
    AdminFactory,
    CaseFactory,
    PatientFactory,
    SpecialistFactory,
    accepted_upload,
    add_totp,
    login,
    publish_consent_v1,
)

ROLES = ["anonymous", "patient_a", "patient_b", "specialist", "other_specialist", "admin",
         "unverified_specialist", "unverified_admin"]
LOGIN = "/accounts/login/"
MFA = "/accounts/mfa/"

OWNER_ONLY: dict[str, Any] = {"anonymous": LOGIN, "patient_a": 200, "patient_b": 404, "specialist": 404,
                              "other_specialist": 404, "admin": 404, "*": MFA}

# Expected GET result per role: an int status, or a URL prefix the response redirects to.
# "*" is the default for roles not named.
MATRIX: dict[str, dict[str, Any]] = {
    "landing": {"anonymous": 200, "*": "/home/", "unverified_specialist": MFA, "unverified_admin": MFA},
    "set_language": {"*": 405},
    "healthz": {"*": 200},
    "accounts:home": {"anonymous": LOGIN, "patient_a": "/patient/", "patient_b": "/patient/",
                      "specialist": "/specialist/", "other_specialist": "/specialist/", "admin": "/console/", "*": MFA},
    "cases:patient_home": {"anonymous": LOGIN, "patient_a": 200, "patient_b": 200, "specialist": 404,
                           "other_specialist": 404, "admin": 404, "*": MFA},
    "cases:start": {"anonymous": LOGIN, "patient_a": 200, "patient_b": 200, "specialist": 404,
                    "other_specialist": 404, "admin": 404, "*": MFA},
    "cases:detail": {"anonymous": LOGIN, "patient_a": 200, "specialist": 200, "patient_b": 404,
                     "other_specialist": 404, "admin": 404, "*": MFA},
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
    "uploads:download": {"anonymous": LOGIN, "patient_a": 200, "specialist": 200, "patient_b": 404,
                         "other_specialist": 404, "admin": 404, "*": MFA},
    "uploads:thumbnail": {"anonymous": LOGIN, "patient_a": 200, "specialist": 200, "patient_b": 404,
                          "other_specialist": 404, "admin": 404, "*": MFA},
    "cases:submit": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "cases:consent": {**OWNER_ONLY, "patient_a": "/cases/"},
    "cases:consent_withdraw": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "cases:message": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:specialist_home": {"anonymous": LOGIN, "specialist": 200, "other_specialist": 200, "patient_a": 404,
                                 "patient_b": 404, "admin": 404, "*": MFA},
    "accounts:console": {"anonymous": LOGIN, "admin": 200, "patient_a": 404, "patient_b": 404,
                         "specialist": 404, "other_specialist": 404, "*": MFA},
    "accounts:invite": {"anonymous": LOGIN, "admin": 200, "patient_a": 404, "patient_b": 404,
                        "specialist": 404, "other_specialist": 404, "*": MFA},
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
    "accounts:mfa_enrol": {"anonymous": LOGIN, "patient_a": 200, "patient_b": 200,
                           "specialist": "/accounts/security/", "other_specialist": "/accounts/security/",
                           "admin": "/accounts/security/",
                           "unverified_specialist": "/accounts/mfa/verify/", "unverified_admin": 200},
    "accounts:mfa_verify": {"anonymous": LOGIN, "patient_a": "/accounts/mfa/enrol/",
                            "patient_b": "/accounts/mfa/enrol/", "specialist": "/home/", "other_specialist": "/home/",
                            "admin": "/home/",
                            "unverified_specialist": 200, "unverified_admin": "/accounts/mfa/enrol/"},
    "accounts:backup_codes": {"anonymous": LOGIN, "*": "/accounts/security/",
                              "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:backup_codes_regenerate": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:mfa_remove": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "reports:workspace": {"anonymous": LOGIN, "specialist": 200, "patient_a": 404, "patient_b": 404,
                          "other_specialist": 404, "admin": 404, "*": MFA},
}
# Reachable by staff before the second factor is verified (everything else redirects to MFA).
MFA_EXEMPT = {"accounts:mfa_enrol", "accounts:mfa_verify", "accounts:logout", "set_language", "healthz"}
SAMPLE_KWARGS: dict[str, dict[str, Any]] = {
    "verify_email": {"token": "not-a-valid-token"},
    "password_reset_confirm": {"uidb64": "MTIz", "token": "abc-def"},
    "invitation_accept": {"uidb64": "MTIz", "token": "abc-def"},
    "step": {"case_id": "draft", "slug": "reason"},
    "emergency": {"case_id": "draft"},
    "check": {"case_id": "draft"},
    "submit": {"case_id": "draft"},
    "submitted": {"case_id": "review"},
    "detail": {"case_id": "review"},
    "message": {"case_id": "review"},
    "withdraw": {"case_id": "review"},
    "consent_withdraw": {"case_id": "review"},
    "consent": {"case_id": "review"},
    "files": {"case_id": "review"},
    "status": {"case_id": "review"},
    "backup": {"case_id": "review"},
    "upload": {"case_id": "review"},
    "upload_file": {"case_id": "review"},
    "download": {"upload_id": "photo"},
    "thumbnail": {"upload_id": "photo"},
    "workspace": {"case_id": "review"},
}
CASES: dict[str, Any] = {}  # filled by the `clients` fixture: patient A's "draft" and "review" cases, a "photo"


def _url_names(patterns: list[Any], namespace: str = "") -> list[str]:
    names: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names += _url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.append(namespace + p.name)
    return names


ALL_URL_NAMES = sorted(set(_url_names(get_resolver().url_patterns)))


def _url(name: str) -> str:
    kwargs = dict(SAMPLE_KWARGS.get(name.split(":")[-1], {}))
    for key in ("case_id", "upload_id"):
        if key in kwargs:
            kwargs[key] = CASES[kwargs[key]].pk if CASES else "00000000-0000-0000-0000-000000000000"
    return reverse(name, kwargs=kwargs or None)


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


@pytest.fixture
def clients(db: Any) -> dict[str, Client]:
    specialist, other_specialist, admin = SpecialistFactory(), SpecialistFactory(), AdminFactory()
    for staff in (specialist, other_specialist, admin):
        add_totp(staff)
    patient_a = PatientFactory()
    CASES["draft"] = CaseFactory(patient=patient_a)
    CASES["review"] = CaseFactory(patient=patient_a, status=Status.IN_REVIEW, specialist=specialist,
                                  submitted_at=timezone.now(), due_at=timezone.now())
    CASES["photo"] = accepted_upload(CASES["review"])
    ConsentAcceptance.objects.create(case=CASES["review"], version=publish_consent_v1(), text_sha256="0" * 64,
                                     language="en")
    unverified_specialist = SpecialistFactory()
    add_totp(unverified_specialist)  # enrolled, not verified this session
    unverified_admin = AdminFactory()  # invited, not enrolled yet
    return {
        "anonymous": Client(),
        "patient_a": login(Client(), patient_a),
        "patient_b": login(Client(), PatientFactory()),
        "specialist": login(Client(), specialist),
        "other_specialist": login(Client(), other_specialist),
        "admin": login(Client(), admin),
        "unverified_specialist": login(Client(), unverified_specialist, verified=False),
        "unverified_admin": login(Client(), unverified_admin, verified=False),
    }


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


CASE_URLS = sorted(n for n in ALL_URL_NAMES if {"case_id", "upload_id"} & set(SAMPLE_KWARGS.get(n.split(":")[-1], {})))


@pytest.mark.parametrize("name", CASE_URLS)
def test_case_urls_audit_every_read_and_denial(name: str, clients: dict[str, Client]) -> None:
    target = CASES[next(iter(SAMPLE_KWARGS[name.split(":")[-1]].values()))]
    case = getattr(target, "case", target)
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


@pytest.mark.parametrize(("name", "data"), [
    ("cases:submit", {}), ("cases:withdraw", {}), ("cases:message", {"body": "hello"}), ("cases:consent_withdraw", {}),
    ("cases:step", {"reason": "changed by a stranger"}),
])
def test_strangers_cannot_change_a_case(name: str, data: dict[str, str], clients: dict[str, Client]) -> None:
    case = CASES[SAMPLE_KWARGS[name.split(":")[-1]]["case_id"]]
    before = (case.status, case.reason, case.messages.count())
    for role in ("patient_b", "other_specialist", "admin"):
        assert clients[role].post(_url(name), data).status_code == 404, role
    case.refresh_from_db()
    assert (case.status, case.reason, case.messages.count()) == before


@pytest.mark.parametrize("name", sorted(set(ALL_URL_NAMES) - MFA_EXEMPT))
@pytest.mark.parametrize("role", ["unverified_specialist", "unverified_admin"])
def test_unverified_staff_reach_nothing_but_mfa(name: str, role: str, clients: dict[str, Client]) -> None:
    for method in ("get", "post"):
        response = getattr(clients[role], method)(_url(name))
        assert response.status_code == 302, f"{method.upper()} {name}"
        assert response["Location"].startswith(MFA), f"{method.upper()} {name}"
