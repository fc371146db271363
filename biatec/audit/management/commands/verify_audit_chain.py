"""`python manage.py verify_audit_chain`: recompute every audit entry's hash and link, chain by chain
(one per organization); exit non-zero and name the first broken entry when a chain was altered."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from biatec.audit.chain import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; reports the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at sequence {report.broken_sequence} (entry id {report.broken_id}, "
                f"chain {report.broken_chain}): "
                f"{report.problem}. {report.checked} entries before it verified."
            )
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {report.checked} entries in {report.chains} chain(s)."))
