"""Mail backends for the notification tests: Django's pluggable EmailBackend interface, standing in
for an SMTP server that drops the connection (the first FAIL_TIMES sends) or refuses the recipient.
Messages that go through land in django.core.mail.outbox, like the locmem backend's."""
from __future__ import annotations

import smtplib
from typing import Any

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakySmtpBackend(LocmemBackend):
    FAIL_TIMES = 2
    calls = 0

    def send_messages(self, messages: Any) -> int:
        FlakySmtpBackend.calls += 1
        if FlakySmtpBackend.calls <= FlakySmtpBackend.FAIL_TIMES:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingSmtpBackend(LocmemBackend):
    def send_messages(self, messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"5.1.1 No such user") for m in messages})
