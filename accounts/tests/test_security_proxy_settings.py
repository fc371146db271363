"""Issue 14, defect 4 (the proxy part): production believes X-Forwarded-Proto only when a trusted
proxy is configured, and the Docker image's gunicorn accepts forwarded headers only from
FORWARDED_ALLOW_IPS (default 127.0.0.1), never from everyone."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "biatec.settings.production",
    "DJANGO_SECRET_KEY": "test-only-" + "x" * 50,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/biatec",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "KEY_ENCRYPTION_KEYS": "k1:ZXhhbXBsZS1vbmx5LWtlay1yZXBsYWNlLW1lLW5vdyE=",
    "JWT_SIGNING_KEY": "test-only-" + "y" * 40,
}
PROBE = ("import django, json; django.setup(); from django.conf import settings as s; "
         "print(json.dumps({'ssl': s.SECURE_PROXY_SSL_HEADER, 'proxies': s.REST_FRAMEWORK['NUM_PROXIES'], "
         "'throttle': s.CACHES['throttle']}))")


def _production(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRUSTED_", "THROTTLE_"))}
    env.update(PRODUCTION_ENV, **extra)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_trusts_forwarded_proto_only_behind_a_configured_proxy():
    direct = _production()
    assert direct["proxies"] == 0 and direct["ssl"] is None
    behind = _production(TRUSTED_PROXY_COUNT="1")
    assert behind["proxies"] == 1 and behind["ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # Throttle counters on the production Redis, under their own prefix.
    assert direct["throttle"]["BACKEND"] == "biatec.core.redis_cache.PooledClientRedisCache"
    assert direct["throttle"]["LOCATION"] == PRODUCTION_ENV["REDIS_URL"]
    assert direct["throttle"]["KEY_PREFIX"]


def test_docker_gunicorn_trusts_forwarded_headers_only_from_configured_addresses():
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD"))
    allowed = re.search(r"--forwarded-allow-ips=(\S+)", cmd)
    assert allowed, cmd
    assert "*" not in allowed.group(1)
    assert "${FORWARDED_ALLOW_IPS:-127.0.0.1}" in allowed.group(1)
