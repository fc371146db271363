"""A key rotation's `native_sweep` operation has no token (docs/decisions/0107)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("deployments", "0007_approval_subjects"),
    ]

    operations = [
        migrations.AlterField(
            model_name="operation",
            name="token",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="operations", to="deployments.token"),
        ),
        migrations.AddConstraint(
            model_name="operation",
            constraint=models.CheckConstraint(
                condition=models.Q(("token__isnull", False), ("kind", "native_sweep"), _connector="OR"),
                name="op_token_unless_native_sweep"),
        ),
    ]
