"""Two organizations and the callers of the tenant/role matrix.

Organization X holds one object of every kind a route can name (a queued deployment with its history
row, a webhook subscription and a delivery, the organization itself); organization Y is another
tenant. Callers: `owner` (owner of X), `admin`, `issuer`, `compliance`, `approver` and `viewer` (X's
other roles, each with no other membership, so nothing it does can fall back to an organization of its
own), `other` (owner of Y, no membership of X),
`anon` (no credentials) and `staff` (`is_staff`, member of no organization). Users come from the real
sign-up (ARC-76 derivations memoised per session by the root conftest)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Invitation, Membership, Organization, User
from compliance.models import AllowListEntry, BlockListEntry, IssuancePolicy, JurisdictionRules
from conftest import auth_client, register
from deployments.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, Deployment, Operation, Token
from deployments.services import _record_event  # the history row a real create writes first
from deployments.tests.factories import DeploymentFactory
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery, WebhookSubscription

DEAD_ADDRESS = "0x000000000000000000000000000000000000dEaD"
ROLES = ("other", "anon", "staff", "viewer", "approver", "compliance", "issuer", "admin", "owner")  # call order
MEMBER_ROLES = ("viewer", "approver", "compliance", "issuer", "admin")  # X's members besides the owner


@dataclass
class World:
    clients: dict[str, APIClient]
    organization: Organization
    owner: User
    issuer: User
    objects: dict[str, str]  # URL parameter name -> id of X's current objects
    secrets: list[str] = field(default_factory=list)  # X's identifiers that no other tenant may see
    base_secrets: list[str] = field(default_factory=list)  # those of the objects made with the world

    def objects_new(self) -> dict[str, str]:
        """Fresh objects of X (a permitted write may have cancelled or deleted the previous ones)."""
        organization, owner = self.organization, self.owner
        deployment = DeploymentFactory(organization=organization, creator=owner,
                                       correlation_id=f"tenancy-{uuid.uuid4()}")
        _record_event(deployment, from_status="", reason="requested", actor="test", facts={})
        subscription, _secret = webhook_services.webhook_subscription_create(
            organization=organization, actor=owner, url="http://127.0.0.1:9/hooks", event_types=["*"])
        delivery = webhook_services.webhook_subscription_test(subscription=subscription, actor=owner)
        issued = DeploymentFactory(organization=organization, creator=owner, status="completed",
                                   correlation_id=f"tenancy-{uuid.uuid4()}")
        token = Token.objects.create(
            organization=organization, deployment=issued, standard="erc20-mintable", network="evm-local",
            family="evm", contract_address=f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}", name="T", symbol="T",
            decimals=0, issuer_address=f"0x{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}")
        operation = Operation.objects.create(
            organization=organization, creator=owner, token=token, kind="transfer", standard=token.standard,
            network=token.network, request={"to": token.issuer_address, "amount": "1"},
            correlation_id=f"tenancy-{uuid.uuid4()}")
        _record_event(operation, from_status="", reason="requested", actor="test", facts={})
        entry = AllowListEntry.objects.create(organization=organization, token=token, address=token.issuer_address,
                                              added_by="test")
        block = BlockListEntry.objects.create(organization=organization, address=token.contract_address,
                                              category="sanctions", effective_from=entry.created_at, added_by="test")
        target = User.objects.create_user(f"tenancy.member.{uuid.uuid4().hex[:12]}@example.com")  # no password
        member = Membership.objects.create(user=target, organization=organization, role="viewer")
        invitation = Invitation.objects.create(
            organization=organization, email=f"tenancy.invited.{uuid.uuid4().hex[:12]}@example.com", role="viewer",
            invited_by=owner, token_hash=uuid.uuid4().hex, expires_at=timezone.now() + timedelta(days=1))
        api_key, _key_text = ApiKey.objects.create_key(organization=organization, name="tenancy", role="viewer",
                                                       created_by=owner)
        # A transfer waiting for approval, requested by X's issuer (so owner, compliance and approver
        # may decide it); approving it re-checks the chain: no node here, 400 NETWORK_UNAVAILABLE.
        approval = ApprovalRequest.objects.create(
            organization=organization, token=token, kind="transfer", payload={"to": DEAD_ADDRESS, "amount": "1"},
            summary={"to": DEAD_ADDRESS, "amount": "1"}, gated_by="kind", requested_by=self.issuer,
            expires_at=timezone.now() + timedelta(days=1), correlation_id=f"tenancy-{uuid.uuid4()}")
        self.objects = {
            "organization_id": str(organization.pk),
            "deployment_id": str(deployment.pk),
            "subscription_id": str(subscription.pk),
            "delivery_id": str(delivery.pk),
            "correlation_id": deployment.correlation_id,
            "token_id": str(token.pk),
            "operation_id": str(operation.pk),
            "entry_id": str(entry.pk),
            "block_id": str(block.pk),
            "membership_id": str(member.pk),
            "invitation_id": str(invitation.pk),
            "key_id": str(api_key.pk),
            "approval_id": str(approval.pk),
        }
        self.secrets += [*self.objects.values(), str(delivery.event_id), target.email, invitation.email, api_key.prefix]
        return self.objects

    def fingerprint(self) -> list[Any]:
        """The state of X's objects: a refused call must leave it exactly as it was."""
        org = self.organization.pk
        return [
            list(Deployment.objects.filter(organization_id=org).order_by("pk").values()),
            list(Token.objects.filter(organization_id=org).order_by("pk").values()),
            list(Operation.objects.filter(organization_id=org).order_by("pk").values()),
            list(AllowListEntry.objects.filter(organization_id=org).order_by("pk").values()),
            list(BlockListEntry.objects.filter(organization_id=org).order_by("pk").values()),
            list(JurisdictionRules.objects.filter(organization_id=org).order_by("pk").values()),
            list(IssuancePolicy.objects.filter(organization_id=org).order_by("pk").values()),
            list(WebhookSubscription.objects.filter(organization_id=org).order_by("pk").values()),
            list(WebhookDelivery.objects.filter(subscription__organization_id=org).order_by("pk").values()),
            list(Membership.objects.filter(organization_id=org).order_by("pk").values()),
            list(Invitation.objects.filter(organization_id=org).order_by("pk").values()),
            list(ApiKey.objects.filter(organization_id=org).order_by("pk").values()),
            list(ApprovalPolicy.objects.filter(organization_id=org).order_by("pk").values()),
            list(ApprovalRequest.objects.filter(organization_id=org).order_by("pk").values()),
            list(ApprovalDecision.objects.filter(approval_request__organization_id=org).order_by("pk").values()),
            Organization.objects.filter(pk=org).values_list("name", flat=True).first(),
        ]


