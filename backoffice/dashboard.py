"""The staff dashboard of the admin index (docs/back-office.md): the figures of the last 30 days
from each app's dashboard selectors (one aggregate query per figure), each chart drawn on the server
(backoffice/charts.py) and given with the table of its numbers."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.usage_selectors import usage_per_plan
from compliance.dashboard_selectors import drift_alerts_latest
from deployments.dashboard_selectors import DayCount, failure_codes_top, jobs_per_day, queues_per_chain
from webhooks.dashboard_selectors import deliveries_per_day, success_rate

from .charts import horizontal_bars_svg, line_svg, stacked_bars_svg

DAYS = 30


@dataclass
class Chart:
    key: str
    title: str
    image: str  # data: URI of the SVG
    headers: list[str]
    rows: list[list[Any]]
    summary: str = ""


@dataclass
class Dashboard:
    since: datetime
    built_at: datetime = field(default_factory=timezone.now)
    charts: list[Chart] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    webhook_rate: float | None = None
    drift_alerts: list[Any] = field(default_factory=list)
    usage_per_plan: list[dict[str, Any]] = field(default_factory=list)


def _days(today: date) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def _per_day_chart(key: str, title: str, days: list[date], counts: list[DayCount], by: str) -> Chart:
    grid: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        grid[getattr(row, by)][row.day] += row.count
    names = sorted(grid)
    series = {name: [grid[name][day] for day in days] for name in names}
    labels = [day.strftime("%m-%d") for day in days]
    rows: list[list[Any]] = [
        [day.isoformat(), *(grid[name][day] for name in names), sum(grid[name][day] for name in names)]
        for day in days]
    total = sum(row[-1] for row in rows)
    return Chart(key=key, title=title, image=stacked_bars_svg(title, labels, series),
                 headers=["day", *names, "total"], rows=rows, summary=f"{total} in {DAYS} days")


def dashboard_build() -> Dashboard:
    now = timezone.now()
    days = _days(timezone.localdate(now))
    since = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    board = Dashboard(since=since, built_at=now)
    for kind in ("deployments", "operations"):
        counts = jobs_per_day(kind=kind, since=since)
        for by in ("status", "standard"):
            board.charts.append(_per_day_chart(f"{kind}-by-{by}", f"{kind.capitalize()} per day by {by}",
                                               days, counts, by))
    codes = failure_codes_top(since=since)
    board.charts.append(Chart(
        key="failure-codes", title="Top failure codes (failed jobs)",
        image=horizontal_bars_svg("Top failure codes (failed jobs)", [c for c, _ in codes], [n for _, n in codes]),
        headers=["error code", "failed jobs"], rows=[[c, n] for c, n in codes]))
    board.queues = _queues(now)
    board.charts.append(Chart(
        key="queue-depth", title="Queue depth per chain (jobs still in progress)",
        image=stacked_bars_svg("Queue depth per chain (jobs still in progress)", [q["network"] for q in board.queues],
                               {"deployments": [q["deployments"] for q in board.queues],
                                "operations": [q["operations"] for q in board.queues]} if board.queues else {}),
        headers=["network", "deployments", "oldest deployment", "operations", "oldest operation"],
        rows=[[q["network"], q["deployments"], q["oldest_deployment"] or "-", q["operations"],
               q["oldest_operation"] or "-"] for q in board.queues]))
    board.charts.append(_webhook_chart(board, days, since))
    board.drift_alerts = drift_alerts_latest(since=since)
    board.usage_per_plan = usage_per_plan(since=since)
    return board


def _age(now: datetime, then: datetime | None) -> str:
    if then is None:
        return ""
    minutes = int((now - then).total_seconds() // 60)
    return f"{then:%Y-%m-%d %H:%M} ({minutes // 60} h {minutes % 60} min ago)"


def _queues(now: datetime) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for kind, singular in (("deployments", "deployment"), ("operations", "operation")):
        for queue in queues_per_chain(kind=kind):
            row = merged.setdefault(queue.network, {"network": queue.network, "deployments": 0, "operations": 0,
                                                    "oldest_deployment": "", "oldest_operation": ""})
            row[kind] = queue.depth
            row[f"oldest_{singular}"] = _age(now, queue.oldest_created_at)
    return [merged[network] for network in sorted(merged)]


def _webhook_chart(board: Dashboard, days: list[date], since: datetime) -> Chart:
    per_day = deliveries_per_day(since=since)
    totals: dict[str, int] = defaultdict(int)
    for counts in per_day.values():
        for status, count in counts.items():
            totals[status] += count
    board.webhook_rate = success_rate(totals)
    rates = [success_rate(per_day.get(day, {})) for day in days]
    statuses = ["delivered", "failed", "dead", "retrying", "pending"]
    title = "Webhook delivery success rate per day (%)"
    return Chart(key="webhook-success", title=title,
                 image=line_svg(title, [d.strftime("%m-%d") for d in days], rates, y_label="% delivered"),
                 headers=["day", *statuses, "success rate %"],
                 rows=[[d.isoformat(), *(per_day.get(d, {}).get(s, 0) for s in statuses),
                        "-" if r is None else r] for d, r in zip(days, rates, strict=True)],
                 summary="no settled delivery" if board.webhook_rate is None
                 else f"{board.webhook_rate} % of settled deliveries in {DAYS} days")


