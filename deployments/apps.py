from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import personal_data as gdpr
        from . import tasks  # noqa: F401  (registers the Celery tasks that `queueing` names)

        gdpr.register()  # the GDPR export and erasure (accounts/personal_data.py)
