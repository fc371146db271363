"""Beat jobs of the back office."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="backoffice.tasks.dashboard_refresh_task", ignore_result=True)
def dashboard_refresh_task() -> None:
    """Rebuild the staff dashboard (backoffice/dashboard_cache.py)."""
    from .dashboard_cache import dashboard_refresh

    dashboard_refresh()
