"""Evidence bundles: a deterministic ZIP of everything a regulator needs about one deployment.

Determinism: entries sorted by name, fixed timestamps (1980-01-01, the ZIP epoch) and attributes in
every `ZipInfo`, DEFLATE at a fixed level, canonical JSON (sorted keys) for every JSON file; the
Ed25519 signature over the manifest is deterministic too. So the same inputs give the same bytes.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from biatec.audit.canonical import json_normal

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
BUNDLE_FORMAT = "biatec.evidence-bundle/1"


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(json_normal(value), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the building host
    info.external_attr = 0o100644 << 16
    return info


def manifest_build(*, files: dict[str, bytes], header: dict[str, Any]) -> bytes:
    entries = [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
               for name, data in sorted(files.items())]
    return _json_bytes({**header, "format": BUNDLE_FORMAT, "files": entries})


def evidence_bundle_zip(*, documents: dict[str, Any], header: dict[str, Any],
                        sign: Callable[[bytes], bytes]) -> bytes:
    """`documents`: file name -> JSON-able content. Adds `manifest.json` (SHA-256 and size of every
    file, plus `header`) and `manifest.sig` (base64 Ed25519 signature of the manifest bytes)."""
    files = {name: _json_bytes(content) for name, content in documents.items()}
    manifest = manifest_build(files=files, header=header)
    files["manifest.json"] = manifest
    files["manifest.sig"] = base64.b64encode(sign(manifest)) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            archive.writestr(_zip_info(name), files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
