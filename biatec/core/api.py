"""Small pieces shared by the thin API views of every app."""
from __future__ import annotations

from rest_framework.pagination import CursorPagination


class CreatedAtCursorPagination(CursorPagination):
    """The house list pagination (docs/architecture.md, "House style"): cursor pages on `-created_at`."""

    ordering = "-created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