def _member_of(organization: Organization, user_id: str, role: str) -> User:
    """The user's only membership becomes `role` in `organization` (sign-up made them an owner elsewhere)."""
    user = User.objects.get(pk=user_id)
    Membership.objects.filter(user=user).delete()  # their own organization stays, without members
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def build_world(user_factory: Callable[[str], tuple[dict, APIClient]]) -> World:
    clients: dict[str, APIClient] = {"anon": APIClient()}
    bodies: dict[str, dict] = {}
    for role in ("owner", "other", *MEMBER_ROLES, "staff"):
        bodies[role], clients[role] = user_factory(f"tenancy.{role}")
    owner = User.objects.get(pk=bodies["owner"]["id"])
    organization = Membership.objects.get(user=owner).organization
    for role in MEMBER_ROLES:
        _member_of(organization, bodies[role]["id"], role)
    staff = User.objects.get(pk=bodies["staff"]["id"])
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    Membership.objects.filter(user=staff).delete()
    secrets = [str(organization.pk), owner.email, owner.algorand_address,
               *(str(bodies[r]["id"]) for r in ("owner", *MEMBER_ROLES)),
               *(f"tenancy.{r}@example.com" for r in MEMBER_ROLES)]
    world = World(clients=clients, organization=organization, owner=owner,
                  issuer=User.objects.get(pk=bodies["issuer"]["id"]), objects={},
                  secrets=[s for s in secrets if s])
    world.objects_new()
    world.base_secrets = list(world.secrets)
    return world


@contextmanager
def world_kept(django_db_blocker: object) -> Iterator[World]:
    """A world built once for a whole module, in a transaction rolled back at its end: each test's
    own `db` transaction nests inside it as a savepoint, so tests still never see each other's rows."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world(lambda name: _registered(name))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _registered(name: str) -> tuple[dict, APIClient]:
    body = register(APIClient(), f"{name}@example.com")
    return body, auth_client(body["tokens"])
