"""The JSON shapes of registered tokens and their operations, defined once (API, webhooks, OpenAPI)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from biatec.core.serializers import IsoDateTimeField, JsonObjectField
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .adapters.algorand_operations import transfers_per_part
from .models import DeploymentStatus, TransactionStatus
from .presenters import DeploymentErrorSerializer, _rendered
from .token_enforcement import ENFORCEMENT_CHOICES, token_enforcement
from .token_models import Operation, Token
from .token_state import supported_operations


def _text(value: Any) -> Any:
    """Amounts as decimal strings (beyond JSON's safe integers), recursively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


class TokenSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    deployment_id = serializers.UUIDField()
    standard = serializers.ChoiceField(choices=sorted(STANDARDS))
    network = serializers.ChoiceField(choices=sorted(NETWORKS))
    contract_address = serializers.CharField(allow_blank=True, help_text="EVM standards.")
    asset_id = serializers.IntegerField(allow_null=True, help_text="ASA and ARC-3 standards.")
    app_id = serializers.IntegerField(allow_null=True, help_text="ARC-200 and ARC-1400 standards.")
    name = serializers.CharField()
    symbol = serializers.CharField(allow_blank=True, help_text="Symbol, or an asset's unit name.")
    decimals = serializers.IntegerField()
    issuer_address = serializers.CharField(help_text="The account that signs the token's operations.")
    issuer_account = serializers.ChoiceField(
        choices=["organization", "member"],
        help_text="Whose key controls the token: the organization's treasury account, or the member who created it "
                  "(docs/treasury.md).")
    paused = serializers.BooleanField(help_text="As the platform's last pause/unpause left it.")
    destroyed = serializers.BooleanField()
    roles = JsonObjectField(help_text="owner, or an asset's manager/reserve/freeze/clawback, as last recorded.")
    operations = serializers.SerializerMethodField(help_text="Operations this token supports now.")
    enforcement = serializers.SerializerMethodField(
        help_text="Where the holder registry (allow list) is enforced: \"on-chain\" when the chain itself refuses an "
                  "unlisted holder (arc1400-mintable, erc20-security, a regulated asset: default-frozen with the "
                  "issuer as freeze address), \"off-chain\" when only the API's pre-checks apply.")
    created_at = IsoDateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ops.KINDS)))
    def get_operations(self, token: Token) -> list[str]:
        return supported_operations(token)

    @extend_schema_field(serializers.ChoiceField(choices=ENFORCEMENT_CHOICES))
    def get_enforcement(self, token: Token) -> str:
        return token_enforcement(token)


class HolderStateSerializer(serializers.Serializer):
    address = serializers.CharField()
    balance = serializers.CharField(help_text="Base units, decimal string.")
    frozen = serializers.BooleanField()
    opted_in = serializers.BooleanField(help_text="Always true for contract tokens (no opt-in).")
    whitelisted = serializers.BooleanField(required=False, help_text="ARC-1400: on the contract's whitelist.")
    eligible = serializers.BooleanField(required=False,
                                        help_text="erc20-security: on the contract's eligibility registry.")
    frozen_tokens = serializers.CharField(required=False, help_text="erc20-security: the part of the balance frozen "
                                                                     "by freeze_partial (base units).")


class TokenLiveStateSerializer(serializers.Serializer):
    total_supply = serializers.CharField()
    circulating_supply = serializers.CharField(help_text="Total supply minus the issuer's (reserve's) balance.")
    issuer_balance = serializers.CharField()
    paused = serializers.BooleanField(help_text="Paused (ERC-20) or halted (ARC-1400), read from the chain.")
    cap = serializers.CharField(allow_null=True)
    deleted = serializers.BooleanField(help_text="A destroyed asset.")
    roles = JsonObjectField(help_text="owner, or manager/reserve/freeze/clawback (\"\" = cleared for good).")


class TokenDetailSerializer(TokenSummarySerializer):
    organization_id = serializers.UUIDField()
    chain_state = TokenLiveStateSerializer(help_text="Read from the chain for this response.")


def token_summary(token: Token) -> dict[str, Any]:
    return _rendered(TokenSummarySerializer, token)


