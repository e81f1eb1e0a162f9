"""AuditReview moved to console (console 0001): audit holds the trail only (issue 14).

State only: the table and its rows stay; this removes the model from audit's state.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_move_lifecycle_and_break_glass'),
        ('console', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='AuditReview')],
        ),
    ]
