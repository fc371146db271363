"""Small pieces shared by the thin API views of every app."""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .errors import ValidationFailed


class ValidatedCursorMixin:
    """A cursor that does not decode is malformed input: 400 VALIDATION_ERROR naming `cursor` (DRF
    answers 404, as if the list did not exist)."""

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)  # type: ignore[misc]
        except NotFound:
            raise ValidationFailed("Invalid cursor.", details={"fields": {"cursor": [
                "Not a cursor of this list: use the `next` or `previous` link of a page."]}}) from None


class CreatedAtCursorPagination(ValidatedCursorMixin, CursorPagination):
    """The house list pagination (docs/architecture.md, "House style"): cursor pages on `-created_at`."""

    ordering = "-created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
