"""API latency and throughput against a baseline measured in the same run (docs/architecture.md, "Performance targets").

Prints figures; asserts nothing. Runs the real middleware, authentication and PostgreSQL queries
in-process through Django's WSGI handler (no socket, so the figures are the application's own cost):

- baseline: a bare Django JSON view doing one primary-key query;
- `GET /api/v1/token/deployments/{id}` (status): p50/p99 and throughput as a ratio of the baseline;
- `POST /api/v1/token/{standard}/create` -> 202 (validation, insert, enqueue on commit to Redis);
- `POST /api/v1/auth/login` (one Argon2id verify).

    .venv/bin/python bench/api_latency.py [--requests 2000]

Uses its own database (biatec_bench, created and migrated) and Redis database 13 (emptied).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biatec.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/biatec_bench")
os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/13"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EVM_RPC_EVM_LOCAL", "http://127.0.0.1:1")  # never called on the request path


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'biatec_bench'").fetchone():
            conn.execute("CREATE DATABASE biatec_bench")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(call, n: int) -> tuple[list[float], float]:
    samples = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples, n / (time.perf_counter() - started)


def report(name: str, samples: list[float], throughput: float, baseline: float | None = None) -> None:
    ratio = f"  {throughput / baseline:6.1%} of baseline throughput" if baseline else ""
    print(f"{name:<34} p50 {statistics.median(samples):7.2f} ms  p99 {percentile(samples, 0.99):7.2f} ms  "
          f"{throughput:8.1f} req/s{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.http import JsonResponse
    from django.test import Client
    from django.urls import include, path

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()

    from accounts.models import User
    from deployments.models import Deployment

    def bare_view(request, pk):
        row = Deployment.objects.filter(pk=pk).values("id", "status").first()
        return JsonResponse({"id": str(row["id"]), "status": row["status"]})

    import types

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("bench/bare/<uuid:pk>", bare_view), path("", include("biatec.urls"))]
    sys.modules["bench_urls"] = urls
    from django.conf import settings

    settings.ROOT_URLCONF = "bench_urls"

    email, password = "bench.user@example.com", "benchmark passphrase 2026!"
    client = Client()
    if not User.objects.filter(email=email).exists():
        assert client.post("/api/v1/auth/register", {"email": email, "password": password},
                           content_type="application/json").status_code == 201
    login = client.post("/api/v1/auth/login", {"email": email, "password": password},
                        content_type="application/json")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['access']}"}
    body = {"network": "evm-local", "name": "Bench", "symbol": "BN", "decimals": 18, "initial_supply": "1",
            "cap": "10"}
    created = client.post("/api/v1/token/erc20-mintable/create", body, content_type="application/json", **auth)
    assert created.status_code == 202, created.content
    deployment_id = created.json()["id"]
    n = args.requests

    for _ in range(50):  # warm-up
        client.get(f"/bench/bare/{deployment_id}")
        client.get(f"/api/v1/token/deployments/{deployment_id}", **auth)
    bare, bare_rps = timed(lambda: client.get(f"/bench/bare/{deployment_id}"), n)
    status, status_rps = timed(lambda: client.get(f"/api/v1/token/deployments/{deployment_id}", **auth), n)
    create, create_rps = timed(lambda: client.post("/api/v1/token/erc20-mintable/create", body,
                                                   content_type="application/json", **auth), max(n // 4, 50))
    login_samples, login_rps = timed(lambda: client.post("/api/v1/auth/login", {"email": email, "password": password},
                                                         content_type="application/json"), 50)
    print(f"requests: {n} (create {max(n // 4, 50)}, login 50); in-process WSGI, PostgreSQL, Redis broker")
    report("baseline: bare JSON view + pk query", bare, bare_rps)
    report("GET deployments/{id}", status, status_rps, bare_rps)
    report("POST erc20-mintable/create -> 202", create, create_rps)
    report("POST auth/login (Argon2id)", login_samples, login_rps)
    print("targets: status p99 <= 25 ms and >= 80% of baseline; create p50 <= 30 ms; login p50 <= 150 ms")
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
