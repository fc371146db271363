"""Holder-registry endpoints (thin views over `holder_services`, `holder_selectors`, `transfer_check`):

- `/api/v1/tokens/{token_id}/allowlist` (list, add), `/allowlist/{entry_id}` (read, PATCH, DELETE),
  `/allowlist/bulk` (up to 1,000 rows, all or nothing), `/allowlist/export?format=csv|json`;
- `/api/v1/tokens/{token_id}/jurisdiction-rules` (GET, PUT);
- `/api/v1/tokens/{token_id}/transfers/validate` (the pre-check, every failed rule named);
- `/api/v1/compliance/blocklist` (list, add; `?organization=`), `/blocklist/{block_id}`.

Order of the answers: the token (another organization's: 404), the caller's role (writes need owner,
admin or issuer: 403), the body (400 VALIDATION_ERROR), then the rules (422)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.organization_context import organization_chosen
from accounts.permissions import AuthenticatedRequest, RoleRequired
from accounts.selectors import organization_ids_of
from biatec.audit.chain import audit_record
from biatec.core.actors import actor_of
from biatec.core.api import cursor_page
from biatec.core.csv_export import csv_response
from biatec.core.errors import ValidationFailed
from biatec.core.schema import cursor_parameters, paginated
from biatec.core.serializers import JsonObjectField, StrictSerializer
from deployments.apis import IDEMPOTENCY_PARAMETER
from deployments.approval_presenters import ApprovalRequestSerializer
from deployments.selectors_tokens import token_get
from deployments.token_models import Token
from tokens.networks import EVM
from tokens.standards.fields import AlgorandAddressField, BigIntegerStringField, EvmAddressField

from . import holder_selectors as sel
from . import holder_services as svc
from .api_approvals import idempotency_key_of, idempotent_response, written_or_waiting
from .apis import EXPORT_RENDERERS
from .approval_subjects import allowlist_bulk_write
from .countries import ISO_3166_ALPHA2
from .models import AllowListEntry, BlockListEntry
from .selectors import compliance_membership
from .transfer_check import transfer_check

MAX_COUNTRIES = 300


def address_of(family: str, value: Any) -> str:
    """A holder address of `family`, normalised (EVM: EIP-55 checksummed)."""
    field = EvmAddressField() if family == EVM else AlgorandAddressField()
    return field.run_validation(value)


def any_address(value: Any) -> str:
    """An EVM or Algorand address (the block list is per organization, across chains)."""
    text = value if isinstance(value, str) else ""
    return address_of(EVM if text.startswith("0x") else "algorand", value)


def country(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_3166_ALPHA2:
        raise serializers.ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")
    return code


# ---- Serializers ---------------------------------------------------------------------------------------
class EntryFieldsSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=AllowListEntry.Status.choices, required=False)
    kyc_verified = serializers.BooleanField(required=False)
    kyc_provider = serializers.CharField(max_length=128, required=False, allow_blank=True)
    kyc_verified_at = serializers.DateTimeField(required=False, allow_null=True)
    kyc_expires_at = serializers.DateTimeField(required=False, allow_null=True)
    investor_category = serializers.ChoiceField(choices=AllowListEntry.InvestorCategory.choices, required=False)
    jurisdiction = serializers.CharField(max_length=2, required=False, allow_blank=True,
                                         help_text="ISO 3166-1 alpha-2 country of the investor.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate_jurisdiction(self, value: str) -> str:
        return country(value) if value else ""


class EntryCreateSerializer(EntryFieldsSerializer):
    address = serializers.CharField(max_length=64, required=False,
                                    help_text="The holder's address on the token's chain (or give `email`).")
    email = serializers.EmailField(required=False, help_text="A registered member of the token's organization.")

    def validate_address(self, value: str) -> str:
        return address_of(self.context["family"], value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("address" in attrs) == ("email" in attrs):
            raise serializers.ValidationError({"address": ["Give exactly one of `address` and `email`."]})
        return attrs


class BulkSerializer(StrictSerializer):
    entries = serializers.ListField(child=JsonObjectField(), min_length=1, max_length=svc.MAX_BULK_ROWS,
                                    help_text="Rows as the add endpoint's body; an address already listed is "
                                              "updated with the fields its row gives.")


class BulkRequestSerializer(StrictSerializer):
    """The bulk body as documented (rows are validated one by one, so that every bad row is named)."""

    entries = EntryCreateSerializer(many=True, help_text="1 to 1,000 rows.")


class EntrySyncSerializer(serializers.Serializer):
    operation_id = serializers.UUIDField()
    status = serializers.CharField(help_text="The operation's status (queued ... completed, failed).")


class EntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    token_id = serializers.UUIDField()
    address = serializers.CharField()
    user_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=AllowListEntry.Status.choices)
    kyc_verified = serializers.BooleanField()
    kyc_provider = serializers.CharField()
    kyc_verified_at = serializers.DateTimeField(allow_null=True)
    kyc_expires_at = serializers.DateTimeField(allow_null=True)
    investor_category = serializers.ChoiceField(choices=AllowListEntry.InvestorCategory.choices)
    jurisdiction = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    added_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    sync = EntrySyncSerializer(allow_null=True, help_text="The allowlist_sync operation carrying the entry's last "
                               "change to the chain (tokens that enforce on chain); null when none was needed.")


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = EntrySerializer(many=True)


class ExportSerializer(serializers.Serializer):
    token_id = serializers.UUIDField()
    count = serializers.IntegerField()
    results = EntrySerializer(many=True)


class RulesInputSerializer(StrictSerializer):
    allowed_countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False,
                                              max_length=MAX_COUNTRIES, help_text="Empty: every country.")
    blocked_countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False,
                                              max_length=MAX_COUNTRIES)
    max_holders = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    retail_allowed = serializers.BooleanField(required=False)
    kyc_required = serializers.BooleanField(required=False)
    kyc_max_age_days = serializers.IntegerField(min_value=1, max_value=36_500, required=False, allow_null=True)

    def _countries(self, values: list[str]) -> list[str]:
        return sorted({country(v) for v in values})

    def validate_allowed_countries(self, value: list[str]) -> list[str]:
        return self._countries(value)

    def validate_blocked_countries(self, value: list[str]) -> list[str]:
        return self._countries(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        both = set(attrs.get("allowed_countries", [])) & set(attrs.get("blocked_countries", []))
        if both:
            raise serializers.ValidationError({"blocked_countries": [f"Also allowed: {', '.join(sorted(both))}."]})
        return attrs


class RulesSerializer(serializers.Serializer):
    token_id = serializers.UUIDField()
    configured = serializers.BooleanField(help_text="False: the token has no rules yet (the defaults shown).")
    allowed_countries = serializers.ListField(child=serializers.CharField())
    blocked_countries = serializers.ListField(child=serializers.CharField())
    max_holders = serializers.IntegerField(allow_null=True)
    retail_allowed = serializers.BooleanField()
    kyc_required = serializers.BooleanField()
    kyc_max_age_days = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class TransferInputSerializer(StrictSerializer):
    sender = serializers.CharField(max_length=64)
    to = serializers.CharField(max_length=64)
    amount = BigIntegerStringField(min_value=1)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("sender")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        for name in ("from", "to"):
            try:
                attrs[name] = address_of(self.context["family"], attrs[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class FailedRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    party = serializers.ChoiceField(choices=["from", "to", "token"])
    message = serializers.CharField()


class TransferResultSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    rules = serializers.ListField(child=serializers.CharField(), help_text="Every failed rule, by name.")
    failures = FailedRuleSerializer(many=True)
    chain = serializers.DictField(help_text="`checked`: whether the live chain state was read (paused, frozen, "
                                            "balance); when not, `code` and `message` say why.")


class BlockFieldsSerializer(StrictSerializer):
    category = serializers.ChoiceField(choices=BlockListEntry.Category.choices, required=False)
    effective_from = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BlockCreateSerializer(BlockFieldsSerializer):
    address = serializers.CharField(max_length=64)
    category = serializers.ChoiceField(choices=BlockListEntry.Category.choices)

    def validate_address(self, value: str) -> str:
        return any_address(value)


class BlockSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    address = serializers.CharField()
    category = serializers.ChoiceField(choices=BlockListEntry.Category.choices)
    effective_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    in_force = serializers.BooleanField()
    reason = serializers.CharField()
    added_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _valid(serializer_class: type[serializers.Serializer], data: Any, **context: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _writer_token(view: APIView, request: AuthenticatedRequest, token_id: Any) -> Token:
    """X's token (else 404) if the caller's role there holds the view's action (else 403)."""
    token = token_get(user=request.user, token_id=token_id)
    view.check_object_permissions(request, token)
    return token


