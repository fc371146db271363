"""Every route under `/api/`, found by walking Django's URL resolver (never a hand-written list).

Shared by the tenant/role matrix (tests/tenancy/) and the hostile-body fuzzing (tests/fuzz/): a route
added to any URL conf shows up here, and both suites then fail until it has a matrix entry."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # the full route, e.g. "api/v1/token/deployments/<uuid:deployment_id>"
    callback: Any

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") for m in _CONVERTER.finditer(self.pattern)]

    @property
    def methods(self) -> list[str]:
        """The HTTP methods the view implements (function views: GET)."""
        view_class = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        if view_class is None:
            return ["get"]
        return [m for m in HTTP_METHODS if callable(getattr(view_class, m, None))]

    @property
    def write_methods(self) -> list[str]:
        return [m for m in self.methods if m in WRITE_METHODS]

    def path(self, **values: str) -> str:
        """The concrete path with `values` in place of the converters (regex routes: their prefix)."""
        text = self.pattern.removeprefix("^")

        def fill(match: re.Match) -> str:
            return str(values[match.group("name")])

        return "/" + _CONVERTER.sub(fill, text)


def _pattern_text(pattern: Any) -> str:
    return str(pattern)  # RoutePattern: the route; RegexPattern: the regex


def _walk(resolver: URLResolver, prefix: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        text = prefix + _pattern_text(entry.pattern).removeprefix("^") if prefix else _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, text)
        elif isinstance(entry, URLPattern):
            yield Route(name=entry.name or text, pattern=text, callback=entry.callback)


def api_routes() -> list[Route]:
    """Every URL pattern whose full route starts with `api/`, in resolver order. Names are unique."""
    routes = [r for r in _walk(get_resolver(), "") if r.pattern.removeprefix("^").startswith("api/")]
    names = [r.name for r in routes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"route names must be unique to key the matrices: {duplicates}"
    return routes


def api_write_routes() -> list[tuple[Route, str]]:
    return [(route, method) for route in api_routes() for method in route.write_methods]
