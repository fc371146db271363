from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The hash-chained audit log: every app may write to it (`biatec.audit.chain.audit_record`); it
    imports no app. It records domain events published on `biatec.core.events`."""

    name = "biatec.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import subscribers

        subscribers.connect()
