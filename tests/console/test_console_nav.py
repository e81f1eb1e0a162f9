"""Every console page carries the console's navigation (issue 15, item 16)."""

from __future__ import annotations

import pytest

from tests.console.console_helpers import signed_in_admin, step_up
from tests.factories import CaseFactory, SpecialistFactory, publish_consent_v1

pytestmark = pytest.mark.django_db


def test_every_console_page_has_the_console_navigation() -> None:
    admin, client = signed_in_admin()
    step_up(client, admin)
    specialist = SpecialistFactory()
    version = publish_consent_v1()
    case = CaseFactory()
    pages = [
        "/console/",
        "/console/users/",
        f"/console/users/{specialist.pk}/",
        f"/console/users/{specialist.pk}/deactivate/",
        f"/console/users/{specialist.pk}/reset-mfa/",
        f"/console/users/{specialist.pk}/specialist/",
        "/console/invite/",
        "/console/turnaround/",
        "/console/consent/",
        "/console/consent/new/",
        f"/console/consent/{version.version}/",
        "/console/cases/",
        f"/console/cases/{case.pk}/",
        f"/console/cases/{case.pk}/legal-hold/",
        "/console/assign/",
        "/console/statistics/",
        "/console/audit/",
        "/console/audit/access-review/",
        "/console/retention/",
        "/console/deletion-requests/",
        "/console/deletion-certificates/",
    ]
    without = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if 'class="console-nav"' not in response.content.decode():
            without.append(url)
    assert without == []
