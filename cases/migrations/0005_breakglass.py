"""BreakGlass (a case-access grant) moves here from audit (issue 14).

State only: the table audit_breakglass, its index and foreign keys stay exactly as audit 0003
created them, so no row is touched. audit 0005 drops the model from audit's state.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_keyed_chain'),
        ('cases', '0004_retention_and_legal_hold'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='BreakGlass',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('reason', models.TextField(max_length=1000)),
                        ('granted_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('expires_at', models.DateTimeField()),
                        ('admin', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='break_glass', to='cases.case')),
                    ],
                    options={
                        'db_table': 'audit_breakglass',
                        'ordering': ['-granted_at'],
                        'indexes': [models.Index(fields=['case', 'admin', 'expires_at'], name='audit_break_case_id_85d958_idx')],
                    },
                ),
            ],
        ),
    ]
