"""Members and invitations of an organization (docs/roles.md, "Members and invitations").

`/api/v1/organizations/{id}/members` lists (every member), changes a role and removes (owner, admin:
`manage_members`); `.../members/leave` leaves. `/api/v1/organizations/{id}/invitations` invites by
e-mail with a role (the token is in the 201 answer, once), lists and revokes. `POST
/api/v1/invitations/accept` joins: signed in as the invited e-mail, or with a password for an
e-mail without an account (which registers it as a sign-up does)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.errors import ValidationFailed
from biatec.core.schema import results_of
from biatec.core.serializers import StrictSerializer, body_empty_check

from . import members_selectors as selectors
from . import members_services as services
from . import roles, throttles
from .apis import TokenPairSerializer, client_info
from .models import Membership, User
from .permissions import AuthenticatedRequest, RoleRequired


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The membership's id.")
    user_id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=roles.ROLES)
    created_at = serializers.DateTimeField()


INVITATION_STATUSES = ("pending", "accepted", "revoked", "expired")


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=roles.ROLES)
    status = serializers.ChoiceField(choices=INVITATION_STATUSES)
    invited_by = serializers.UUIDField(allow_null=True)
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(help_text="Shown once: pass it to the invitee (POST /api/v1/invitations/accept). "
                                            "Only its hash is stored.")


class RemovalPendingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["removal_pending"])
    operations = serializers.ListField(child=serializers.UUIDField(), help_text=(
        "The queued moves to the organization treasury (GET /api/v1/tokens/{id}/operations/{op}); the member is "
        "removed when the last of them completes."))


MOVE_PARAMETER = OpenApiParameter(
    "move_tokens_to_treasury", bool, required=False,
    description="Move the tokens the member's own keys control to the organization treasury in the same "
                "request (docs/treasury.md): 202 with the queued operations, the removal completing with them.")


def _move_flag(request: Request) -> bool:
    value = request.query_params.get("move_tokens_to_treasury", "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ValidationFailed(details={"fields": {"move_tokens_to_treasury": ["Must be true or false."]}})
    return value in ("true", "1")


def _removed(operation_ids: list[str]) -> Response:
    if operation_ids:
        return Response({"status": "removal_pending", "operations": operation_ids}, status=status.HTTP_202_ACCEPTED)
    return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationApi(APIView):
    """A route under /organizations/{id}/: the caller's membership there (else 404), holding the
    method's action (else 403)."""

    permission_classes = [IsAuthenticated, RoleRequired]

    def caller(self, request: AuthenticatedRequest, organization_id: str) -> Membership:
        membership = selectors.membership_of(user=request.user, organization_id=organization_id)
        self.check_object_permissions(request, membership)
        return membership


