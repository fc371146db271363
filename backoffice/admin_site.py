"""The admin site of the back office: the two-factor staff site (accounts/admin_site.py) with the
dashboard as its index and support's correlation-ID search, whose box is in every admin page's
header (templates/admin/base_site.html). Both are read-only and open to every verified staff user
(the compliance group included); each found object links to its admin page only when the user may
view it there."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.urls.exceptions import NoReverseMatch

from accounts.admin_site import StaffOTPAdminSite


class BackOfficeAdminSite(StaffOTPAdminSite):
    index_template = "admin/dashboard.html"

    def get_urls(self) -> list[Any]:
        own: list[URLPattern] = [
            path("support/correlation/", self.admin_view(self.correlation_search), name="correlation_search"),
        ]
        return own + super().get_urls()

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from .dashboard_cache import dashboard_current

        board = dashboard_current(refresh=request.GET.get("refresh") == "1")
        return super().index(request, {**(extra_context or {}), "dashboard": board})

    def correlation_search(self, request: HttpRequest) -> HttpResponse:
        from .selectors import correlation_find

        term = request.GET.get("correlation_id", "").strip()[:64]
        sections = [{"name": found.model._meta.verbose_name_plural, "rows": [
            {"object": obj, "url": self._view_url(request, found.model, obj)} for obj in found.objects]}
            for found in correlation_find(term)]
        context = {**self.each_context(request), "title": "Correlation ID search", "correlation_id": term,
                   "sections": sections, "found_any": any(section["rows"] for section in sections)}
        return TemplateResponse(request, "admin/correlation_search.html", context)

    def _view_url(self, request: HttpRequest, model: type[Any], obj: Any) -> str:
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(request, obj):
            return ""
        try:
            return reverse(f"{self.name}:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        except NoReverseMatch:
            return ""
