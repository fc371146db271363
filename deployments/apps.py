from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.member_hooks import token_control_register

        from . import tasks  # noqa: F401  (registers the Celery tasks that `queueing` names)
        from .treasury_moves import TOKEN_CONTROL

        token_control_register(TOKEN_CONTROL)  # member removal asks which tokens a member controls
