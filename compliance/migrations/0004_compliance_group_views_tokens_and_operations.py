"""The compliance staff group also reads the token registry and token operations (view only)."""
from django.db import migrations

VIEW_MODELS = [("deployments", "token"), ("deployments", "historicaltoken"), ("deployments", "operation"),
               ("deployments", "operationevent"), ("deployments", "operationtransaction"),
               ("deployments", "historicaloperation")]


def grant(apps, schema_editor):
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


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="compliance").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(
            content_type__app_label="deployments", codename__in=[f"view_{m}" for _, m in VIEW_MODELS]))


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_auditentry_moved_to_audit"),
        ("deployments", "0003_token_operations"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
