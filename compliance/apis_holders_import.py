"""`POST /api/v1/tokens/{token_id}/allowlist/import`: a CSV file of allow-list entries (what the CSV
export writes), added or updated all or nothing through the bulk service (compliance/holder_csv.py).

The file is the raw body (`Content-Type: text/csv`) or the `file` part of a multipart form. Order of the
answers as for the other writes: the token (404), the caller's role (403), the file (413 over 1 MB, 400
for a header that cannot be read, over 1,000 rows, or malformed rows, each named by `row` and `line`),
then the rules (422, every refused row named by `row` and `line`)."""
from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.permissions import AuthenticatedRequest, RoleRequired
from biatec.core.errors import RequestTooLarge, ValidationFailed
from biatec.core.serializers import StrictSerializer
from deployments.apis import IDEMPOTENCY_PARAMETER
from deployments.approval_presenters import ApprovalRequestSerializer

from . import holder_csv
from .api_approvals import idempotency_key_of, idempotent_response, written_or_waiting
from .apis_holders import (
    BulkResultSerializer,
    EntryCreateSerializer,
    _times_check,
    _valid,
    _writer_token,
    bulk_result,
)
from .approval_subjects import CsvFile, allowlist_bulk_write
from .holder_csv import MAX_CSV_BYTES, CsvRow

SHOWN_ROWS = 20  # rows named in `details.fields.file` (`details.rows` names every one)


class CsvParser(BaseParser):
    """A `text/csv` body, as bytes (at most one byte past the limit is read: `csv_decode` refuses it)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # bytes: DRF hands any value on as `request.data` (the stubs only know mappings)
        return stream.read(MAX_CSV_BYTES + 1) if stream is not None else b""


class AllowListImportFormSerializer(StrictSerializer):
    file = serializers.FileField(help_text="The CSV file (UTF-8, at most 1 MB).")


def _csv_bytes(request: AuthenticatedRequest) -> bytes:
    """The file: the `text/csv` body or the multipart `file` part."""
    if isinstance(request.data, bytes) and request.data:
        return request.data
    if not request.FILES and not (hasattr(request.data, "keys") and request.data):
        message = "Send the CSV file as the body (Content-Type: text/csv) or as the multipart field `file`."
        raise ValidationFailed(message, details={"fields": {"file": [message]}})
    upload = _valid(AllowListImportFormSerializer, request.data)["file"]
    if upload.size is not None and upload.size > MAX_CSV_BYTES:
        raise RequestTooLarge(f"A CSV file is at most {MAX_CSV_BYTES} bytes; nothing was imported.",
                              details={"max_bytes": MAX_CSV_BYTES})
    raw: bytes = upload.read(MAX_CSV_BYTES + 1)
    return raw


def _row_values(row: CsvRow, family: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The row as the bulk service takes it (validated as a bulk row), or its error."""
    if row.problem:
        return None, {**row.where(), "fields": {"row": [row.problem]}}
    serializer = EntryCreateSerializer(data=row.values, context={"family": family})
    if not serializer.is_valid():
        return None, {**row.where(), "fields": serializer.errors}
    try:
        _times_check(serializer.validated_data, start="kyc_verified_at", end="kyc_expires_at")
    except ValidationFailed as exc:
        return None, {**row.where(), **exc.details}
    return dict(serializer.validated_data), None


class AllowListImportApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_ALLOWLIST}
    parser_classes = [CsvParser, MultiPartParser]
    error_statuses = (402, 409, 422)  # 402: the plan's entries per token; 409: the Idempotency-Key

    @extend_schema(
        request={"text/csv": OpenApiTypes.BINARY, "multipart/form-data": AllowListImportFormSerializer},
        responses={200: BulkResultSerializer, 202: ApprovalRequestSerializer}, parameters=[IDEMPOTENCY_PARAMETER],
        tags=["holder registry"], operation_id="tokens_allowlist_import",
        description="Add or update entries from a CSV file (the body as `text/csv`, or the multipart field "
                    "`file`), all or nothing: the CSV export's format (`GET .../allowlist/export?format=csv`) "
                    "imports back unchanged. A header row names `address` or `email` and any of status, "
                    "kyc_verified, kyc_provider, kyc_verified_at, kyc_expires_at, investor_category, "
                    "jurisdiction, reason (the export's server-set columns are ignored, any other column is "
                    "400); an empty cell leaves the field as it is. At most 1 MB (413 REQUEST_TOO_LARGE) and "
                    "1,000 rows. Each row is validated as a row of the bulk endpoint: malformed rows answer 400 "
                    "with `details.rows` (`row`, counted from 1 at the first data row, `line` of the file, and "
                    "`fields`), refused ones 422 with `details.rows` (`row`, `line`, code, rules); either way "
                    "nothing is written. More rows than the organization's approval policy's "
                    "`allowlist_bulk_above` (policy on) answer 202 with an approval request (`status: "
                    "pending_approval`): checked now, imported only once approved.")
    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = _writer_token(self, request, token_id)
        raw = _csv_bytes(request)
        rows = holder_csv.csv_rows(holder_csv.csv_decode(raw))
        values, errors = [], []
        for row in rows:
            valid, error = _row_values(row, token.family)
            if error is not None:
                errors.append(error)
            elif valid is not None:
                values.append(valid)
        if errors:
            raise ValidationFailed(
                f"{len(errors)} rows are malformed; nothing was imported.",
                details={"rows": errors, "fields": {"file": [f"Row {e['row']} (line {e['line']}) is malformed."
                                                             for e in errors[:SHOWN_ROWS]]}})
        digest = hashlib.sha256(raw).hexdigest()
        csv = CsvFile(size=len(raw), sha256=digest, positions=[row.where() for row in rows])

        def write() -> Any:
            written = allowlist_bulk_write(token=token, rows=values, user=request.user, csv=csv,
                                           idempotency_key=idempotency_key_of(request))
            return written_or_waiting(request, written, bulk_result)

        return idempotent_response(request, endpoint=f"tokens/{token.pk}/allowlist/import", body={"sha256": digest},
                                   handler=write)
