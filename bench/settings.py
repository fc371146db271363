"""Settings of a benchmark run: the test settings (PostgreSQL, Redis, devchain faucet, production
hashers), with the benchmark's URL conf (the bare baseline view beside the product's routes) and the
run's Redis key prefix for every Redis cache alias (throttles, auth state, any added later;
bench/isolation.py). Only `python -m bench.run` sets
DJANGO_SETTINGS_MODULE to this module; the product never imports it."""
from biatec.settings.test import *  # noqa: F403
from biatec.settings.test import CACHES, env

ROOT_URLCONF = "bench.urls"
BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS = 180  # production's: the admin index shows the kept build
DEBUG = False
CELERY_TASK_ALWAYS_EAGER = False
BENCH_REDIS_PREFIX = env("BENCH_REDIS_PREFIX")  # required: a run never uses anyone else's keys
for _alias, _config in CACHES.items():
    if "redis" in _config["BACKEND"].lower():
        _config["LOCATION"] = env("REDIS_URL")
        _config["KEY_PREFIX"] = f"{BENCH_REDIS_PREFIX}{_alias}"
