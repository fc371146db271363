from django.urls import path

from . import apis_approvals as apis

urlpatterns = [
    path("organizations/<uuid:organization_id>/approval-policy", apis.ApprovalPolicyApi.as_view(),
         name="approval-policy"),
    path("approvals", apis.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<uuid:approval_id>", apis.ApprovalDetailApi.as_view(), name="approval-detail"),
    path("approvals/<uuid:approval_id>/approve", apis.ApprovalApproveApi.as_view(), name="approval-approve"),
    path("approvals/<uuid:approval_id>/reject", apis.ApprovalRejectApi.as_view(), name="approval-reject"),
]
