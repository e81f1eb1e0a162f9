from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from audit.checkpoint import check_against_checkpoint, latest_checkpoint
from audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit hash chain and name the first edited or missing event; then check it "
        "against the newest signed checkpoint, so rows cut off the end are found too."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if not result.ok:
            self.stderr.write(f"BROKEN at event id={result.broken_id}: {result.reason}")
            sys.exit(1)
        problem = check_against_checkpoint(result)
        if problem:
            self.stderr.write(f"BROKEN: {problem}")
            sys.exit(1)
        self.stdout.write(f"OK: {result.count} events, chain head {result.head}")
        checkpoint = latest_checkpoint()
        if checkpoint is None:
            self.stdout.write(
                f"No signed checkpoint yet: none of the {result.count} events is covered; "
                "events cut off the end would go unnoticed."
            )
            return
        tail = result.count - checkpoint.count
        self.stdout.write(
            f"Newest signed checkpoint {checkpoint.at:%Y-%m-%d %H:%M:%S} UTC covers {checkpoint.count} "
            f"events (up to id {checkpoint.head_id}); {tail} later events are not covered yet."
        )
