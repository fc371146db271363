from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, organizations, ARC-76 + EVM keys, key vault, auth API, security events."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import personal_data_accounts, signals

        signals.connect()
        personal_data_accounts.register()
