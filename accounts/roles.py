"""The role matrix: which role of an organization may do what (issue 20, item 2).

ONE table, `GRANTS` (action -> the roles that may do it), read by the one permission class
(`accounts.permissions.RoleRequired`) and by the services that check a role themselves; docs/roles.md
holds the same table (accounts/tests/test_roles_doc.py compares them). Every view under /api/ names the
action of each HTTP method in `role_actions`; the role walk (tests/tenancy/test_role_walk.py) calls
every route as every role and compares the answer with this table.

Besides the actions of the table, a view may name one of `NO_ORGANIZATION` markers: the route acts on
no organization's objects (public, the caller's own account, staff only), so the answer must be the
same for every role.
"""
from __future__ import annotations

from tokens.standards import operations as ops

OWNER, ADMIN, ISSUER, COMPLIANCE, APPROVER, VIEWER = "owner", "admin", "issuer", "compliance", "approver", "viewer"
ROLES = (OWNER, ADMIN, ISSUER, COMPLIANCE, APPROVER, VIEWER)  # highest first (see `role_rank`)

READ = "read"
DEPLOY = "deploy"
ATTEST = "attest"
MANAGE_ALLOWLIST = "manage_allowlist"
MANAGE_ISSUANCE_POLICY = "manage_issuance_policy"
APPROVE = "approve"
MANAGE_MEMBERS = "manage_members"
MANAGE_WEBHOOKS = "manage_webhooks"
MANAGE_API_KEYS = "manage_api_keys"  # pragma: allowlist secret - an action name, not a key
COMPLIANCE_READ = "compliance_read"
BILLING = "billing"

# Markers of routes that touch no organization's objects (not in the table).
PUBLIC, SELF, STAFF = "public", "self", "staff"
NO_ORGANIZATION = frozenset({PUBLIC, SELF, STAFF})


def operate(kind: str) -> str:
    """The action of queueing (cancelling, retrying) an operation of `kind`."""
    return f"operate:{kind}"


# Operations aimed at one holder's wallet that compliance officers carry out themselves (ERC-3643's
# agent role): freezing and unfreezing. Everything else that changes a token is the issuer's.
ENFORCEMENT_KINDS = (ops.FREEZE, ops.UNFREEZE, ops.FREEZE_PARTIAL, ops.UNFREEZE_PARTIAL)

_ALL = frozenset(ROLES)
_ISSUING = frozenset({OWNER, ADMIN, ISSUER})
_MANAGING = frozenset({OWNER, ADMIN})

GRANTS: dict[str, frozenset[str]] = {
    READ: _ALL,
    DEPLOY: _ISSUING,
    **{operate(kind): _ISSUING | ({COMPLIANCE} if kind in ENFORCEMENT_KINDS else set()) for kind in ops.KINDS},
    # System kinds are queued by the platform (allow-list changes); cancelling or retrying one is
    # managing the allow list.
    **{operate(kind): _ISSUING | {COMPLIANCE} for kind in ops.SYSTEM_KINDS},
    ATTEST: _ISSUING | {COMPLIANCE},
    MANAGE_ALLOWLIST: _ISSUING | {COMPLIANCE},
    # The organization's issuance policy constrains what its issuers deploy: not theirs to change.
    MANAGE_ISSUANCE_POLICY: _MANAGING | {COMPLIANCE},
    APPROVE: frozenset({OWNER, COMPLIANCE, APPROVER}),
    MANAGE_MEMBERS: _MANAGING,
    MANAGE_WEBHOOKS: _MANAGING,
    MANAGE_API_KEYS: _MANAGING,
    COMPLIANCE_READ: _MANAGING | {COMPLIANCE},
    BILLING: frozenset({OWNER}),
}
ACTIONS = tuple(GRANTS)


def role_allows(role: str | None, action: str) -> bool:
    """Whether `role` may do `action`; an unknown action is a programming error (KeyError)."""
    return role in GRANTS[action]


def open_to_every_member(action: str) -> bool:
    """Actions every role holds: the tenant-scoped selector's membership check is the whole check."""
    return GRANTS[action] == _ALL


def role_rank(role: str) -> int:
    """0 for the owner, higher for lower roles: a member may grant no role above their own."""
    return ROLES.index(role)


def roles_table() -> list[tuple[str, dict[str, bool]]]:
    """The table as rows (action, role -> granted), in `ACTIONS` order: what docs/roles.md shows."""
    return [(action, {role: role in GRANTS[action] for role in ROLES}) for action in ACTIONS]
