"""Delete idle login-failure counters (run it daily, e.g. from cron or a scheduler)."""
from django.core.management.base import BaseCommand, CommandParser

from accounts.services import login_throttles_purge


class Command(BaseCommand):
    help = "Delete (e-mail, source) login-failure counters idle for LOGIN_THROTTLE_IDLE_HOURS and not locked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--idle-hours", type=int, default=None)

    def handle(self, *args: object, **options: object) -> None:
        deleted = login_throttles_purge(idle_hours=options["idle_hours"])  # type: ignore[arg-type]
        self.stdout.write(f"deleted={deleted}")
