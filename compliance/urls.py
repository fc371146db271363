from django.urls import path

from . import apis, apis_holders

urlpatterns = [
    path("evaluate", apis.ComplianceEvaluateApi.as_view(), name="compliance-evaluate"),
    path("audit-log", apis.AuditLogApi.as_view(), name="compliance-audit-log"),
    path("report", apis.ComplianceReportApi.as_view(), name="compliance-report"),
    path("policy", apis.IssuancePolicyApi.as_view(), name="compliance-policy"),
    path("attestation-key", apis.AttestationKeyApi.as_view(), name="compliance-attestation-key"),
    path("deployments/<uuid:deployment_id>/attestation", apis.AttestationIssueApi.as_view(),
         name="compliance-attestation"),
    path("deployments/<uuid:deployment_id>/evidence-bundle", apis.EvidenceBundleApi.as_view(),
         name="compliance-evidence-bundle"),
    path("blocklist", apis_holders.BlockListApi.as_view(), name="compliance-blocklist"),
    path("blocklist/<uuid:block_id>", apis_holders.BlockListEntryApi.as_view(), name="compliance-blocklist-entry"),
]
