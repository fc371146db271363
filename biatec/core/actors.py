"""Who did it: the one formatter of the `actor` strings stored in history rows, audit entries,
decisions and webhook records (docs/architecture.md, "House style").

`user:<id>` a signed-in user acting through the API; `staff:<id>` a staff member acting in the
admin; `system:worker` the deployment workers; `system` any other platform process (commands,
sweeps); `anonymous` an unauthenticated request.
"""
from __future__ import annotations

from typing import Any

SYSTEM = "system"
WORKER = "system:worker"
ANONYMOUS = "anonymous"


def actor_of(user: Any | None, *, otherwise: str = SYSTEM) -> str:
    """`user:<id>` for a (signed-in) user, else `otherwise` (who acts when no user does)."""
    if user is None or not getattr(user, "is_authenticated", True) or getattr(user, "pk", None) is None:
        return otherwise
    return f"user:{user.pk}"


def user_actor(user_id: Any | None, *, otherwise: str = ANONYMOUS) -> str:
    """The same from a bare user id (None: an unknown user)."""
    return f"user:{user_id}" if user_id else otherwise


def staff_actor(user: Any) -> str:
    """A staff member acting in the Django admin."""
    return f"staff:{user.pk}"
