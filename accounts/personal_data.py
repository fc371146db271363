"""The registry of personal data (GDPR export and erasure, docs/gdpr.md, ADR 0112).

The accounts app cannot import the apps above it (import-linter `app-layers`), yet the export must hold
every personal datum of every app and the erasure must reach all of them. So each app registers, in its
`AppConfig.ready`:

- a `PersonalDataProvider`: the models it covers (labels), the rows of a user (`export`, JSON-ready),
  and what an erasure does to them (`erase`, None when the rows stay as they are, e.g. rows that only
  point at the user, who stays as a pseudonym);
- an `ErasureBlocker`: what forbids an erasure (tokens the user's addresses control, assets they hold).

`accounts/tests/test_gdpr_coverage.py` walks every installed model with a foreign key to the user or an
e-mail field and fails when no provider declares it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import User


@dataclass(frozen=True)
class Erasure:
    """What an erasure hook gets: the user (already carrying the pseudonym e-mail once the accounts
    provider ran), the e-mail addresses to forget, and the chain addresses the user held."""

    user: User
    pseudonym_email: str
    emails: tuple[str, ...]
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class PersonalDataProvider:
    name: str  # the export's file: `<name>.json`
    description: str  # the README's line for that file
    models: tuple[str, ...]  # "app_label.ModelName" of every model whose rows it exports
    export: Callable[[User], Any]
    erase: Callable[[Erasure], None] | None = None
    order: int = 100  # erasure order (lower first); the accounts provider's user row goes last


@dataclass(frozen=True)
class ErasureBlocker:
    name: str
    # (user, addresses) -> what blocks, each item with its "code": ACCOUNT_CONTROLS_TOKENS | ACCOUNT_HOLDS_ASSETS
    check: Callable[[User, tuple[str, ...]], list[dict[str, Any]]]


@dataclass
class _Registry:
    providers: dict[str, PersonalDataProvider] = field(default_factory=dict)
    blockers: list[ErasureBlocker] = field(default_factory=list)


_REGISTRY = _Registry()


def personal_data_provider_register(provider: PersonalDataProvider) -> None:
    """Idempotent by name (a second `ready` replaces, never duplicates)."""
    _REGISTRY.providers[provider.name] = provider


def erasure_blocker_register(blocker: ErasureBlocker) -> None:
    if blocker not in _REGISTRY.blockers:
        _REGISTRY.blockers.append(blocker)


def personal_data_providers() -> list[PersonalDataProvider]:
    return sorted(_REGISTRY.providers.values(), key=lambda p: (p.order, p.name))


def erasure_blockers() -> list[ErasureBlocker]:
    return list(_REGISTRY.blockers)


def covered_models() -> set[str]:
    return {label for provider in _REGISTRY.providers.values() for label in provider.models}


def user_addresses(user: User) -> tuple[str, ...]:
    """The user's chain addresses: the ARC-76 (Algorand) account and every derived EVM account."""
    addresses = [user.algorand_address] if user.algorand_address else []
    addresses += list(user.evm_accounts.order_by("chain_id").values_list("address", flat=True))
    return tuple(dict.fromkeys(addresses))


def rows(queryset: Any, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every concrete column of every row (secrets excluded by the caller), JSON-ready."""
    from biatec.audit.canonical import json_normal

    model = queryset.model
    names = [f.attname for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude]
    return [json_normal(row) for row in queryset.order_by("pk").values(*names)]
