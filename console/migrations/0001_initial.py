"""AuditReview moves here from audit (issue 14): audit holds the trail only.

State only: the table keeps its name (audit_auditreview), its unique month and its rows; audit
0006 drops the model from audit's state after this migration has taken it over.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('audit', '0005_move_lifecycle_and_break_glass'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AuditReview',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField(unique=True)),
                        ('checks', models.JSONField(default=list)),
                        ('note', models.TextField(blank=True, max_length=2000)),
                        ('signed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'audit_auditreview',
                        'ordering': ['-month'],
                    },
                ),
            ],
        ),
    ]
