from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from biatec.core import events

        from . import tasks  # noqa: F401  (registers the Celery tasks that `queueing` names)
        from .key_rotation import key_rotation_on_started

        events.subscribe(events.KeyRotationStarted, key_rotation_on_started, on_commit=True)
