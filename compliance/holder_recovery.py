"""The holder registry follows an erc20-security `recovery` (a lost wallet's whole position moved to a
new wallet on chain): once the operation completed, in the worker's transaction, the lost wallet's
allow-list entry is revoked. Subscribed to `OperationTransitioned` by ComplianceConfig.ready."""
from __future__ import annotations

from biatec.core import events
from deployments.models import DeploymentStatus
from deployments.token_models import Operation
from tokens.standards import operations as ops

from .holder_services import allowlist_recovered


def on_operation_transitioned(event: events.OperationTransitioned) -> None:
    if event.kind != ops.RECOVERY or event.to_status != DeploymentStatus.COMPLETED:
        return
    operation = Operation.objects.select_related("token").get(pk=event.operation_id)
    assert operation.token is not None  # a recovery is a token's operation
    allowlist_recovered(token=operation.token, lost_address=operation.request["lost_address"],
                        new_address=operation.request["new_address"], actor=event.actor)
