from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from deployments.issuance_gates import issuance_gate_register

        from .issuance import compliance_gate_check

        issuance_gate_register(compliance_gate_check)
