"""The kinds of chain job the one pipeline runs (docs/architecture.md, "Token operations").

A deployment and a token operation are the same job to the pipeline, the state machine, the
transition service, the sweep and the tasks: a row with the 8 states, its transactions and its
append-only history. `JobType` holds the little that differs: the tables, the advisory-lock
namespace, the domain event a transition publishes, and whether a failure after something landed
may be retried (an operation's retry redoes only the parts that did not land; a deployment's
would sign a second creation).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from biatec.core import events

from .models import (
    ChainJobEventRow,
    ChainJobRow,
    Deployment,
    DeploymentTransaction,
    Operation,
    OperationTransaction,
)


@dataclass(frozen=True)
class JobType:
    name: str
    model: type[Deployment] | type[Operation]
    tx_model: type[DeploymentTransaction] | type[OperationTransaction]
    tx_fk: str
    """The transaction table's foreign key to the job."""
    lock_namespace: int
    event: Callable[[Any, ChainJobEventRow, str], events.DomainEvent]
    """(job, history row, from_status) -> the domain event of the transition."""
    retry_after_landed: bool
    submit_task: str
    confirm_task: str


def _deployment_event(job: Deployment, row: ChainJobEventRow, from_status: str) -> events.DomainEvent:
    return events.DeploymentTransitioned(
        correlation_id=row.correlation_id, deployment_id=str(job.pk), organization_id=str(job.organization_id),
        event_id=row.pk, from_status=from_status, to_status=row.to_status, actor=row.actor, reason=row.reason,
        standard=job.standard, network=job.network, facts=row.facts)


def _operation_event(job: Operation, row: ChainJobEventRow, from_status: str) -> events.DomainEvent:
    return events.OperationTransitioned(
        correlation_id=row.correlation_id, operation_id=str(job.pk), token_id=str(job.token_id or ""),
        deployment_id=str(job.token.deployment_id) if job.token else "", organization_id=str(job.organization_id),
        event_id=row.pk, kind=job.kind, from_status=from_status, to_status=row.to_status, actor=row.actor,
        reason=row.reason, standard=job.standard, network=job.network, facts=row.facts)


DEPLOYMENT = JobType(
    name="deployment", model=Deployment, tx_model=DeploymentTransaction, tx_fk="deployment", lock_namespace=7301,
    event=_deployment_event, retry_after_landed=False,
    submit_task="deployments.tasks.deployment_submit_task", confirm_task="deployments.tasks.deployment_confirm_task")
OPERATION = JobType(
    name="operation", model=Operation, tx_model=OperationTransaction, tx_fk="operation", lock_namespace=7305,
    event=_operation_event, retry_after_landed=True,
    submit_task="deployments.tasks.operation_submit_task", confirm_task="deployments.tasks.operation_confirm_task")
JOB_TYPES: dict[str, JobType] = {t.name: t for t in (DEPLOYMENT, OPERATION)}


def job_type_of(job: ChainJobRow) -> JobType:
    return OPERATION if isinstance(job, Operation) else DEPLOYMENT
