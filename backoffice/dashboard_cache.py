"""The dashboard as staff see it: the last build, kept in the `dashboard` cache (docs/back-office.md).

Building the dashboard aggregates the last 30 days of every job table and draws every chart: about
0.4 s on an empty database and about 2 s with a million deployments in the window on 2 cores, so the
admin index does not build it per request. Beat rebuilds it every `BACKOFFICE_DASHBOARD_REFRESH_SECONDS`
(`backoffice.tasks.dashboard_refresh_task`); the index shows that build and its time ("figures as of").
A build older than `BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS` (beat stopped, cache emptied) is rebuilt by
the request that finds it, as is any build when staff ask for one (`?refresh=1`). A max age of 0
builds on every request (the test settings). Without the cache (Redis down) the index builds it."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from .dashboard import Dashboard, dashboard_build

logger = logging.getLogger(__name__)

CACHE_KEY = "dashboard:v1"


def _max_age() -> int:
    return int(settings.BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS)


def dashboard_refresh() -> Dashboard:
    """Build the dashboard now and keep it for the admin index."""
    board = dashboard_build()
    if _max_age() > 0:
        try:
            caches[settings.DASHBOARD_CACHE_ALIAS].set(CACHE_KEY, board, timeout=_max_age() * 10)
        except Exception as exc:  # the cache is an optimisation: the build is still shown
            logger.warning("dashboard not cached", extra={"error": type(exc).__name__})
    return board


def dashboard_current(*, refresh: bool = False) -> Dashboard:
    """The last build if it is younger than the max age, else a new one (kept)."""
    max_age = _max_age()
    if refresh or max_age <= 0:
        return dashboard_refresh()
    try:
        board = caches[settings.DASHBOARD_CACHE_ALIAS].get(CACHE_KEY)
    except Exception as exc:
        logger.warning("dashboard cache unavailable", extra={"error": type(exc).__name__})
        return dashboard_build()
    if isinstance(board, Dashboard) and board.built_at >= timezone.now() - timedelta(seconds=max_age):
        return board
    return dashboard_refresh()
