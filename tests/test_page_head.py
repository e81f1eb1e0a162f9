"""What every page's <head> carries (issue 15, item 17): an icon, so browsers do not ask for a
missing /favicon.ico on every page, and a description on the public pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_page_names_an_icon_that_exists() -> None:
    page = Client().get("/accounts/login/").content.decode()
    match = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', page)
    assert match, "no icon link"
    assert finders.find(match.group(1)), match.group(1)


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/register/"])
def test_public_pages_have_a_meta_description(url: str) -> None:
    page = Client().get(url).content.decode()
    match = re.search(r'<meta name="description" content="([^"]+)">', page)
    assert match and len(match.group(1)) > 40, url
