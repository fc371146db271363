from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, organizations, ARC-76 + EVM keys, key vault, auth API, security events."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import notifications_subscribers, personal_data_accounts, personal_data_team, signals

        signals.connect()
        notifications_subscribers.connect()  # the e-mails of security events (docs/notifications.md)
        personal_data_accounts.register()
        personal_data_team.register()
