from django.urls import path

from . import apis

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
]
