"""The audit table refuses UPDATE and DELETE at the database level (the hash chain makes any change
evident; this stops the application itself from making one), and the `compliance` staff group gets
view permissions (no write access to deployments)."""
from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION compliance_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'compliance_auditentry rows are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compliance_auditentry_append_only
    BEFORE UPDATE OR DELETE ON compliance_auditentry
    FOR EACH ROW EXECUTE FUNCTION compliance_auditentry_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS compliance_auditentry_append_only ON compliance_auditentry;
DROP FUNCTION IF EXISTS compliance_auditentry_append_only();
"""

VIEW_MODELS = [
    ("deployments", "deployment"), ("deployments", "deploymentevent"), ("deployments", "deploymenttransaction"),
    ("deployments", "historicaldeployment"), ("accounts", "organization"), ("accounts", "securityevent"),
    ("compliance", "issuancepolicy"), ("compliance", "historicalissuancepolicy"),
    ("compliance", "compliancedecision"), ("compliance", "auditentry"), ("compliance", "attestation"),
    ("compliance", "attestationkey"), ("compliance", "deploymentcompliancerecord"),
]


def append_only_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def append_only_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def create_group(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the group can hold them.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="compliance")
    for app_label, model in VIEW_MODELS:
        permission = Permission.objects.filter(content_type__app_label=app_label, content_type__model=model,
                                               codename=f"view_{model}").first()
        if permission is not None:
            group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="compliance").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(append_only_forward, append_only_backward),
        migrations.RunPython(create_group, remove_group),
    ]
