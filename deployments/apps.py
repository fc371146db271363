from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.member_hooks import token_control_register
        from biatec.core import events

        from . import notifications, tasks  # noqa: F401  (tasks: registers the Celery tasks that `queueing` names)
        from . import personal_data as gdpr
        from .key_rotation import key_rotation_on_started
        from .treasury_moves import TOKEN_CONTROL

        token_control_register(TOKEN_CONTROL)  # member removal asks which tokens a member controls
        events.subscribe(events.KeyRotationStarted, key_rotation_on_started, on_commit=True)
        notifications.connect()
        gdpr.register()  # the GDPR export and erasure (accounts/personal_data.py)