def _times_check(values: dict[str, Any], *, start: str, end: str) -> None:
    if values.get(start) and values.get(end) and values[end] <= values[start]:
        raise ValidationFailed(details={"fields": {end: [f"Must be after `{start}`."]}})


# ---- Allow list -----------------------------------------------------------------------------------------
class EntryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AllowListEntry.Status.choices, required=False)
    jurisdiction = serializers.CharField(max_length=2, required=False)
    investor_category = serializers.ChoiceField(choices=AllowListEntry.InvestorCategory.choices, required=False)
    address = serializers.CharField(max_length=64, required=False)

    def validate_jurisdiction(self, value: str) -> str:
        return value.strip().upper()


class AllowListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "post": roles.MANAGE_ALLOWLIST}
    error_statuses = (402, 409, 422)  # 402: the plan's entries per token

    @extend_schema(parameters=[EntryFilterSerializer, *cursor_parameters()], tags=["holder registry"],
                   operation_id="tokens_allowlist_list",
                   responses={200: paginated("AllowListPage", EntrySerializer(many=True))})
    def get(self, request: AuthenticatedRequest, token_id: str) -> Response:
        filters = _valid(EntryFilterSerializer, request.query_params)
        token = token_get(user=request.user, token_id=token_id)
        qs = sel.allowlist_entries(token=token, filters=filters)
        return cursor_page(qs, request=request, view=self, rows=lambda page: [sel.entry_row(e) for e in page])

    @extend_schema(request=EntryCreateSerializer, responses={201: EntrySerializer}, tags=["holder registry"],
                   operation_id="tokens_allowlist_create",
                   description="Add an entry (`status` default `active`). An active entry must pass the token's "
                               "jurisdiction rules (422 ALLOWLIST_RULE_VIOLATION, `details.rules`) and must not be "
                               "on the block list (422 ADDRESS_BLOCKED).")
    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        values = _valid(EntryCreateSerializer, request.data, family=token.family)
        _times_check(values, start="kyc_verified_at", end="kyc_expires_at")
        address, email = values.pop("address", None), values.pop("email", None)
        entry = svc.allowlist_entry_create(token=token, address=address, email=email, values=values,
                                           actor=actor_of(request.user))
        return Response(sel.entry_row(entry), status=status.HTTP_201_CREATED)


class AllowListEntryApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "patch": roles.MANAGE_ALLOWLIST, "delete": roles.MANAGE_ALLOWLIST}
    error_statuses = (422,)

    @extend_schema(responses={200: EntrySerializer}, tags=["holder registry"])
    def get(self, request: AuthenticatedRequest, token_id: str, entry_id: str) -> Response:
        token = token_get(user=request.user, token_id=token_id)
        return Response(sel.entry_row(sel.allowlist_entry_get(token=token, entry_id=entry_id)))

    @extend_schema(request=EntryFieldsSerializer, responses={200: EntrySerializer}, tags=["holder registry"],
                   description="Change the entry (suspend, revoke, activate, KYC ...). Activating checks the rules "
                               "and the block list as adding does.")
    def patch(self, request: AuthenticatedRequest, token_id: str, entry_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        entry = sel.allowlist_entry_get(token=token, entry_id=entry_id)
        values = _valid(EntryFieldsSerializer, request.data)
        merged = {"kyc_verified_at": entry.kyc_verified_at, "kyc_expires_at": entry.kyc_expires_at, **values}
        _times_check(merged, start="kyc_verified_at", end="kyc_expires_at")
        entry = svc.allowlist_entry_update(entry=entry, values=values, actor=actor_of(request.user))
        return Response(sel.entry_row(entry))

    @extend_schema(request=None, responses={204: None}, tags=["holder registry"])
    def delete(self, request: AuthenticatedRequest, token_id: str, entry_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        entry = sel.allowlist_entry_get(token=token, entry_id=entry_id)
        svc.allowlist_entry_delete(entry=entry, actor=actor_of(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AllowListBulkApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_ALLOWLIST}
    error_statuses = (402, 409, 422)  # 402: the plan's entries per token; 409: the Idempotency-Key

    @extend_schema(request=BulkRequestSerializer, responses={200: BulkResultSerializer, 202: ApprovalRequestSerializer},
                   parameters=[IDEMPOTENCY_PARAMETER], tags=["holder registry"], operation_id="tokens_allowlist_bulk",
                   description="Add or update up to 1,000 entries, all or nothing: a malformed row answers 400 "
                               "with `details.rows` (row index and fields), a refused one 422 with `details.rows` "
                               "(row index, code, rules); either way nothing is written. More rows than the "
                               "organization's approval policy's `allowlist_bulk_above` (policy on) answer 202 with "
                               "an approval request (`status: pending_approval`, `Location` /api/v1/approvals/{id}): "
                               "checked now, written (and synced to the chain) only once approved.")
    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        body = _valid(BulkSerializer, request.data)
        rows, errors = [], []
        for index, raw in enumerate(body["entries"]):
            serializer = EntryCreateSerializer(data=raw, context={"family": token.family})
            if not serializer.is_valid():
                errors.append({"row": index, "fields": serializer.errors})
                continue
            try:
                _times_check(serializer.validated_data, start="kyc_verified_at", end="kyc_expires_at")
            except ValidationFailed as exc:
                errors.append({"row": index, **exc.details})
                continue
            rows.append(dict(serializer.validated_data))
        if errors:
            raise ValidationFailed(f"{len(errors)} rows are malformed; nothing was written.",
                                   details={"rows": errors, "fields": {"entries": [f"Row {e['row']} is malformed."
                                                                                  for e in errors[:20]]}})

        def write() -> Any:
            written = allowlist_bulk_write(token=token, rows=rows, user=request.user,
                                           idempotency_key=idempotency_key_of(request))
            return written_or_waiting(request, written, bulk_result)

        return idempotent_response(request, endpoint=f"tokens/{token.pk}/allowlist/bulk", body=request.data,
                                   handler=write)


def bulk_result(entries: list[AllowListEntry]) -> dict[str, Any]:
    return {"count": len(entries), "results": [sel.entry_row(e) for e in entries]}


class AllowListExportApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    renderer_classes = EXPORT_RENDERERS

    class FilterSerializer(EntryFilterSerializer):
        format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")

    @extend_schema(parameters=[FilterSerializer], tags=["holder registry"], operation_id="tokens_allowlist_export",
                   responses={200: ExportSerializer, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: AuthenticatedRequest, token_id: str) -> Any:
        filters = _valid(self.FilterSerializer, request.query_params)
        token = token_get(user=request.user, token_id=token_id)
        export_format = filters.pop("format")
        rows = [sel.entry_row(e) for e in sel.allowlist_entries(token=token, filters=filters).order_by("created_at")]
        audit_record(action="export.allowlist", actor=actor_of(request.user), organization_id=token.organization_id,
                     object_type="token", object_id=str(token.pk),
                     payload={"format": export_format, "filters": {k: str(v) for k, v in filters.items()},
                              "rows": len(rows)})
        if export_format == "csv":
            table = [[row[c] for c in sel.ENTRY_COLUMNS] for row in rows]
            return csv_response(sel.ENTRY_COLUMNS, table, f"allowlist-{token.pk}.csv")
        return Response({"token_id": str(token.pk), "count": len(rows), "results": rows})


# ---- Jurisdiction rules -----------------------------------------------------------------------------------
class JurisdictionRulesApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "put": roles.MANAGE_ALLOWLIST}

    @extend_schema(responses={200: RulesSerializer}, tags=["holder registry"])
    def get(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = token_get(user=request.user, token_id=token_id)
        return Response(sel.rules_row(token, sel.jurisdiction_rules_of(token=token)))

    @extend_schema(request=RulesInputSerializer, responses={200: RulesSerializer}, tags=["holder registry"],
                   description="Replace the token's rules (a field not given takes its default). They apply to "
                               "entries added or activated from now on and to every transfer pre-check.")
    def put(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        values = _valid(RulesInputSerializer, request.data)
        rules = svc.jurisdiction_rules_set(token=token, values=values, actor=actor_of(request.user))
        return Response(sel.rules_row(token, rules))


# ---- Transfer pre-check -------------------------------------------------------------------------------------
class TransferValidateApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.READ}  # a pre-check: nothing is written

    @extend_schema(request=TransferInputSerializer, responses={200: TransferResultSerializer},
                   tags=["holder registry"], operation_id="tokens_transfers_validate",
                   description="Whether a transfer of `amount` from `from` to `to` is allowed: the registry's "
                               "rules (not_listed, suspended, revoked, kyc_required, kyc_expired, blocked, "
                               "country_not_allowed, retail_not_allowed, holder_limit_reached) and, when the "
                               "token's node answers, the live state (token_paused, sender_frozen, "
                               "recipient_frozen, insufficient_balance). Every failed rule is named. The token's "
                               "issuer is exempt from the holder rules. Nothing is written.")
    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = token_get(user=request.user, token_id=token_id)
        values = _valid(TransferInputSerializer, request.data, family=token.family)
        return Response(transfer_check(token=token, sender=values["from"], recipient=values["to"],
                                       amount=int(values["amount"])))


# ---- Block list -------------------------------------------------------------------------------------------
class BlockFilterSerializer(serializers.Serializer):
    organization = serializers.UUIDField(required=False)
    category = serializers.ChoiceField(choices=BlockListEntry.Category.choices, required=False)
    address = serializers.CharField(max_length=64, required=False)


ORGANIZATION_PARAMETER = OpenApiParameter("organization", OpenApiTypes.UUID,
                                          description="Default: your first organization.")


class BlockListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "post": roles.MANAGE_ALLOWLIST}
    error_statuses = (403, 404)  # `organization` not one of the caller's: 404

    @extend_schema(parameters=[BlockFilterSerializer, *cursor_parameters()], tags=["holder registry"],
                   operation_id="compliance_blocklist_list",
                   responses={200: paginated("BlockListPage", BlockSerializer(many=True))})
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = _valid(BlockFilterSerializer, request.query_params)
        chosen = filters.pop("organization", None) or organization_chosen(request)
        membership = compliance_membership(user=request.user, organization_id=chosen)
        qs = sel.blocklist_entries(organization_id=membership.organization_id, filters=filters)
        return cursor_page(qs, request=request, view=self, rows=lambda page: [sel.block_row(b) for b in page])

    @extend_schema(parameters=[ORGANIZATION_PARAMETER], request=BlockCreateSerializer,
                   responses={201: BlockSerializer}, tags=["holder registry"],
                   operation_id="compliance_blocklist_create",
                   description="Block an address for every token of the organization: from then on it cannot be "
                               "made active on any allow list (422 ADDRESS_BLOCKED) and the pre-check reports it.")
    def post(self, request: AuthenticatedRequest) -> Response:
        organization = _valid(BlockFilterSerializer, request.query_params).get("organization")
        chosen = organization or organization_chosen(request)
        membership = compliance_membership(user=request.user, organization_id=chosen)
        self.check_object_permissions(request, membership)
        values = _valid(BlockCreateSerializer, request.data)
        _times_check(values, start="effective_from", end="expires_at")
        block = svc.blocklist_entry_create(organization=membership.organization, address=values.pop("address"),
                                           values=values, actor=actor_of(request.user))
        return Response(sel.block_row(block), status=status.HTTP_201_CREATED)


class BlockListEntryApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "patch": roles.MANAGE_ALLOWLIST, "delete": roles.MANAGE_ALLOWLIST}

    def _block(self, request: AuthenticatedRequest, block_id: str, *, write: bool) -> BlockListEntry:
        block = sel.blocklist_entry_get(organization_ids=organization_ids_of(user=request.user), block_id=block_id)
        if write:
            self.check_object_permissions(request, block)
        return block

    @extend_schema(responses={200: BlockSerializer}, tags=["holder registry"])
    def get(self, request: AuthenticatedRequest, block_id: str) -> Response:
        return Response(sel.block_row(self._block(request, block_id, write=False)))

    @extend_schema(request=BlockFieldsSerializer, responses={200: BlockSerializer}, tags=["holder registry"])
    def patch(self, request: AuthenticatedRequest, block_id: str) -> Response:
        block = self._block(request, block_id, write=True)
        values = _valid(BlockFieldsSerializer, request.data)
        merged = {"effective_from": block.effective_from, "expires_at": block.expires_at, **values}
        _times_check(merged, start="effective_from", end="expires_at")
        block = svc.blocklist_entry_update(block=block, values=values, actor=actor_of(request.user))
        return Response(sel.block_row(block))

    @extend_schema(request=None, responses={204: None}, tags=["holder registry"])
    def delete(self, request: AuthenticatedRequest, block_id: str) -> Response:
        block = self._block(request, block_id, write=True)
        svc.blocklist_entry_delete(block=block, actor=actor_of(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)
