"""Re-wrap every data key under the newest key-encryption key. Idempotent."""
from django.core.management.base import BaseCommand

from accounts.services import kek_rotate


class Command(BaseCommand):
    help = "Re-wrap all sealed data keys under the newest KEK (last entry of KEY_ENCRYPTION_KEYS)."

    def handle(self, *args: object, **options: object) -> None:
        rewrapped, current = kek_rotate()
        self.stdout.write(f"rewrapped={rewrapped} already_current={current}")
