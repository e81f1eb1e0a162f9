from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from secondopinion import invariants

SHOWN = 20  # ids printed per category; --json lists them all


class Command(BaseCommand):
    help = (
        "Check that every accepted file, thumbnail and report PDF is in the object store, that no "
        "upload or report render is left unfinished, and that no object is left without its row. "
        "Exits 1 when anything is found. --repair deletes the unreadable leftovers (orphans, raw "
        "uploads kept after validation)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=invariants.DEFAULT_GRACE.total_seconds(),
            help="seconds work may still be under way (default %(default)s); 0 after the queue has drained",
        )
        parser.add_argument("--json", action="store_true", help="print the findings as JSON")
        parser.add_argument("--repair", action="store_true", help="delete orphans and leftover raw uploads")
        parser.add_argument(
            "--force", action="store_true", help="repair even when more than a tenth of the objects would be deleted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        found = invariants.check(grace=timedelta(seconds=options["grace"]))
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": found.ok,
                        "objects": found.objects,
                        "uploads": found.rows.get("uploads", 0),
                        "documents": found.rows.get("documents", 0),
                        "findings": found.items,
                    },
                    indent=2,
                )
            )
        else:
            self.stdout.write(
                f"Checked {found.objects} objects, {found.rows.get('uploads', 0)} uploads, "
                f"{found.rows.get('documents', 0)} report documents."
            )
            for category, meaning in invariants.CATEGORIES.items():
                ids = found.items.get(category, [])
                if ids:
                    more = f" (and {len(ids) - SHOWN} more)" if len(ids) > SHOWN else ""
                    self.stdout.write(f"{category}: {len(ids)} {meaning}: {', '.join(ids[:SHOWN])}{more}")
            if found.ok:
                self.stdout.write("ok: nothing missing, nothing dangling")
        if options["repair"]:
            try:
                deleted = invariants.repair(found, force=options["force"])
            except invariants.RepairRefused as e:
                raise CommandError(f"Not repaired: {e}. Check DATABASE_URL and the bucket, or pass --force.") from e
            self.stdout.write(f"Deleted {deleted} unreadable objects.")
            remaining = {k: v for k, v in found.items.items() if k not in invariants.REPAIRABLE}
            if remaining:
                raise CommandError(f"Still to look at: {', '.join(sorted(remaining))}")
            return
        if not found.ok:
            raise CommandError(f"Found: {', '.join(found.items)}")
