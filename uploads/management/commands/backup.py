from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from uploads.backup import backup


class Command(BaseCommand):
    help = "Back up the database and every stored object (ciphertext) into a new directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", nargs="?", help="default: var/backups/<UTC timestamp>")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        dest = Path(options["directory"] or settings.VAR_DIR / "backups" / timezone.now().strftime("%Y%m%dT%H%M%SZ"))
        manifest = backup(dest)
        self.stdout.write(
            f"Backup written to {dest}: {manifest['database']['vendor']} database, "
            f"{len(manifest['objects'])} objects. Master key ids needed to read it: "
            f"{', '.join(manifest['kek_ids']) or '(none yet)'}. Keep the key ring in escrow, "
            "apart from the backups."
        )
