"""What the accounts app asks the apps above it about a member before removing them (docs/treasury.md).

`accounts` may not import `deployments` (import-linter, app layers), yet removing a member must know
whether their keys still control tokens on chain. `deployments` registers a `TokenControl` in its
`AppConfig.ready`; without one registered (accounts alone), a member controls nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Membership


@dataclass(frozen=True)
class TokenControl:
    controlled: Callable[[Membership], list[dict[str, Any]]]
    """The tokens of the membership's organization that the member's own keys control on chain."""
    move_to_treasury: Callable[[Membership, Membership], list[str]]
    """(actor, membership): queue the moves of those tokens to the treasury, each removing the
    membership once it completes and the member controls nothing; returns the operation ids."""


_hooks: list[TokenControl] = []


def token_control_register(hook: TokenControl) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def member_controlled_tokens(membership: Membership) -> list[dict[str, Any]]:
    return [token for hook in _hooks for token in hook.controlled(membership)]


def member_tokens_move(actor: Membership, membership: Membership) -> list[str]:
    return [op_id for hook in _hooks for op_id in hook.move_to_treasury(actor, membership)]
