"""JSON log lines with correlation IDs, control-character escaping and secret redaction."""
from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from .correlation import get_correlation_id

REDACTED = "[REDACTED]"
_SECRET_KEY_NAMES = re.compile(
    r"(password|passwd|mnemonic|private_key|privatekey|secret|token|authorization|seed|data_key|api_key)",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def sanitize(value: str) -> str:
    """Escape CR, LF and other control characters so a value cannot forge a log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def redact(value: Any) -> Any:
    """Redact values under secret-looking keys, recursively through dicts and lists."""
    if isinstance(value, dict):
        return {k: (REDACTED if _SECRET_KEY_NAMES.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = get_correlation_id()
        return True


class RedactingFilter(logging.Filter):
    """Redacts extras whose names look secret (password, mnemonic, private_key, token ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(record.__dict__):
            if key in _STANDARD_ATTRS or key == "correlation_id":
                continue
            if _SECRET_KEY_NAMES.search(key):
                setattr(record, key, REDACTED)
            else:
                setattr(record, key, redact(record.__dict__[key]))
        if isinstance(record.args, dict):
            record.args = redact(record.args)
        return True


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, correlation_id, extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", True)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = log_record.pop("levelname", record.levelname)
        log_record["logger"] = log_record.pop("name", record.name)
        log_record["message"] = sanitize(str(log_record.get("message", "")))
        log_record.setdefault("correlation_id", getattr(record, "correlation_id", None))
        for key, value in list(log_record.items()):
            if isinstance(value, str) and key != "message":
                log_record[key] = sanitize(value)
