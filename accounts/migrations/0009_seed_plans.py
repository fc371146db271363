"""The four plans of issue 21 (the same rows as accounts.plans.SEED, frozen here). None: unlimited."""
from django.db import migrations

PLANS = (
    {"slug": "free", "name": "Free", "deployments_per_month": 3, "operations_per_month": 50,
     "allowlist_entries_per_token": 25, "webhook_subscriptions": 1, "api_keys": 1, "members": 3,
     "requests_per_minute": 60, "mainnet_allowed": False},
    {"slug": "basic", "name": "Basic", "deployments_per_month": 10, "operations_per_month": 1000,
     "allowlist_entries_per_token": 500, "webhook_subscriptions": 5, "api_keys": 5, "members": 10,
     "requests_per_minute": 300, "mainnet_allowed": True},
    {"slug": "premium", "name": "Premium", "deployments_per_month": 50, "operations_per_month": 10000,
     "allowlist_entries_per_token": 10000, "webhook_subscriptions": 20, "api_keys": 20, "members": 50,
     "requests_per_minute": 1200, "mainnet_allowed": True},
    {"slug": "enterprise", "name": "Enterprise", "deployments_per_month": None, "operations_per_month": None,
     "allowlist_entries_per_token": None, "webhook_subscriptions": None, "api_keys": None, "members": None,
     "requests_per_minute": None, "mainnet_allowed": True},
)


def seed(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    for row in PLANS:
        Plan.objects.get_or_create(slug=row["slug"], defaults={k: v for k, v in row.items() if k != "slug"})


def unseed(apps, schema_editor):
    apps.get_model("accounts", "Plan").objects.filter(
        slug__in=[row["slug"] for row in PLANS], organizations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_plans_and_usage")]
    operations = [migrations.RunPython(seed, unseed)]
