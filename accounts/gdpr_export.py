"""GDPR export (docs/gdpr.md): `POST /api/v1/account/export` queues `export_build`, which writes a ZIP of
every personal datum of the user (one JSON file per registered provider, accounts/personal_data.py, and
a README) into the private `GDPR_EXPORT_DIR`; it is downloadable once, through a link signed with
`TimestampSigner` that expires with the export. The request and the download are audited."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from biatec.audit.chain import audit_record
from biatec.core.actors import user_actor
from biatec.core.errors import NotFound

from .errors import ExportAlreadyDownloaded, ExportExpired, ExportInProgress, ExportNotReady
from .models import AccountExport, User
from .personal_data import personal_data_providers

logger = logging.getLogger(__name__)
SIGNER_SALT = "accounts.gdpr_export.download"
README_HEAD = """Biatec Tokens - export of your personal data (GDPR art. 15 and 20)

Account: {user_id}
Built:   {built_at}
Export:  {export_id}

Every file is JSON (UTF-8). Times are ISO 8601 in UTC; ids are UUIDs. Secrets (password hash, sealed
keys, MFA secrets, refresh-token values, webhook secrets) are never exported. Entries of the audit log
carry `pd:` references for personal values, kept outside the hash chain; `personal` gives their values.

Files:
"""


def export_ttl() -> timedelta:
    return timedelta(seconds=int(settings.GDPR_EXPORT_TTL_SECONDS))


def _dir() -> Path:
    path = Path(settings.GDPR_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def export_request(*, user: User) -> AccountExport:
    """A new export job (one at a time per user: 409 EXPORT_IN_PROGRESS while one is being built),
    audited, and queued once it commits."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per user
        if AccountExport.objects.filter(user=user, status=AccountExport.Status.PENDING).exists():
            raise ExportInProgress()
        export = AccountExport.objects.create(user=user)
        audit_record(action="account.export_requested", actor=user_actor(user.pk), object_type="account_export",
                     object_id=export.pk, payload={"user_id": str(user.pk)})
        transaction.on_commit(lambda: _queue(str(export.pk)))
    return export


def _queue(export_id: str) -> None:
    from .tasks import account_export_build

    try:
        account_export_build.delay(export_id)
    except Exception as exc:  # broker down: the export stays pending; a new request is refused until then
        logger.warning("GDPR export not queued", extra={"export_id": export_id, "error": type(exc).__name__})


def export_archive(user: User, *, export_id: Any = "") -> bytes:
    """The ZIP: one `<provider>.json` per registered provider and README.txt describing each."""
    buffer = io.BytesIO()
    readme = [README_HEAD.format(user_id=user.pk, built_at=timezone.now().isoformat(), export_id=export_id)]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for provider in personal_data_providers():
            data = provider.export(user)
            archive.writestr(f"{provider.name}.json", json.dumps(data, indent=2, sort_keys=True, default=str))
            readme.append(f"  {provider.name}.json\n      {provider.description}\n      (tables: "
                          f"{', '.join(provider.models)})\n")
        archive.writestr("README.txt", "\n".join(readme))
    return buffer.getvalue()


def export_build(export_id: str) -> AccountExport | None:
    """Build a pending export (idempotent: anything else is left as it is)."""
    with transaction.atomic():
        export = AccountExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != AccountExport.Status.PENDING:
            return export
        try:
            data = export_archive(User.objects.get(pk=export.user_id), export_id=export.pk)
        except Exception as exc:
            logger.exception("GDPR export failed", extra={"export_id": export_id})
            export.status, export.error = AccountExport.Status.FAILED, type(exc).__name__
            export.save(update_fields=["status", "error", "updated_at"])
            return export
        name = f"{uuid.uuid4().hex}.zip"
        path = _dir() / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        export.file, export.sha256, export.size = name, hashlib.sha256(data).hexdigest(), len(data)
        export.status, export.expires_at = AccountExport.Status.READY, timezone.now() + export_ttl()
        export.save(update_fields=["file", "sha256", "size", "status", "expires_at", "updated_at"])
    return export


def export_link_token(export: AccountExport) -> str:
    return signing.TimestampSigner(salt=SIGNER_SALT).sign(f"{export.pk}:{export.user_id}")


def export_download(*, export_id: Any, token: str) -> tuple[AccountExport, bytes]:
    """The ZIP, once: 404 for a link that is not this export's, 410 EXPORT_EXPIRED after its expiry,
    410 EXPORT_ALREADY_DOWNLOADED the second time, 409 EXPORT_NOT_READY before it is built. The
    download is audited and the file deleted when the download commits."""
    try:
        value = signing.TimestampSigner(salt=SIGNER_SALT).unsign(token, max_age=export_ttl())
    except signing.SignatureExpired as exc:
        raise ExportExpired() from exc
    except signing.BadSignature as exc:
        raise NotFound("No such export, or the link is not valid.") from exc
    signed_id, _, user_id = value.partition(":")
    if signed_id != str(export_id):
        raise NotFound("No such export, or the link is not valid.")
    with transaction.atomic():
        export = AccountExport.objects.select_for_update().filter(pk=export_id, user_id=user_id).first()
        if export is None:
            raise NotFound("No such export, or the link is not valid.")
        if export.downloaded_at is not None:
            raise ExportAlreadyDownloaded()
        if export.status != AccountExport.Status.READY:
            raise ExportNotReady()
        if export.expires_at is None or export.expires_at <= timezone.now():
            raise ExportExpired()
        data = (_dir() / export.file).read_bytes()
        if hashlib.sha256(data).hexdigest() != export.sha256:
            raise ExportNotReady("The export's file does not match its checksum; request a new export.")
        export.downloaded_at, export.status = timezone.now(), AccountExport.Status.DOWNLOADED
        export.save(update_fields=["downloaded_at", "status", "updated_at"])
        audit_record(action="account.export_downloaded", actor=user_actor(export.user_id),
                     object_type="account_export", object_id=export.pk,
                     payload={"user_id": str(export.user_id), "sha256": export.sha256, "size": export.size})
        transaction.on_commit(lambda: export_file_delete(export))
    return export, data


def export_file_delete(export: AccountExport) -> None:
    if export.file:
        (Path(settings.GDPR_EXPORT_DIR) / export.file).unlink(missing_ok=True)


def exports_expired_purge() -> int:
    """Delete the files of exports past their expiry (the rows stay, for the user's history)."""
    count = 0
    for export in AccountExport.objects.filter(expires_at__lte=timezone.now()).exclude(file=""):
        export_file_delete(export)
        AccountExport.objects.filter(pk=export.pk).update(file="")
        count += 1
    return count
