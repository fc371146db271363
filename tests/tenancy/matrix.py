"""The committed tenant and role matrix: route name -> HTTP method -> caller -> expected status.

Callers (tests/tenancy/world.py): `other` (owner of another organization), `anon` (no credentials),
`staff` (is_staff, member of nothing; when not given it is expected to answer as `other`), and the
six roles of the organization X that owns the object: owner, admin, issuer, compliance, approver,
viewer (docs/roles.md; tests/tenancy/test_role_walk.py checks every route against that table itself).

Who may do what (the role matrix, docs/roles.md):
- every member reads the organization's deployments, history, audit trail, attestations, evidence
  bundle, policy, report, webhook subscriptions and deliveries;
- issuing, cancelling and retrying need owner, admin or issuer (compliance, approver, viewer: 403);
  compliance also freezes and unfreezes holders (the enforcement kinds);
- the holder registry (allow list, jurisdiction rules, block list) and attestations: owner, admin,
  issuer and compliance (approver, viewer: 403);
- webhook subscriptions and deliveries are managed by owner and admin only (everyone else: 403);
- the audit log (a whole-organization export) is for owner, admin and compliance;
- a non-member of X never learns that X's object exists: 404 exactly as for an unknown id;
- /api/v1/support/ is staff-only: anyone else gets 404 (the route does not exist for them).
Collection routes (lists, creates) act inside the caller's own organization: `other` gets 200/201
there, and the test checks that nothing of X is in the answer.

A route or method missing here fails tests/tenancy/test_tenant_matrix.py: add the entry with the
answer each caller must get, not the answer the code happens to give.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deployments.tests.factories import operation_body
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

Expected = int | frozenset[int]


@dataclass(frozen=True)
class Call:
    expect: dict[str, Expected]
    body: Callable[[dict[str, str]], Any] | None = None  # objects -> JSON body (str/bytes: sent as it is)
    query: Callable[[dict[str, str]], dict[str, str]] | None = None  # objects -> query string
    path: dict[str, str] = field(default_factory=dict)  # URL parameters that are not object ids
    content_type: str = "application/json"

    def expected(self, role: str) -> Expected:
        if role == "staff" and "staff" not in self.expect:
            return self.expect["other"]
        return self.expect[role]


MEMBERS = ("viewer", "approver", "compliance", "issuer", "admin", "owner")


def everyone(status: Expected, **overrides: Expected) -> dict[str, Expected]:
    return {**dict.fromkeys(("other", "anon", *MEMBERS), status), **overrides}


def members(*, read: Expected = 200, other: Expected = 404, anon: Expected = 401,
            **roles: Expected) -> dict[str, Expected]:
    """A route naming X's object: non-members 404, anonymous 401, members `read` unless given."""
    assert set(roles) <= set(MEMBERS) - {"owner"}, roles
    return {"other": other, "anon": anon, **{role: roles.get(role, read) for role in MEMBERS}}


def writers(success: Expected, **kwargs: Expected) -> dict[str, Expected]:
    """Owner, admin, issuer may; compliance, approver, viewer 403."""
    return members(read=success, **{"viewer": 403, "approver": 403, "compliance": 403, **kwargs})


def registry(success: Expected, **kwargs: Expected) -> dict[str, Expected]:
    """The holder registry and attestations: owner, admin, issuer, compliance may; approver, viewer 403."""
    return members(read=success, viewer=403, approver=403, **kwargs)


def managers(success: Expected, **kwargs: Expected) -> dict[str, Expected]:
    """Owner and admin may; everyone else of X 403."""
    return members(read=success, **{"viewer": 403, "approver": 403, "compliance": 403, "issuer": 403, **kwargs})


def authenticated(status: Expected, **overrides: Expected) -> dict[str, Expected]:
    return everyone(status, anon=401, **overrides)


def _x(objects: dict[str, str]) -> dict[str, str]:
    return {"organization": objects["organization_id"]}


# Create bodies that pass validation, so the answer is about who calls, not what is sent. The test
# settings configure no chain node: a permitted create gets as far as 400 NETWORK_UNAVAILABLE (after
# the role check, which answers 403 first). Staff members of no organization may not issue.
CREATE_OUTCOME = 400


def _create(slug: str) -> Call:
    example = STANDARDS[slug].example_request()
    return Call({**writers(CREATE_OUTCOME, other=CREATE_OUTCOME), "staff": 403}, body=lambda _objects: example)


# X's token is an erc20-mintable on evm-local: a permitted operation of a kind it supports gets as far
# as the live-state read (400 NETWORK_UNAVAILABLE, no node in the test settings); any other kind 409.
DEAD = "0x000000000000000000000000000000000000dEaD"


ENFORCEMENT_KINDS = ("freeze", "unfreeze", "freeze_partial", "unfreeze_partial")  # compliance may queue these


def _operation(kind: str) -> Call:
    outcome = CREATE_OUTCOME if kind in STANDARDS["erc20-mintable"].operations else 409
    allowed = {"compliance": outcome} if kind in ENFORCEMENT_KINDS else {}
    return Call(writers(outcome, **allowed), body=lambda _o: operation_body(kind, address=DEAD))


