"""Every URL × role. A URL missing from MATRIX fails the suite, so a new page cannot ship
without a decision about who may reach it. Forbidden role pages answer 404, like missing ones.

Roles: anonymous, patient A, patient B, specialist and admin (both MFA-verified), and
specialist/admin who signed in with a password but have not verified a second factor:
those reach nothing but enrolment, verification and sign-out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import AdminFactory, PatientFactory, SpecialistFactory, add_totp, login

ROLES = ["anonymous", "patient_a", "patient_b", "specialist", "admin", "unverified_specialist", "unverified_admin"]
LOGIN = "/accounts/login/"
MFA = "/accounts/mfa/"

# Expected GET result per role: an int status, or a URL prefix the response redirects to.
# "*" is the default for roles not named.
MATRIX: dict[str, dict[str, Any]] = {
    "landing": {"anonymous": 200, "*": "/home/", "unverified_specialist": MFA, "unverified_admin": MFA},
    "set_language": {"*": 405},
    "healthz": {"*": 200},
    "accounts:home": {"anonymous": LOGIN, "patient_a": "/patient/", "patient_b": "/patient/",
                      "specialist": "/specialist/", "admin": "/console/", "*": MFA},
    "accounts:patient_home": {"anonymous": LOGIN, "patient_a": 200, "patient_b": 200, "specialist": 404,
                              "admin": 404, "*": MFA},
    "accounts:specialist_home": {"anonymous": LOGIN, "specialist": 200, "patient_a": 404, "patient_b": 404,
                                 "admin": 404, "*": MFA},
    "accounts:console": {"anonymous": LOGIN, "admin": 200, "patient_a": 404, "patient_b": 404,
                         "specialist": 404, "*": MFA},
    "accounts:invite": {"anonymous": LOGIN, "admin": 200, "patient_a": 404, "patient_b": 404,
                        "specialist": 404, "*": MFA},
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
                           "specialist": "/accounts/security/", "admin": "/accounts/security/",
                           "unverified_specialist": "/accounts/mfa/verify/", "unverified_admin": 200},
    "accounts:mfa_verify": {"anonymous": LOGIN, "patient_a": "/accounts/mfa/enrol/",
                            "patient_b": "/accounts/mfa/enrol/", "specialist": "/home/", "admin": "/home/",
                            "unverified_specialist": 200, "unverified_admin": "/accounts/mfa/enrol/"},
    "accounts:backup_codes": {"anonymous": LOGIN, "*": "/accounts/security/",
                              "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:backup_codes_regenerate": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
    "accounts:mfa_remove": {"*": 405, "unverified_specialist": MFA, "unverified_admin": MFA},
}
# Reachable by staff before the second factor is verified (everything else redirects to MFA).
MFA_EXEMPT = {"accounts:mfa_enrol", "accounts:mfa_verify", "accounts:logout", "set_language", "healthz"}
SAMPLE_KWARGS = {
    "verify_email": {"token": "not-a-valid-token"},
    "password_reset_confirm": {"uidb64": "MTIz", "token": "abc-def"},
    "invitation_accept": {"uidb64": "MTIz", "token": "abc-def"},
}


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
    return reverse(name, kwargs=SAMPLE_KWARGS.get(name.split(":")[-1]))


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
    specialist, admin = SpecialistFactory(), AdminFactory()
    add_totp(specialist)
    add_totp(admin)
    unverified_specialist = SpecialistFactory()
    add_totp(unverified_specialist)  # enrolled, not verified this session
    unverified_admin = AdminFactory()  # invited, not enrolled yet
    return {
        "anonymous": Client(),
        "patient_a": login(Client(), PatientFactory()),
        "patient_b": login(Client(), PatientFactory()),
        "specialist": login(Client(), specialist),
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


@pytest.mark.parametrize("name", sorted(set(ALL_URL_NAMES) - MFA_EXEMPT))
@pytest.mark.parametrize("role", ["unverified_specialist", "unverified_admin"])
def test_unverified_staff_reach_nothing_but_mfa(name: str, role: str, clients: dict[str, Client]) -> None:
    for method in ("get", "post"):
        response = getattr(clients[role], method)(_url(name))
        assert response.status_code == 302, f"{method.upper()} {name}"
        assert response["Location"].startswith(MFA), f"{method.upper()} {name}"
