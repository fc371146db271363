"""Admin building blocks shared by the apps."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property


class ReadOnlyAdminMixin:
    """For append-only records: viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- changelists of tables that grow without bound (deployments, operations, history, audit) -----

class EstimatedCountPaginator(Paginator):
    """The changelist's page count without `SELECT COUNT(*)` over a whole large table: an unfiltered
    queryset takes PostgreSQL's own row estimate (`pg_class.reltuples`, kept by autovacuum / ANALYZE)
    once that says the table is large; every filtered queryset (a search, a filter) counts exactly,
    through its indexes."""

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and not query.distinct and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                               [queryset.model._meta.db_table])
                row = cursor.fetchone()
            if row is not None and row[0] > settings.ADMIN_EXACT_COUNT_MAX_ROWS:
                return int(row[0])
        return super().count


class GrowingTableAdminMixin:
    """For a changelist over a table that grows without bound: no full-table `COUNT(*)` beside the
    filtered one (`show_full_result_count`), an estimated page count when unfiltered, and list filters
    whose choices are known (field choices, `known_values_filter`, dates) rather than
    `SELECT DISTINCT` over the table. Dates are a `DateFieldListFilter`, not a `date_hierarchy` (whose
    drill-down is a `SELECT DISTINCT date_trunc(...)` over every row). tests/perf/test_query_plans.py
    EXPLAINs every statement of these changelists."""

    show_full_result_count = False
    paginator: type[Paginator] = EstimatedCountPaginator
    exact_search_fields: tuple[str, ...] = ()
    """When set, the search box matches these fields exactly (each an index lookup), in place of
    `search_fields`' `iexact` / `icontains` (an `UPPER(...)` or `LIKE` that no index serves). A term
    that is not a valid value of a field (not a UUID for a UUID field) is not looked up there."""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        if not self.exact_search_fields:
            return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q()
        for path in self.exact_search_fields:
            field = queryset.model._meta.get_field(path)
            try:
                value = field.to_python(term)
            except ValidationError:
                continue
            matches |= Q(**{path: value})
        return (queryset.filter(matches) if matches else queryset.none()), False


def known_values_filter(field: str, title: str, values: Callable[[], Iterable[str]]) -> type[SimpleListFilter]:
    """A list filter on `field` whose choices come from the code (`values`: the standards, the
    networks), so showing it reads nothing from the table."""

    class KnownValuesFilter(SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(value, value) for value in values()]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    KnownValuesFilter.title = title
    KnownValuesFilter.__name__ = f"{field.title().replace('_', '')}Filter"
    return KnownValuesFilter
