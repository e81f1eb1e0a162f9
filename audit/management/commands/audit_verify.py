from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain and name the first edited or missing event."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if not result.ok:
            self.stderr.write(f"BROKEN at event id={result.broken_id}: {result.reason}")
            sys.exit(1)
        self.stdout.write(f"OK: {result.count} events, chain head {result.head}")