def token_detail(token: Token, live: dict[str, Any]) -> dict[str, Any]:
    body = _rendered(TokenSummarySerializer, token)
    body["organization_id"] = str(token.organization_id)
    body["operations"] = supported_operations(token, roles=live["roles"] if STANDARDS[token.standard].is_asset
                                              else None)
    body["chain_state"] = _text({k: v for k, v in live.items() if k not in ("holders", "default_frozen")})
    return body


def holder_row(address: str, holding: dict[str, Any]) -> dict[str, Any]:
    return {"address": address, **_text(holding)}


class OperationSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    token_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ops.ALL_KINDS)
    status = serializers.ChoiceField(choices=DeploymentStatus.choices)
    correlation_id = serializers.CharField()
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()


class RecipientResultSerializer(serializers.Serializer):
    to = serializers.CharField()
    amount = serializers.CharField()
    email = serializers.CharField(required=False, help_text="When the recipient was named by e-mail.")
    part = serializers.IntegerField(help_text="The transaction (EVM) or atomic group (Algorand) that pays it.")
    status = serializers.ChoiceField(choices=["pending", "confirmed", "failed"])
    tx_id = serializers.CharField(allow_null=True)


class OperationDetailSerializer(OperationSummarySerializer):
    organization_id = serializers.UUIDField()
    creator_id = serializers.UUIDField()
    standard = serializers.ChoiceField(choices=sorted(STANDARDS))
    network = serializers.ChoiceField(choices=sorted(NETWORKS))
    request = JsonObjectField(help_text="The validated request, recipients resolved to addresses.")
    results = JsonObjectField(help_text="tx_ids and the token's state read back after the operation.")
    recipients = RecipientResultSerializer(many=True, required=False,
                                           help_text="Transfers and batch distributions: one row per recipient.")
    error = DeploymentErrorSerializer(allow_null=True)
    completed_at = IsoDateTimeField(allow_null=True)


def _recipients(operation: Operation) -> list[dict[str, Any]] | None:
    request = operation.request
    if operation.kind == ops.BATCH_TRANSFER:
        rows = request["transfers"]
    elif operation.kind in (ops.TRANSFER, ops.MINT):
        rows = [{"to": request["to"], "amount": request["amount"]}]
    else:
        return None
    algorand = operation.token is not None and operation.token.family == "algorand"
    per_group = transfers_per_part(operation.standard) if algorand else 1
    step = ops.TRANSFER if operation.kind == ops.BATCH_TRANSFER else operation.kind
    by_part: dict[int, tuple[str, str]] = {}
    for tx in operation.transactions.filter(step=step).order_by("created_at"):
        state = {"confirmed": "confirmed", "failed": "failed"}.get(str(tx.status), "pending")
        if tx.status != TransactionStatus.SUPERSEDED and by_part.get(tx.part, ("", ""))[0] != "confirmed":
            by_part[tx.part] = (state, tx.tx_id)
    named = request.get("named") or {}
    out = []
    for index, row in enumerate(rows):
        part = index // per_group
        state, tx_id = by_part.get(part, ("pending", None))
        out.append({"to": row["to"], "amount": str(row["amount"]), **({"email": named[row["to"]]}
                    if row["to"] in named else {}), "part": part, "status": state, "tx_id": tx_id})
    return out


def operation_summary(operation: Operation) -> dict[str, Any]:
    return _rendered(OperationSummarySerializer, operation)


def operation_detail(operation: Operation) -> dict[str, Any]:
    body = _rendered(OperationSummarySerializer, operation)
    body |= {"organization_id": str(operation.organization_id), "creator_id": str(operation.creator_id),
             "standard": operation.standard, "network": operation.network,
             "request": {k: v for k, v in operation.request.items() if k != "opt_in_users"},
             "results": operation.results or {},
             "error": ({"code": operation.error_code, "message": operation.error_message,
                        "retryable": operation.error_retryable, "details": operation.error_details}
                       if operation.error_code else None),
             "completed_at": operation.completed_at.isoformat() if operation.completed_at else None}
    recipients = _recipients(operation)
    if recipients is not None:
        body["recipients"] = recipients
    return body
