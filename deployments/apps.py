from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import notifications, tasks  # noqa: F401  (tasks: registers the Celery tasks that `queueing` names)

        notifications.connect()
