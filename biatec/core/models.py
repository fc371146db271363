"""Abstract base model shared by every app."""
import uuid
from typing import NoReturn

from django.db import models


class BaseModel(models.Model):
    """UUID primary key (never guessable, safe to expose) and creation/update timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyMixin:
    """Rows are written once: saving an existing row or deleting one through the ORM raises.
    (Audit, history and attempt records; some tables are also guarded by a database trigger.)"""

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:  # type: ignore[attr-defined]
            raise RuntimeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError(f"{type(self).__name__} rows are append-only")
