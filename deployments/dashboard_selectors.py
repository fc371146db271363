"""Read-only aggregates of the staff dashboard (backoffice/dashboard.py): each function is ONE
aggregate query over an indexed column (`created_at` range, or the `status` prefix of the
status/next_action_at index), never a query per row, so the dashboard stays cheap on a million rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Min
from django.db.models.functions import TruncDate

from .models import ACTIVE_STATUSES, Deployment, DeploymentStatus, Operation

JOB_MODELS: dict[str, type[Deployment] | type[Operation]] = {"deployments": Deployment, "operations": Operation}


@dataclass(frozen=True)
class DayCount:
    day: date
    status: str
    standard: str
    count: int


@dataclass(frozen=True)
class ChainQueue:
    network: str
    depth: int
    oldest_created_at: datetime


def jobs_per_day(*, kind: str, since: datetime) -> list[DayCount]:
    """Jobs of `kind` ("deployments" or "operations") created since `since`, counted per day, status
    and standard (one GROUP BY over the created_at range)."""
    rows = (JOB_MODELS[kind].objects.filter(created_at__gte=since)
            .annotate(day=TruncDate("created_at")).values("day", "status", "standard")
            .annotate(count=Count("id")).order_by("day", "status", "standard"))
    return [DayCount(day=r["day"], status=r["status"], standard=r["standard"], count=r["count"]) for r in rows]


def failure_codes_top(*, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    """The most frequent error codes of jobs created since `since` that are failed now (deployments
    and operations together; one GROUP BY per table)."""
    totals: dict[str, int] = {}
    for model in JOB_MODELS.values():
        rows = (model.objects.filter(created_at__gte=since, status=DeploymentStatus.FAILED)
                .values("error_code").annotate(count=Count("id")))
        for row in rows:
            code = row["error_code"] or "(none)"
            totals[code] = totals.get(code, 0) + row["count"]
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


def queues_per_chain(*, kind: str) -> list[ChainQueue]:
    """Per network: how many jobs of `kind` a worker still has to do (the active statuses) and when
    the oldest of them was created."""
    rows: Any = (JOB_MODELS[kind].objects.filter(status__in=ACTIVE_STATUSES).values("network")
                 .annotate(depth=Count("id"), oldest=Min("created_at")).order_by("network"))
    return [ChainQueue(network=r["network"], depth=r["depth"], oldest_created_at=r["oldest"]) for r in rows]
