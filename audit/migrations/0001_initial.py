from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("C", "create"),
                            ("R", "read"),
                            ("U", "update"),
                            ("D", "delete"),
                            ("E", "execute"),
                        ],
                        max_length=1,
                    ),
                ),
                ("event_type", models.CharField(max_length=64)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("0", "success"),
                            ("4", "minor failure"),
                            ("8", "serious failure"),
                            ("12", "major failure"),
                        ],
                        default="0",
                        max_length=2,
                    ),
                ),
                ("actor_role", models.CharField(blank=True, max_length=32)),
                ("source_ip", models.GenericIPAddressField(blank=True, null=True)),
                ("user_agent", models.CharField(blank=True, max_length=256)),
                ("entity_type", models.CharField(blank=True, max_length=64)),
                ("entity_id", models.CharField(blank=True, max_length=64)),
                ("case_id", models.UUIDField(blank=True, null=True)),
                ("patient_id", models.UUIDField(blank=True, null=True)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["at"], name="audit_at_idx"),
                    models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
                    models.Index(
                        fields=["patient_id", "at"], name="audit_patient_at_idx"
                    ),
                    models.Index(fields=["case_id", "at"], name="audit_case_at_idx"),
                ],
            },
        ),
    ]
