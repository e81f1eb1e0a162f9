from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifecycle.certificates import MAX_BYTES, certificate_verify


class Command(BaseCommand):
    help = "Check a deletion certificate (the JSON file or the PDF): exits 0 when valid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError("not a certificate (file too large)")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        result = certificate_verify(data)
        if not result.valid:
            raise CommandError(result.message)
        self.stdout.write(f"valid: {result.summary()}")
