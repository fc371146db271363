"""The JSON shapes of deployments, defined once: these serializers are both what the API, the webhooks
and the exports send and what the OpenAPI schema documents (no second, hand-written definition)."""
from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from biatec.core.serializers import IsoDateTimeField, JsonObjectField
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS

from .models import (
    ChainJobEventRow,
    ChainTransactionRow,
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    DeploymentTransaction,
    TransactionStatus,
)


class DeploymentErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code, e.g. INSUFFICIENT_FUNDS.")
    message = serializers.CharField()
    retryable = serializers.BooleanField(help_text="Whether POST .../retry can help.")
    details = JsonObjectField()


class DeploymentResultsSerializer(serializers.Serializer):
    """What the chain answered. Other keys (block hash, gas used, the read-back `token`...) may follow."""

    schema_additional_properties = True

    tx_ids = serializers.ListField(child=serializers.CharField(), required=False)
    contract_address = serializers.CharField(required=False, allow_null=True, help_text="EVM standards.")
    asset_id = serializers.IntegerField(required=False, allow_null=True, help_text="ASA and ARC-3 standards.")
    app_id = serializers.IntegerField(required=False, allow_null=True, help_text="ARC-200 and ARC-1400 standards.")
    metadata_url = serializers.CharField(required=False, allow_null=True, help_text="ARC-3: ipfs://<cid>#arc3")


def _links(deployment: Deployment) -> dict[str, str]:
    network = NETWORKS.get(deployment.network)
    if network is None or network.is_local:
        return {}
    links: dict[str, str] = {}
    results = deployment.results or {}
    tx_ids = results.get("tx_ids") or []
    if network.explorer_tx_url and tx_ids:
        links["transaction"] = network.explorer_tx_url.format(tx_ids[0])
    address = results.get("contract_address")
    if network.explorer_address_url and address:
        links["contract"] = network.explorer_address_url.format(address)
    return links


class DeploymentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    status = serializers.ChoiceField(choices=DeploymentStatus.choices)
    standard = serializers.ChoiceField(choices=sorted(STANDARDS))
    network = serializers.ChoiceField(choices=sorted(NETWORKS))
    correlation_id = serializers.CharField()
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()


class DeploymentDetailSerializer(DeploymentSummarySerializer):
    organization_id = serializers.UUIDField()
    creator_id = serializers.UUIDField()
    request = JsonObjectField(help_text="The validated request, with the defaults applied.")
    compliance_metadata = JsonObjectField(allow_null=True)
    results = serializers.SerializerMethodField(help_text="tx_ids, contract_address / asset_id / app_id, "
                                                          "block or round, read-back values")
    links = serializers.SerializerMethodField(help_text="Block explorer links (public networks).")
    error = serializers.SerializerMethodField()
    completed_at = IsoDateTimeField(allow_null=True)

    @extend_schema_field(DeploymentResultsSerializer)
    def get_results(self, deployment: Deployment) -> dict[str, Any]:
        return deployment.results or {}

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "format": "uri"}})
    def get_links(self, deployment: Deployment) -> dict[str, str]:
        return _links(deployment)

    @extend_schema_field(DeploymentErrorSerializer(allow_null=True))
    def get_error(self, deployment: Deployment) -> dict[str, Any] | None:
        if not deployment.error_code:
            return None
        return {"code": deployment.error_code, "message": deployment.error_message,
                "retryable": deployment.error_retryable, "details": deployment.error_details}


class DeploymentEventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(source="pk")
    from_status = serializers.SerializerMethodField()
    to_status = serializers.ChoiceField(choices=DeploymentStatus.choices)
    at = IsoDateTimeField()
    actor = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    correlation_id = serializers.CharField(allow_blank=True)
    facts = JsonObjectField()

    @extend_schema_field(serializers.ChoiceField(choices=DeploymentStatus.choices, allow_null=True))
    def get_from_status(self, event: DeploymentEvent) -> str | None:
        return event.from_status or None


class DeploymentTransactionSerializer(serializers.Serializer):
    """One chain step's transaction (or Algorand group). Replacements of a stuck EVM transaction
    carry the same nonce and `replaces`; at most one of them is ever `confirmed`."""

    step = serializers.CharField(help_text="create, app_create, bootstrap, ... (operations: mint, transfer, ...)")
    part = serializers.IntegerField(help_text="Independent part of the step (a batch's recipient or group), from 0.")
    tx_id = serializers.CharField()
    group_tx_ids = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=TransactionStatus.choices)
    sender = serializers.CharField()
    nonce = serializers.IntegerField(allow_null=True, help_text="EVM account nonce.")
    replaces = serializers.SerializerMethodField(help_text="tx_id of the stuck transaction this one replaces.")
    confirmed_in = serializers.IntegerField(allow_null=True, help_text="Block number or round.")
    broadcast_attempts = serializers.IntegerField()
    created_at = IsoDateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_replaces(self, tx: DeploymentTransaction) -> str | None:
        return (tx.details or {}).get("replaces") or None


def _plain(data: Any) -> Any:
    """ReturnDict/OrderedDict -> dict, recursively (stored as JSON, compared in tests)."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


@functools.cache
def _renderer(serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """One instance per serializer class, its fields bound once. `Serializer(instance).data` deep-copies
    every declared field for each object rendered (a third of a status read's CPU); rendering is
    `to_representation`, which only reads the bound fields, and these serializers take no context
    and keep no state, so every thread shares the one instance."""
    renderer = serializer()
    renderer.fields  # noqa: B018 - bind the fields now, not in two threads at once later
    return renderer


def _rendered(serializer: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    result: dict[str, Any] = _plain(_renderer(serializer).to_representation(instance))
    return result


def deployment_summary(deployment: Deployment) -> dict[str, Any]:
    return _rendered(DeploymentSummarySerializer, deployment)


def deployment_detail(deployment: Deployment) -> dict[str, Any]:
    return _rendered(DeploymentDetailSerializer, deployment)


def event_row(event: ChainJobEventRow) -> dict[str, Any]:
    return _rendered(DeploymentEventSerializer, event)


def transaction_row(tx: ChainTransactionRow) -> dict[str, Any]:
    return _rendered(DeploymentTransactionSerializer, tx)