class MemberListApi(OrganizationApi):
    role_actions = {"get": roles.READ}

    @extend_schema(tags=["organizations"], operation_id="organizations_members_list",
                   responses={200: results_of("MemberList", MemberSerializer(many=True))})
    def get(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        rows = [selectors.member_row(m) for m in selectors.member_list(organization_id=caller.organization_id)]
        return Response({"results": rows})


class MemberDetailApi(OrganizationApi):
    role_actions = {"patch": roles.MANAGE_MEMBERS, "delete": roles.MANAGE_MEMBERS}
    error_statuses = (409,)

    class InputSerializer(StrictSerializer):
        role = serializers.ChoiceField(choices=roles.ROLES)

    @extend_schema(tags=["organizations"], request=InputSerializer, responses={200: MemberSerializer},
                   description="Change the member's role: never to a role above yours, never for a member above "
                               "you (403 ROLE_NOT_GRANTABLE); the last owner cannot be demoted (409 LAST_OWNER).")
    def patch(self, request: AuthenticatedRequest, organization_id: str, membership_id: str) -> Response:
        caller = self.caller(request, organization_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.member_get(organization_id=caller.organization_id, membership_id=membership_id)
        changed = services.member_role_change(actor=caller, membership=target, role=data.validated_data["role"])
        return Response(selectors.member_row(selectors.member_get(organization_id=caller.organization_id,
                                                                  membership_id=changed.pk)))

    @extend_schema(tags=["organizations"], request=None, responses={204: None, 202: RemovalPendingSerializer},
                   parameters=[MOVE_PARAMETER],
                   description="Remove the member (not one above you: 403 ROLE_NOT_GRANTABLE; not the last "
                               "owner: 409 LAST_OWNER; not while their own keys control tokens of the "
                               "organization on chain (a role, or a fixed-supply token's supply): 409 "
                               "MEMBER_CONTROLS_TOKENS listing them, unless `move_tokens_to_treasury=true`, which "
                               "moves control and balances to the treasury (a balance the chain would not let "
                               "move: 409 BALANCE_NOT_MOVABLE).")
    def delete(self, request: AuthenticatedRequest, organization_id: str, membership_id: str) -> Response:
        caller = self.caller(request, organization_id)
        move = _move_flag(request)
        target = selectors.member_get(organization_id=caller.organization_id, membership_id=membership_id)
        return _removed(services.member_remove(actor=caller, membership=target, move_tokens_to_treasury=move))


class MemberLeaveApi(OrganizationApi):
    role_actions = {"post": roles.READ}  # every member may leave (the last owner: 409 LAST_OWNER)
    person_only = True  # not with an API key (accounts/api_key_auth.py): it would remove the key's creator
    error_statuses = (409,)

    @extend_schema(tags=["organizations"], request=None, responses={204: None, 202: RemovalPendingSerializer},
                   parameters=[MOVE_PARAMETER],
                   description="Leave the organization (the last owner: 409 LAST_OWNER; while your own keys "
                               "control its tokens: 409 MEMBER_CONTROLS_TOKENS, unless `move_tokens_to_treasury`).")
    def post(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        body_empty_check(request)
        move = _move_flag(request)
        return _removed(services.member_leave(membership=caller, move_tokens_to_treasury=move))


class InvitationListCreateApi(OrganizationApi):
    role_actions = {"get": roles.MANAGE_MEMBERS, "post": roles.MANAGE_MEMBERS}
    error_statuses = (402, 409)  # 402: the plan's members (open invitations count)

    class InputSerializer(StrictSerializer):
        email = serializers.EmailField(max_length=254)
        role = serializers.ChoiceField(choices=roles.ROLES)

    @extend_schema(tags=["organizations"], operation_id="organizations_invitations_list",
                   responses={200: results_of("InvitationList", InvitationSerializer(many=True))})
    def get(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        rows = [selectors.invitation_row(i) for i in selectors.invitation_list(organization_id=caller.organization_id)]
        return Response({"results": rows})

    @extend_schema(tags=["organizations"], request=InputSerializer, responses={201: InvitationCreatedSerializer},
                   operation_id="organizations_invitations_create",
                   description="Invite an e-mail with a role (not above yours: 403 ROLE_NOT_GRANTABLE). The answer "
                               "holds the signed, single-use token, once; it expires after INVITATION_TTL_SECONDS "
                               "(default 7 days). A member's e-mail: 409 ALREADY_MEMBER; an open invitation for "
                               "it: 409 INVITATION_PENDING.")
    def post(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, token = services.invitation_create(actor=caller, **data.validated_data)
        return Response({**selectors.invitation_row(invitation), "token": token}, status=status.HTTP_201_CREATED)


class InvitationDetailApi(OrganizationApi):
    role_actions = {"delete": roles.MANAGE_MEMBERS}
    error_statuses = (409,)

    @extend_schema(tags=["organizations"], request=None, responses={204: None},
                   description="Revoke the invitation (an accepted one: 409 INVITATION_ALREADY_USED).")
    def delete(self, request: AuthenticatedRequest, organization_id: str, invitation_id: str) -> Response:
        caller = self.caller(request, organization_id)
        invitation = selectors.invitation_get(organization_id=caller.organization_id, invitation_id=invitation_id)
        services.invitation_revoke(actor=caller, invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(APIView):
    """Public, with an optional bearer token: the invitation's token is the credential."""

    permission_classes = [AllowAny]
    role_actions = {"post": roles.PUBLIC}
    throttle_classes = [throttles.RegisterRateThrottle]
    error_statuses = (401, 402, 403, 409, 410)  # 402: the plan's members

    class InputSerializer(StrictSerializer):
        token = serializers.CharField(max_length=1024)
        email = serializers.EmailField(max_length=254, required=False,
                                       help_text="Optional: must be the invited e-mail.")
        password = serializers.CharField(max_length=256, trim_whitespace=False, required=False, write_only=True,
                                         help_text="For an e-mail without an account: the new account's password.")

    class OutputSerializer(serializers.Serializer):
        organization_id = serializers.UUIDField()
        membership_id = serializers.UUIDField()
        role = serializers.ChoiceField(choices=roles.ROLES)
        user_id = serializers.UUIDField()
        email = serializers.EmailField()
        tokens = TokenPairSerializer(allow_null=True, help_text="Only when the invitation registered the account.")

    @extend_schema(tags=["organizations"], request=InputSerializer,
                   responses={200: OutputSerializer, 201: OutputSerializer},
                   description="Join the organization with the invited role. Signed in: as the invited e-mail "
                               "(else 403 INVITATION_EMAIL_MISMATCH). Not signed in: an e-mail with an account "
                               "answers 409 INVITATION_LOGIN_REQUIRED; one without is registered with `password` "
                               "(201, with tokens), exactly as a sign-up. A used token: 409 "
                               "INVITATION_ALREADY_USED; expired or revoked: 410.")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
        membership, tokens = services.invitation_accept(token=values["token"], user=user, email=values.get("email"),
                                                        password=values.get("password"), client=client_info(request))
        body = {"organization_id": str(membership.organization_id), "membership_id": str(membership.pk),
                "role": membership.role, "user_id": str(membership.user_id), "email": membership.user.email,
                "tokens": tokens.as_dict() if tokens else None}
        return Response(body, status=status.HTTP_201_CREATED if tokens else status.HTTP_200_OK)
