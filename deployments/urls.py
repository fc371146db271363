from django.urls import path

from tokens.standards import STANDARDS

from . import apis

urlpatterns = [
    *[path(f"{slug}/create", apis.create_view(spec), name=f"token-create-{slug}") for slug, spec in STANDARDS.items()],
    path("<str:standard>/create", apis.UnknownStandardCreateApi.as_view(), name="token-create"),
    path("deployments", apis.DeploymentListApi.as_view(), name="deployment-list"),
    path("deployments/<uuid:deployment_id>", apis.DeploymentDetailApi.as_view(), name="deployment-detail"),
    path("deployments/<uuid:deployment_id>/history", apis.DeploymentHistoryApi.as_view(), name="deployment-history"),
    path("deployments/<uuid:deployment_id>/cancel", apis.DeploymentCancelApi.as_view(), name="deployment-cancel"),
    path("deployments/<uuid:deployment_id>/retry", apis.DeploymentRetryApi.as_view(), name="deployment-retry"),
    path("deployments/<uuid:deployment_id>/audit-trail", apis.DeploymentAuditTrailApi.as_view(),
         name="deployment-audit-trail"),
]
