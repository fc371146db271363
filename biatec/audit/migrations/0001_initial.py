"""The audit log moves from the `compliance` app to `audit` without touching the database: the model
keeps its table (`compliance_auditentry`), its indexes, its append-only trigger and every entry.
State only (SeparateDatabaseAndState); compliance 0003 removes the model from compliance's state.
The content type is renamed, so permissions already granted on it (the compliance staff group's
`view_auditentry`) keep pointing at the model."""
import django.db.models.deletion
from django.db import migrations, models

import biatec.core.models


def rename_content_type(apps, schema_editor, *, source="compliance", target="audit"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=target, model="auditentry").exists():
        return
    ContentType.objects.filter(app_label=source, model="auditentry").update(app_label=target)


def rename_content_type_back(apps, schema_editor):
    rename_content_type(apps, schema_editor, source="audit", target="compliance")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("compliance", "0002_audit_append_only_and_compliance_group"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("sequence", models.BigIntegerField(unique=True)),
                        ("occurred_at", models.DateTimeField(db_index=True)),
                        ("actor", models.CharField(max_length=128)),
                        ("action", models.CharField(max_length=64)),
                        ("object_type", models.CharField(blank=True, default="", max_length=64)),
                        ("object_id", models.CharField(blank=True, default="", max_length=64)),
                        ("correlation_id", models.CharField(blank=True, db_index=True, default="", max_length=64)),
                        ("payload", models.JSONField(blank=True, default=dict)),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("entry_hash", models.CharField(max_length=64, unique=True)),
                        ("organization", models.ForeignKey(blank=True, db_index=False, null=True,
                                                           on_delete=django.db.models.deletion.PROTECT,
                                                           related_name="+", to="accounts.organization")),
                    ],
                    options={
                        "db_table": "compliance_auditentry",
                        "verbose_name_plural": "audit entries",
                        "ordering": ["sequence"],
                        "indexes": [
                            models.Index(fields=["organization", "-sequence"], name="audit_org_seq"),
                            models.Index(fields=["organization", "action", "-sequence"], name="audit_org_action_seq"),
                            models.Index(fields=["object_type", "object_id"], name="audit_object"),
                        ],
                    },
                    bases=(biatec.core.models.AppendOnlyMixin, models.Model),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, rename_content_type_back),
    ]
