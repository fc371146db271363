from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from biatec.core import events
        from deployments.issuance_gates import (
            compliance_metadata_field_register,
            issuance_gate_register,
            operation_gate_register,
            transfer_refusal_listener_register,
        )

        from .holder_operation_gate import chain_refusal_publish, holder_operation_gate
        from .holder_recovery import on_operation_transitioned
        from .issuance import compliance_gate_check
        from .operations_gate import compliance_operation_gate
        from .profiles import ComplianceProfileSerializer

        issuance_gate_register(compliance_gate_check)
        operation_gate_register(compliance_operation_gate)
        operation_gate_register(holder_operation_gate)  # the holder registry's rules (issue 19)
        transfer_refusal_listener_register(chain_refusal_publish)  # the chain's refusals: transfer.denied too
        events.subscribe(events.OperationTransitioned, on_operation_transitioned)  # a recovery moves the entry
        compliance_metadata_field_register(lambda: ComplianceProfileSerializer(
            required=False, allow_null=True,
            help_text="Optional compliance profile (MiCA evaluation, issuance policies)."))

        from . import approval_subjects
        from . import personal_data as gdpr

        approval_subjects.register()  # four-eyes approval of issuance policy and allow-list bulk changes

        gdpr.register()  # the GDPR export and erasure (accounts/personal_data.py)
