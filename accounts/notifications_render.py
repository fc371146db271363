"""Rendering of the notification e-mails: Django templates under accounts/templates/email/ (one
`<kind>.subject.txt`, `<kind>.txt` and `<kind>.html` per kind). The context is the row's, with
`app_base_url` and, for the invitation, the opened secret context (`accept_url`, `token`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

MASK = "[hidden]"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str

    def __repr__(self) -> str:  # the bodies may hold the invitation link
        return f"RenderedEmail({self.subject!r})"


def _context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"app_base_url": settings.APP_BASE_URL.rstrip("/"), "product": settings.EMAIL_PRODUCT_NAME,
            **dict(context)}


def subject_render(kind: str, context: Mapping[str, Any]) -> str:
    """One line, prefixed like every e-mail of the platform; never holds a secret."""
    subject = " ".join(render_to_string(f"email/{kind}.subject.txt", _context(context)).split())
    return f"{settings.EMAIL_SUBJECT_PREFIX}{subject}"[:255]


def email_render(kind: str, context: Mapping[str, Any],
                 secret_context: Mapping[str, Any] | None = None) -> RenderedEmail:
    full = {**_context(context), **dict(secret_context or {})}
    return RenderedEmail(subject=subject_render(kind, context),
                         text=render_to_string(f"email/{kind}.txt", full),
                         html=render_to_string(f"email/{kind}.html", full))


def email_preview(kind: str, context: Mapping[str, Any], secret_names: tuple[str, ...] = ()) -> str:
    """The text body with every secret replaced by MASK: what the admin shows."""
    return render_to_string(f"email/{kind}.txt", {**_context(context), **dict.fromkeys(secret_names, MASK)})
