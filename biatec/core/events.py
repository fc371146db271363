"""Domain events: typed, frozen payloads and a tiny synchronous in-process bus
(docs/architecture.md, "The event bus"; docs/decisions/0010-in-process-domain-events.md).

A writer publishes an event once, inside the database transaction that writes the change.
Transactional subscribers (the audit log, the webhook outbox) run synchronously in that
transaction, so their rows commit or roll back with the change and an exception in one rolls the
change back. Subscribers registered with `on_commit=True` run only after the commit (nothing runs
for a rolled-back change). Subscribers register in their app's `AppConfig.ready()`, so the writer
knows none of them.

Events carry plain data (ids, strings, JSON-able facts), never ORM rows.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection, transaction


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event. `correlation_id` is the request's (or task's) correlation ID."""

    correlation_id: str


@dataclass(frozen=True)
class DeploymentTransitioned(DomainEvent):
    """A deployment entered `to_status` (`from_status` is "" for the first, `queued`, row).
    `event_id` is the primary key of the history row written with it; `actor` is
    `user:<id>`, `system:worker`, ... (`biatec.core.actors`)."""

    deployment_id: str
    organization_id: str
    event_id: int
    from_status: str
    to_status: str
    actor: str
    reason: str
    standard: str
    network: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OperationTransitioned(DomainEvent):
    """A token operation entered `to_status`; like `DeploymentTransitioned`, with the token (its
    registry id and the deployment that created it) and the operation's `kind`."""

    operation_id: str
    token_id: str
    deployment_id: str
    organization_id: str
    event_id: int
    kind: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    standard: str
    network: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AllowListChanged(DomainEvent):
    """An allow-list entry of a token was added, updated or removed (`change`). `data` is the JSON the
    webhook carries: the entry as the API shows it (and, for an update, the changed fields)."""

    entry_id: str
    token_id: str
    organization_id: str
    change: str  # added | updated | removed
    actor: str
    standard: str
    network: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MembershipChanged(DomainEvent):
    """Who belongs to an organization changed (`change`: added, role_changed, removed, left;
    accounts/members_services.py). `data` is the JSON the webhook carries (membership id, organization
    id, user id, role, and the previous role of a role change)."""

    membership_id: str
    organization_id: str
    change: str
    actor: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransferDenied(DomainEvent):
    """A token operation moving tokens (`kind`: mint, transfer, batch_transfer, forced_transfer) was
    refused at `POST` by the token's holder registry (422 TRANSFER_NOT_ALLOWED). Published after the
    request's rolled-back transaction, in a transaction of its own (nothing of the operation exists).
    `rules` names every failed rule; `data` is the JSON the webhook carries."""

    token_id: str
    organization_id: str
    kind: str
    actor: str
    standard: str
    network: str
    rules: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalChanged(DomainEvent):
    """A four-eyes approval request changed (`change`: requested, approved, rejected, expired;
    deployments/approval_services.py). `data` is the JSON the webhook carries (the approval request as
    the API shows it). A request about no token (an issuance policy change) has `token_id` None and
    empty `standard` and `network`."""

    approval_id: str
    token_id: str | None
    organization_id: str
    change: str
    actor: str
    standard: str
    network: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyRotationStarted(DomainEvent):
    """A password change gave the user a new ARC-76 account (accounts/key_rotation.py): what the old
    accounts hold and control is to be moved to the new ones (`deployments.key_rotation`)."""

    rotation_id: str
    user_id: str


@dataclass(frozen=True)
class SecurityEventRecorded(DomainEvent):
    """A security event (sign-up, login, lockout, key use ...) was recorded. `organization_id` is the
    user's first organization, None for unknown users (platform-level events)."""

    security_event_id: str
    event_type: str
    actor: str
    user_id: str | None
    organization_id: str | None
    email: str
    ip_address: str | None
    user_agent: str
    details: Mapping[str, Any] = field(default_factory=dict)


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], object]  # what a handler returns is ignored


@dataclass(frozen=True)
class _Subscription:
    handler: Handler
    on_commit: bool


_subscriptions: dict[type[DomainEvent], list[_Subscription]] = {}


class PublishedOutsideTransaction(RuntimeError):
    """`publish` was called in autocommit mode: subscribers could not share the writer's transaction."""


def subscribe(event_type: type[E], handler: Callable[[E], object], *, on_commit: bool = False) -> None:
    """Register `handler` for `event_type` (idempotent: the same handler is registered once)."""
    subscriptions = _subscriptions.setdefault(event_type, [])
    if any(s.handler is handler for s in subscriptions):
        return
    subscriptions.append(_Subscription(handler=handler, on_commit=on_commit))


def unsubscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    _subscriptions[event_type] = [s for s in _subscriptions.get(event_type, []) if s.handler is not handler]


@contextmanager
def subscribed(event_type: type[E], handler: Callable[[E], object], *, on_commit: bool = False) -> Iterator[None]:
    """A subscription for the duration of a `with` block (tests, one-off listeners)."""
    subscribe(event_type, handler, on_commit=on_commit)
    try:
        yield
    finally:
        unsubscribe(event_type, handler)


def publish(event: DomainEvent) -> None:
    """Deliver `event` to its subscribers: transactional ones now, `on_commit` ones after the commit.
    Must be called inside the transaction that writes the change."""
    if not connection.in_atomic_block:
        raise PublishedOutsideTransaction(f"{type(event).__name__} must be published inside the writer's transaction.")
    for subscription in list(_subscriptions.get(type(event), [])):
        if subscription.on_commit:
            transaction.on_commit(functools.partial(subscription.handler, event))
        else:
            subscription.handler(event)
