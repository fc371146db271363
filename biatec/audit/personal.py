"""Personal data out of the hashed audit content (docs/gdpr.md, docs/decisions/0112-gdpr-export-and-erasure.md).

`audit_records` hands every payload to `personal_split` before hashing: each value under a personal key
(`email`, `ip_address`, `user_agent`, ...) and every string that is an e-mail address anywhere in the
payload is replaced by a reference `pd:<32 hex>` (random: the same e-mail gets a new reference in each
entry, so references link nothing), and the value goes to `AuditPersonalDatum`, outside the hash. An
erasure (`personal_data_erase`) deletes a person's rows: the entries, their hashes and every chain
still verify, and nothing of the person is left in the log. Entries written before this existed keep
their payloads as written (changing them would break their hashes); see docs/gdpr.md.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q

from .models import AuditPersonalDatum

REF_PREFIX = "pd:"
PERSONAL_KEYS = frozenset({"email", "emails", "ip_address", "user_agent", "invited_email"})
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_REF_RE = re.compile(r"^pd:[0-9a-f]{32}$")


def value_key(value: str) -> str:
    """HMAC-SHA256 (server key) of the lower-cased, trimmed value: finds a person's rows without
    storing a plain hash of an e-mail that anyone could recompute."""
    key = f"audit-personal:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def is_ref(value: Any) -> bool:
    return isinstance(value, str) and bool(_REF_RE.match(value))


def personal_split(payload: Any, *, subject: str = "") -> tuple[Any, list[AuditPersonalDatum]]:
    """(payload with personal values replaced by references, the rows holding the values)."""
    rows: list[AuditPersonalDatum] = []

    def ref_of(kind: str, value: str) -> str:
        ref = REF_PREFIX + uuid.uuid4().hex
        rows.append(AuditPersonalDatum(ref=ref, subject=subject[:64], kind=kind[:32], value=value,
                                       value_key=value_key(value)))
        return ref

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and value and not is_ref(value):
            if key in PERSONAL_KEYS:
                return ref_of(key, value)
            if EMAIL_RE.match(value):
                return ref_of("email", value)
        return value

    return walk(payload, None), rows


def personal_refs(payload: Any) -> set[str]:
    """The `pd:` references in a payload."""
    refs: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)
        elif is_ref(value):
            refs.add(value)

    collect(payload)
    return refs


def personal_resolved(payloads: Iterable[Any]) -> dict[str, str]:
    """{ref: value} of the references in `payloads` whose value is still held (erased ones are absent)."""
    refs: set[str] = set()
    for payload in payloads:
        refs |= personal_refs(payload)
    if not refs:
        return {}
    return dict(AuditPersonalDatum.objects.filter(ref__in=refs).values_list("ref", "value"))


def personal_data_of(*, subject: str, values: Iterable[str]) -> list[AuditPersonalDatum]:
    keys = [value_key(v) for v in values if v]
    return list(AuditPersonalDatum.objects.filter(Q(subject=subject) | Q(value_key__in=keys)).order_by("created_at"))


def personal_data_erase(*, subject: str, values: Iterable[str]) -> int:
    """Delete the rows of `subject` (`user:<id>`) and every row holding one of `values` (the person's
    e-mail addresses, whoever's entry named them). Returns how many."""
    keys = [value_key(v) for v in values if v]
    deleted, _ = AuditPersonalDatum.objects.filter(Q(subject=subject) | Q(value_key__in=keys)).delete()
    return deleted
