from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accounts.models import PatientKey
from core.crypto import DecryptionError
from core.keyring import current_kek_id


class Command(BaseCommand):
    help = (
        "Re-wrap every live patient key under the current master key (KMS_KEY_ID, else the key "
        "ring's current key). File bodies are never touched; running it again is harmless."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        target = current_kek_id()
        live = PatientKey.objects.live()
        rewrapped, failed = 0, []
        for key in live.exclude(kek_id=target).iterator():
            try:
                rewrapped += key.rewrap()
            except (DecryptionError, ImproperlyConfigured):
                failed.append(str(key.id))
        on_target = live.filter(kek_id=target).count()
        self.stdout.write(
            f"Re-wrapped {rewrapped} patient keys; {on_target} of {live.count()} live patient keys "
            f"are under the current master key {target}."
        )
        if failed:
            raise CommandError(f"{len(failed)} patient keys could not be unwrapped: {', '.join(failed)}")
