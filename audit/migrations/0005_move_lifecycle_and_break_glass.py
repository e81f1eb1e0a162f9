"""RetentionPolicy, DeletionRequest and DeletionCertificate moved to lifecycle (lifecycle 0001),
BreakGlass to cases (cases 0005): issue 14.

State only: the tables keep their names, indexes and constraints, and their rows; this only
removes the models from audit's state, after the new apps have taken them over.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_keyed_chain'),
        ('cases', '0005_breakglass'),
        ('lifecycle', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='DeletionRequest'),
                migrations.DeleteModel(name='DeletionCertificate'),
                migrations.DeleteModel(name='RetentionPolicy'),
                migrations.DeleteModel(name='BreakGlass'),
            ],
        ),
    ]
