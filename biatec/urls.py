"""Root URLs: API v1 per app, health, metrics, OpenAPI, admin."""
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from biatec.core import health, metrics, views

handler404 = "biatec.core.views.not_found"
handler500 = "biatec.core.views.internal_error"

api_v1 = [
    path("auth/", include("accounts.urls_auth")),
    path("account/", include("accounts.urls_account")),
    path("", include("accounts.urls_organizations")),  # organizations/{id}/members|invitations, invitations/accept
    path("", include("tokens.urls")),
    path("token/", include("deployments.urls")),
    path("", include("deployments.urls_tokens")),
    path("", include("deployments.urls_approvals")),  # organizations/{id}/approval-policy, approvals
    path("", include("compliance.urls_holders")),
    path("support/", include("deployments.urls_support")),
    path("compliance/", include("compliance.urls")),
    path("webhooks/", include("webhooks.urls")),
]

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("health/startup", health.startup, name="health-startup"),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),  # scrapers only (biatec/core/metrics.py)
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include(api_v1)),
    # Anything else under /api/ is the JSON 404 in every settings module: with DEBUG on, Django would
    # answer an unmatched URL with its HTML debug page instead of `handler404`.
    re_path(r"^api/", csrf_exempt(views.not_found), name="api-not-found"),
    path("admin/", admin.site.urls),
]