WEBHOOK_SUBSCRIPTION = {"url": "http://127.0.0.1:9/matrix", "event_types": ["*"]}

MATRIX: dict[str, dict[str, Call]] = {
    "schema": {"get": Call(everyone(200))},
    "swagger-ui": {"get": Call(everyone(200))},
    # Sign-up and sign-in are public: with an empty body, everyone gets the same 400.
    "auth-register": {"post": Call(everyone(400), body=lambda _o: {})},
    "auth-login": {"post": Call(everyone(400), body=lambda _o: {})},
    "auth-refresh": {"post": Call(everyone(400), body=lambda _o: {})},
    "auth-logout": {"post": Call(authenticated(400), body=lambda _o: {})},
    "auth-profile": {"get": Call(authenticated(200))},
    "auth-change-password": {"post": Call(authenticated(400), body=lambda _o: {})},
    "account-addresses": {"get": Call(authenticated(200))},
    "account-key-rotation": {"get": Call(authenticated(200))},
    # The API login's two-factor (docs/mfa.md): the second step is public (an empty body: 400); the
    # caller's own device: status 200, enrol 201 (a new unconfirmed device), confirm and disable 400.
    "auth-login-mfa": {"post": Call(everyone(400), body=lambda _o: {})},
    "account-mfa": {"get": Call(authenticated(200))},
    "account-mfa-totp": {"post": Call(authenticated(201))},
    "account-mfa-totp-confirm": {"post": Call(authenticated(400), body=lambda _o: {})},
    "account-mfa-disable": {"post": Call(authenticated(400), body=lambda _o: {})},
    # The caller's own e-mail preferences (docs/notifications.md): an empty PUT body is 400.
    "account-notification-preferences": {"get": Call(authenticated(200)),
                                         "put": Call(authenticated(400), body=lambda _o: {})},
    "account-organization": {"get": Call(members())},
    # The active organization's usage (billing: the owner); staff belong to no organization: 404.
    "account-usage": {"get": Call({**members(read=403, other=200), "owner": 200, "staff": 404},
                                  query=lambda _o: {"month": "2026-01"})},
    # GDPR (accounts/apis_gdpr.py): the caller's own account. An export is queued for whoever asks; an
    # unknown export is 404 for everyone; the download's signed token is the credential (a forged one 404);
    # an erasure with an empty body is 400 for everyone signed in.
    "account-export": {"post": Call(authenticated(202))},
    "account-export-detail": {"get": Call(authenticated(404), path={"export_id": str(uuid.UUID(int=7))})},
    "account-export-download": {"get": Call(everyone(404), path={"export_id": str(uuid.UUID(int=7))},
                                            query=lambda _o: {"token": "forged"})},
    "account-erase": {"post": Call(authenticated(400), body=lambda _o: {})},
    "network-list": {"get": Call(everyone(200))},
    **{f"token-create-{slug}": {"post": _create(slug)} for slug in STANDARDS},
    "token-create": {"post": Call(authenticated(404), body=lambda _o: {}, path={"standard": "no-such-standard"})},
    "deployment-list": {"get": Call(authenticated(200))},
    "deployment-detail": {"get": Call(members())},
    "deployment-history": {"get": Call(members())},
    "deployment-audit-trail": {"get": Call(members())},
    "deployment-cancel": {"post": Call(writers(200), body=lambda _o: {"reason": "matrix"})},
    "deployment-retry": {"post": Call(writers(409))},  # the deployment is queued: a permitted retry is 409
    "support-deployments": {"get": Call(everyone(404, anon=401, staff=200),
                                        query=lambda o: {"correlation_id": o["correlation_id"]})},
    "compliance-evaluate": {"post": Call(authenticated(CREATE_OUTCOME, staff=404),
                                         body=lambda _o: {"standard": "erc20-mintable",
                                                          **STANDARDS["erc20-mintable"].example_request()})},
    "compliance-audit-log": {"get": Call(managers(200, compliance=200), query=_x)},
    "compliance-report": {"get": Call(members(), query=_x)},
    # The approval policy of X is off: a permitted change is made at once (202 only when it gates).
    "compliance-policy": {"get": Call(members(), query=_x),
                          "put": Call(managers(200, compliance=200), query=_x,
                                      body=lambda _o: {"require_operation_reason": True})},
    "compliance-attestation-key": {"get": Call(everyone(200))},
    "compliance-attestation": {
        "get": Call(members()),
        "post": Call(registry(409)),  # the deployment is not completed: a permitted attestation is 409
    },
    "compliance-evidence-bundle": {"get": Call(members())},
    "webhook-subscriptions": {
        "get": Call(authenticated(200)),
        "post": Call({**managers(201, other=201), "staff": 403}, body=lambda _o: WEBHOOK_SUBSCRIPTION),
    },
    "webhook-subscription": {
        "get": Call(members()),
        "patch": Call(managers(200), body=lambda _o: {"description": "matrix"}),
        "delete": Call(managers(204)),
    },
    "webhook-subscription-rotate-secret": {"post": Call(managers(200))},
    "webhook-subscription-test": {"post": Call(managers(202))},
    "webhook-deliveries": {"get": Call(authenticated(200))},
    "webhook-delivery": {"get": Call(members())},
    "webhook-delivery-redeliver": {"post": Call(managers(202))},
    "token-list": {"get": Call(authenticated(200))},
    "token-detail": {"get": Call(members(read=CREATE_OUTCOME))},  # the live read: NETWORK_UNAVAILABLE here
    "token-holder": {"get": Call(members(read=CREATE_OUTCOME), path={"address": DEAD})},
    "operation-list": {"get": Call(members())},
    **{f"operation-create-{kind}": {"post": _operation(kind)} for kind in ops.KINDS},
    "operation-detail": {"get": Call(members())},
    "operation-cancel": {"post": Call(writers(200), body=lambda _o: {"reason": "matrix"})},
    "operation-retry": {"post": Call(writers(409))},  # the operation is queued: a permitted retry is 409
    # The holder registry (compliance/apis_holders.py): every member reads, owner/admin/issuer/compliance
    # write. X's token has no jurisdiction rules and DEAD is on no block list, so a permitted write succeeds.
    "allowlist-list": {"get": Call(members()), "post": Call(registry(201), body=lambda _o: {"address": DEAD})},
    "allowlist-entry": {
        "get": Call(members()),
        "patch": Call(registry(200), body=lambda _o: {"reason": "matrix", "status": "suspended"}),
        "delete": Call(registry(204)),
    },
    "allowlist-bulk": {"post": Call(registry(200), body=lambda _o: {"entries": [{"address": DEAD,
                                                                                 "jurisdiction": "DE"}]})},
    "allowlist-export": {"get": Call(members())},
    "allowlist-import": {"post": Call(registry(200), body=lambda _o: f"address,jurisdiction\n{DEAD},DE\n",
                                      content_type="text/csv")},
    # X's token is an erc20-mintable: its allow list is enforced off chain, so a permitted call is 409
    # ALLOWLIST_SYNC_NOT_POSSIBLE (compliance/apis_holder_sync.py).
    "allowlist-drift": {"get": Call(members(read=409))},
    "allowlist-resync": {"post": Call(registry(409))},
    "jurisdiction-rules": {"get": Call(members()),
                           "put": Call(registry(200), body=lambda _o: {"allowed_countries": ["DE"],
                                                                      "max_holders": 10})},
    # The pre-check is a read: every member; no node here, so `chain.checked` is false.
    "transfer-validate": {"post": Call(members(), body=lambda _o: {"from": DEAD, "to": DEAD, "amount": "1"})},
    "compliance-blocklist": {
        "get": Call(members(), query=_x),
        "post": Call(registry(201), query=_x, body=lambda _o: {"address": DEAD, "category": "sanctions"}),
    },
    "compliance-blocklist-entry": {
        "get": Call(members()),
        "patch": Call(registry(200), body=lambda _o: {"reason": "matrix"}),
        "delete": Call(registry(204)),
    },
    # Members and invitations (accounts/apis_organizations.py): every member lists the members and may
    # leave (X's only owner: 409 LAST_OWNER); owner and admin manage members and invitations.
    "organization-members": {"get": Call(members())},
    "organization-members-leave": {"post": Call({**members(read=204), "owner": 409})},
    "organization-member": {"patch": Call(managers(200), body=lambda _o: {"role": "approver"}),
                            "delete": Call(managers(204))},
    "organization-invitations": {
        "get": Call(managers(200)),
        "post": Call(managers(201), body=lambda _o: {"email": f"tenancy.new.{uuid.uuid4().hex[:8]}@example.com",
                                                     "role": "viewer"}),
    },
    "organization-invitation": {"delete": Call(managers(204))},
    # API keys (accounts/apis_api_keys.py): owner and admin list, create, read and revoke them.
    "organization-api-keys": {
        "get": Call(managers(200)),
        "post": Call(managers(201), body=lambda _o: {"name": "matrix", "role": "viewer"}),
    },
    "organization-api-key": {"get": Call(managers(200)), "delete": Call(managers(204))},
    # Public: the token is the credential; a token that does not verify is the same 400 for everyone.
    "invitation-accept": {"post": Call(everyone(400), body=lambda _o: {"token": "not-a-token"})},
    # Four-eyes approvals (deployments/apis_approvals.py): every member reads the policy and the
    # requests; owner and admin change the policy; owner, compliance and approver decide. X's request
    # was made by X's issuer: approving it re-checks the chain (no node here: 400 NETWORK_UNAVAILABLE).
    "approval-policy": {"get": Call(members()),
                        "put": Call(managers(200), body=lambda _o: {"approvals_required": 2})},
    "approval-list": {"get": Call(authenticated(200))},
    "approval-detail": {"get": Call(members())},
    "approval-approve": {"post": Call(members(read=CREATE_OUTCOME, viewer=403, issuer=403, admin=403),
                                      body=lambda _o: {"comment": "matrix"})},
    "approval-reject": {"post": Call(members(read=200, viewer=403, issuer=403, admin=403),
                                     body=lambda _o: {"comment": "matrix"})},
    "api-not-found": {"get": Call(everyone(404))},
}
