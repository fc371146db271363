"""Who did it: the one formatter of the `actor` strings stored in history rows, audit entries,
decisions and webhook records (docs/architecture.md, "House style").

`user:<id>` a signed-in user acting through the API; `api_key:<id>` a server acting with an
organization's API key (accounts/api_key_auth.py: the request's user carries the key's grant in the
attribute `API_KEY_GRANT`); `staff:<id>` a staff member acting in the
admin; `system:worker` the deployment workers; `system` any other platform process (commands,
sweeps); `anonymous` an unauthenticated request.
"""
from __future__ import annotations

from typing import Any

SYSTEM = "system"
WORKER = "system:worker"
ANONYMOUS = "anonymous"
# The attribute of a request's user authenticated with an API key (accounts/principals.py).
API_KEY_GRANT = "api_key_grant"  # pragma: allowlist secret - an attribute name


def api_key_actor(key_id: Any) -> str:
    return f"api_key:{key_id}"


def actor_of(user: Any | None, *, otherwise: str = SYSTEM) -> str:
    """`user:<id>` for a (signed-in) user, `api_key:<id>` for a user acting through an API key, else
    `otherwise` (who acts when no user does)."""
    if user is None or not getattr(user, "is_authenticated", True) or getattr(user, "pk", None) is None:
        return otherwise
    grant = getattr(user, API_KEY_GRANT, None)
    if grant is not None:
        return api_key_actor(grant.key_id)
    return f"user:{user.pk}"


def user_actor(user_id: Any | None, *, otherwise: str = ANONYMOUS) -> str:
    """The same from a bare user id (None: an unknown user)."""
    return f"user:{user_id}" if user_id else otherwise


def staff_actor(user: Any) -> str:
    """A staff member acting in the Django admin."""
    return f"staff:{user.pk}"
