"""`AuditEntry` now belongs to the `audit` app (audit 0001), on the same table: state only."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0002_audit_append_only_and_compliance_group"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
