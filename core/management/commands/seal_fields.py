"""Encrypt the clinical text written before it was encrypted (core.fieldcrypt), in batches.

Safe to run while the site serves requests and to stop and run again: each batch locks its rows,
encrypts them and commits, and the next run starts with what is left. `--check` only counts the
values still in plaintext and exits with 1 if there are any.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from core.fieldcrypt import PREFIX, SealedMixin


def sealed_columns() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, SealedMixin)]
        if names:
            found.append((model, names))
    return found


def plaintext(model: type[models.Model], name: str) -> models.QuerySet[Any]:
    return (
        model._default_manager.exclude(**{name: ""})
        .exclude(**{f"{name}__isnull": True})
        .exclude(**{f"{name}__startswith": PREFIX})
    )


class Command(BaseCommand):
    help = "Encrypt clinical text stored before field encryption; --check counts what is left."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="only count the values still in plaintext")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, check: bool = False, batch: int = 500, **options: Any) -> None:
        left = 0
        for model, names in sealed_columns():
            for name in names:
                if check:
                    count = plaintext(model, name).count()
                    left += count
                    self.stdout.write(f"{model._meta.label}.{name}: {count} in plaintext")
                    continue
                done = 0
                while True:
                    with transaction.atomic():
                        rows = list(plaintext(model, name).select_for_update().order_by("pk")[:batch])
                        for row in rows:
                            row.save(update_fields=[name])
                    done += len(rows)
                    if len(rows) < batch:
                        break
                self.stdout.write(f"{model._meta.label}.{name}: {done} encrypted")
        if check and left:
            raise CommandError(f"{left} values are still in plaintext: run manage.py seal_fields")
