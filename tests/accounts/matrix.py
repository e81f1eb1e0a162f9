"""The URLs of the authorization matrix (tests/accounts/test_authorization_matrix.py): every URL
name, the sample kwargs that fill them in, and the objects the `clients` fixture
(tests/fixtures/matrix.py) makes for them. tests/test_downloads.py and
tests/test_security_headers.py walk the same URLs."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.lifecycle.helpers import MATRIX_CERTIFICATE_ID

SAMPLE_KWARGS: dict[str, dict[str, Any]] = {
    "verify_email": {"token": "not-a-valid-token"},
    "password_reset_confirm": {"uidb64": "MTIz", "token": "abc-def"},
    "invitation_accept": {"uidb64": "MTIz", "token": "abc-def"},
    "step": {"case_id": "draft", "slug": "reason"},
    "emergency": {"case_id": "draft"},
    "check": {"case_id": "draft"},
    "title": {"case_id": "draft"},
    "draft_delete": {"case_id": "draft"},
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
    "remove": {"upload_id": "photo"},
    "workspace": {"case_id": "review"},
    "edit": {"case_id": "review"},
    "preview": {"case_id": "review"},
    "preview_pdf": {"case_id": "review"},
    "sign": {"case_id": "review"},
    "addendum": {"case_id": "reported"},
    "addendum_sign": {"case_id": "reported"},
    "follow_up": {"case_id": "reported"},
    "close": {"case_id": "reported"},
    "second_opinion": {"case_id": "reported"},
    "photo": {"case_id": "review", "upload_id": "photo"},
    "compare": {"case_id": "review"},
    "series": {"case_id": "review", "upload_id": "dicom"},
    "request_information": {"case_id": "review"},
    "image": {"upload_id": "photo"},
    "frame": {"upload_id": "dicom", "index": 0},
    "reports:download": {"document_id": "document"},  # a full name where the short one is taken
    "verify_code": {"code": "ABCD-EFGH-JKMN"},
    "claim": {"case_id": "unassigned"},
    "start_review": {"case_id": "review"},
    "consult_invite": {"case_id": "review"},
    "consult_note": {"case_id": "review"},
    "assign": {"case_id": "unassigned"},
    "retention_remove": {"policy_id": 1},
    "legal_hold": {"case_id": "review"},
    "legal_hold_release": {"case_id": "review"},
    "deletion_approve": {"request_id": "00000000-0000-4000-8000-000000000000"},
    "deletion_refuse": {"request_id": "00000000-0000-4000-8000-000000000000"},
    "certificate_download": {"certificate_id": MATRIX_CERTIFICATE_ID, "fmt": "json"},
    "erase_certificate": {"fmt": "json"},
    "console_user": {"user_id": "user"},
    "console_user_deactivate": {"user_id": "user"},
    "console_user_reactivate": {"user_id": "user"},
    "console_user_mfa_reset": {"user_id": "user"},
    "console_specialist_edit": {"user_id": "user"},
    "console_consent_version": {"version": 1},
    "console_case": {"case_id": "review"},
    "console_break_glass": {"case_id": "review"},
    "access_log": {"case_id": "review"},
}
# Kwargs naming an object of the `clients` fixture (CASES) rather than a literal value.
CASE_KWARGS = ("case_id", "upload_id", "document_id")
OBJECT_KWARGS = (*CASE_KWARGS, "user_id")
CASES: dict[str, Any] = {}  # filled by the `clients` fixture: patient A's "draft" and "review" cases, a "photo",
# a "dicom", a signed, rendered "document" on a third case, a "reported" case, and a "user" (the other specialist)


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


def _kwargs(name: str) -> dict[str, Any]:
    return SAMPLE_KWARGS.get(name, SAMPLE_KWARGS.get(name.split(":")[-1], {}))


def _url(name: str) -> str:
    kwargs = dict(_kwargs(name))
    for key in OBJECT_KWARGS:
        if key in kwargs:
            kwargs[key] = CASES[kwargs[key]].pk if CASES else "00000000-0000-0000-0000-000000000000"
    return reverse(name, kwargs=kwargs or None)
