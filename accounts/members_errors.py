"""Error codes of members and invitations (docs/roles.md, "Members and invitations")."""
from biatec.core.errors import ApplicationError


class LastOwner(ApplicationError):
    code = "LAST_OWNER"
    http_status = 409
    default_message = "The organization's last owner cannot leave, be removed or be demoted: make another owner first."


class RoleNotGrantable(ApplicationError):
    code = "ROLE_NOT_GRANTABLE"
    http_status = 403
    default_message = "You cannot grant a role above your own, nor change a member whose role is above yours."


class AlreadyMember(ApplicationError):
    code = "ALREADY_MEMBER"
    http_status = 409
    default_message = "This e-mail already belongs to a member of the organization."


class InvitationPending(ApplicationError):
    code = "INVITATION_PENDING"
    http_status = 409
    default_message = "This e-mail has a pending invitation already: revoke it first."


class InvitationInvalid(ApplicationError):
    code = "INVITATION_INVALID"
    http_status = 400
    default_message = "The invitation token is not valid."


class InvitationExpired(ApplicationError):
    code = "INVITATION_EXPIRED"
    http_status = 410
    default_message = "The invitation has expired: ask for a new one."


class InvitationRevoked(ApplicationError):
    code = "INVITATION_REVOKED"
    http_status = 410
    default_message = "The invitation was revoked."


class InvitationUsed(ApplicationError):
    code = "INVITATION_ALREADY_USED"
    http_status = 409
    default_message = "The invitation has been accepted already."


class InvitationEmailMismatch(ApplicationError):
    code = "INVITATION_EMAIL_MISMATCH"
    http_status = 403
    default_message = "The invitation was sent to another e-mail address."


class InvitationLoginRequired(ApplicationError):
    code = "INVITATION_LOGIN_REQUIRED"
    http_status = 409
    default_message = "An account with the invited e-mail exists: sign in as it and accept again."


class MemberControlsTokens(ApplicationError):
    code = "MEMBER_CONTROLS_TOKENS"
    http_status = 409
    default_message = ("The member's own keys still control tokens of this organization on chain: move them to "
                       "the organization's treasury first, or in the same request (move_tokens_to_treasury=true).")
