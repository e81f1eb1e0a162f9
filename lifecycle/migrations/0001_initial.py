"""RetentionPolicy, DeletionRequest and DeletionCertificate move here from audit (issue 14).

State only: the tables, their indexes and constraints stay exactly as audit 0003 created them
(db_table keeps the audit_ names), so no row is touched. audit 0005 drops them from audit's state.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

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
                    name='DeletionCertificate',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(choices=[('erasure', 'Erasure on request'), ('retention', 'Retention period ended')], max_length=10)),
                        ('patient_ref', models.UUIDField()),
                        ('issued_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('content', models.TextField()),
                        ('signature', models.CharField(max_length=128)),
                        ('key_id', models.CharField(max_length=16)),
                    ],
                    options={
                        'db_table': 'audit_deletioncertificate',
                        'ordering': ['-issued_at'],
                        'indexes': [models.Index(fields=['patient_ref', 'issued_at'], name='audit_delet_patient_14309f_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='RetentionPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('country', models.CharField(blank=True, max_length=2, unique=True)),
                        ('keep_days', models.PositiveIntegerField()),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'audit_retentionpolicy',
                        'ordering': ['country'],
                    },
                ),
                migrations.CreateModel(
                    name='DeletionRequest',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('patient_ref', models.UUIDField()),
                        ('keep_account', models.BooleanField(default=False)),
                        ('status', models.CharField(choices=[('pending', 'Waiting for approval'), ('approved', 'Approved, being carried out'), ('refused', 'Refused'), ('done', 'Done')], default='pending', max_length=10)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('auto_approved', models.BooleanField(default=False)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('refusal_code', models.CharField(blank=True, max_length=32)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('certificate', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='request', to='lifecycle.deletioncertificate')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='deletion_requests', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'audit_deletionrequest',
                        'ordering': ['-requested_at'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['pending', 'approved'])), fields=('patient_ref',), name='audit_one_open_deletion_request')],
                    },
                ),
            ],
        ),
    ]
