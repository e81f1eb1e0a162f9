from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from uploads.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the configured (empty) database and object store. "
        "The key ring that was current at backup time must be configured."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = restore(Path(options["directory"]))
        except BackupError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"Restored the database and {len(manifest['objects'])} objects from {options['directory']}.")
