"""The compliance staff group also reads the allow-list drift reports (view only), named as the
admin shows them."""
from django.db import migrations

VIEW_MODELS = ["allowlistdriftreport"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="compliance")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="compliance",
                                                     codename__in=[f"view_{m}" for m in VIEW_MODELS]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="compliance").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(
            content_type__app_label="compliance", codename__in=[f"view_{m}" for m in VIEW_MODELS]))


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_allowlist_sync_and_drift"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="allowlistdriftreport",
            options={"ordering": ["-created_at"], "verbose_name": "allow-list drift report"},
        ),
        migrations.RunPython(grant, revoke),
    ]
