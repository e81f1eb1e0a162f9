"""The time zone a person reads times in: an IANA name kept on the account (`User.time_zone`),
told by the browser at sign-in and changeable on the account page; UTC until it is known."""

from __future__ import annotations

import functools
import zoneinfo

from accounts.models import User

# Areas of the zones a person would pick (no "Etc/GMT+3", no legacy aliases such as "US/Eastern").
AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@functools.cache
def choices() -> list[tuple[str, str]]:
    names = sorted(z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in AREAS and "/" in z)
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in names)]


@functools.cache
def _names() -> frozenset[str]:
    return frozenset(name for name, _ in choices())


def is_valid(name: str) -> bool:
    return name in _names()


def zone_of(user: User) -> zoneinfo.ZoneInfo | None:
    return zoneinfo.ZoneInfo(user.time_zone) if user.time_zone and is_valid(user.time_zone) else None


def learn_from_browser(user: User, name: str) -> None:
    """The zone the browser reported at sign-in, kept if the account has none yet (a zone the
    person chose is never overwritten by a browser abroad)."""
    if not user.time_zone and is_valid(name):
        User.objects.filter(pk=user.pk, time_zone="").update(time_zone=name)
        user.time_zone = name
