"""Small pieces shared by the thin API views of every app."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from .errors import ValidationFailed

_QuerySet = TypeVar("_QuerySet", bound=QuerySet[Any])


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


def cursor_page(queryset: Any, *, request: Any, view: Any, rows: Callable[[list[Any]], Any],
                pagination: type[CursorPagination] = CreatedAtCursorPagination) -> Response:
    """One cursor page of `queryset` as the list response, its objects rendered by `rows`."""
    paginator = pagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(rows(page or []))


def filter_given(queryset: _QuerySet, filters: dict[str, Any], lookups: dict[str, str]) -> _QuerySet:
    """`queryset` narrowed by every filter that was given (truthy): `lookups` maps a filter name to
    its field lookup (`{"status": "status", "created_after": "created_at__gte"}`)."""
    for name, lookup in lookups.items():
        if filters.get(name):
            queryset = queryset.filter(**{lookup: filters[name]})
    return queryset
