from django.urls import path

from . import apis_api_keys
from . import apis_organizations as apis

urlpatterns = [
    path("organizations/<uuid:organization_id>/members", apis.MemberListApi.as_view(), name="organization-members"),
    path("organizations/<uuid:organization_id>/members/leave", apis.MemberLeaveApi.as_view(),
         name="organization-members-leave"),
    path("organizations/<uuid:organization_id>/members/<uuid:membership_id>", apis.MemberDetailApi.as_view(),
         name="organization-member"),
    path("organizations/<uuid:organization_id>/invitations", apis.InvitationListCreateApi.as_view(),
         name="organization-invitations"),
    path("organizations/<uuid:organization_id>/invitations/<uuid:invitation_id>", apis.InvitationDetailApi.as_view(),
         name="organization-invitation"),
    path("organizations/<uuid:organization_id>/api-keys", apis_api_keys.ApiKeyListCreateApi.as_view(),
         name="organization-api-keys"),
    path("organizations/<uuid:organization_id>/api-keys/<uuid:key_id>", apis_api_keys.ApiKeyDetailApi.as_view(),
         name="organization-api-key"),
    path("invitations/accept", apis.InvitationAcceptApi.as_view(), name="invitation-accept"),
]
