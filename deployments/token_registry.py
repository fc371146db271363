"""Writes of the token registry: a `Token` when its deployment completes, and what a completed
operation changes in the row (paused, roles, destroyed, and the controlling account when a token
moves to the organization's treasury). Called by the pipeline inside the
`completed` transition's database transaction."""
from __future__ import annotations

from typing import Any

from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .models import Deployment
from .token_models import Operation, Token
from .treasury_moves import pending_removal_finish

ASA_ROLES = ("manager", "reserve", "freeze", "clawback")


def token_register(deployment: Deployment) -> Token:
    """The registry row of a completed deployment. Called once, in the `completed` transition's
    transaction (the state machine never completes a job twice; the row's one-to-one deployment
    would refuse a second row and roll that transition back)."""
    spec = STANDARDS[deployment.standard]
    request, results = deployment.request, deployment.results
    on_chain: dict[str, Any] = results.get("token") or {}
    if spec.is_asset:
        issuer = str(results.get("creator", ""))
        roles = {role: on_chain.get(role, "") for role in ASA_ROLES}
    elif spec.is_app:
        issuer = str(results.get("creator", ""))
        roles = {"owner": issuer}
    else:
        issuer = str(results.get("sender", ""))
        roles = {"owner": on_chain.get("owner") or request.get("owner") or issuer} if spec.mintable else {}
    return Token.objects.create(
        deployment=deployment, organization_id=deployment.organization_id, standard=deployment.standard,
        network=deployment.network, family=spec.family,
        contract_address=results.get("contract_address") or "",
        asset_id=results.get("asset_id"), app_id=results.get("app_id"),
        name=request.get("name", ""), symbol=request.get("symbol") or request.get("unit_name") or "",
        decimals=int(request.get("decimals") or 0), issuer_address=issuer, roles=roles,
        issuer_account=request.get("issuer_account") or "member",
        default_frozen=spec.is_asset and bool(on_chain.get("default_frozen", request.get("default_frozen", False))),
    )


def token_apply_operation(operation: Operation) -> Token:
    """Record what a completed operation changed on chain in the token's row."""
    token = Token.objects.select_for_update().get(pk=operation.token_id or "")
    request, kind = operation.request, operation.kind
    changed: list[str] = []
    if kind in (ops.PAUSE, ops.UNPAUSE):
        token.paused = kind == ops.PAUSE
        changed.append("paused")
    elif kind == ops.TRANSFER_OWNERSHIP:
        token.roles = {**token.roles, "owner": request["new_owner"]}
        changed.append("roles")
    elif kind == ops.SET_ROLES:
        token.roles = {**token.roles, **{r: request[r] for r in ASA_ROLES if r in request}}
        changed.append("roles")
    elif kind == ops.DESTROY:
        token.destroyed = True
        changed.append("destroyed")
    if request.get("to_treasury") and kind in (ops.TRANSFER_OWNERSHIP, ops.SET_ROLES, ops.TRANSFER):
        # The organization's treasury controls the token from now on: every later job signs with it.
        token.issuer_account, token.issuer_address = "organization", request["treasury_address"]
        changed += ["issuer_account", "issuer_address"]
    if changed:
        token.save(update_fields=[*changed, "updated_at"])
    return token


def job_completed(job: Any) -> None:
    """The pipeline's hook on `completed` (same database transaction)."""
    if isinstance(job, Operation):
        if job.token_id is not None:  # a key rotation's native sweep has no token
            token_apply_operation(job)
        pending_removal_finish(job)  # a member removal waiting for this move to the treasury
        if (job.request or {}).get("key_rotation"):
            from .key_rotation import key_rotation_operation_completed  # imports the operation services

            key_rotation_operation_completed(job)
    elif isinstance(job, Deployment):
        token_register(job)
