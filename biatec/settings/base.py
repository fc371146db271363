"""Settings shared by every environment.

One `environ.Env()` reads the environment; every variable is documented in `.env.example`.
Environment-specific modules (local, test, production) import this and override.
"""
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-secret-key-change-me-0123456789")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    # The admin site requires an OTP-verified staff session (accounts/admin_site.py, docs/mfa.md);
    # the back office's adds the dashboard and the correlation-ID search (docs/back-office.md).
    "backoffice.apps.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "django_prometheus",
    "biatec.core",
    "biatec.audit",
    "accounts",
    "tokens",
    "deployments",
    "compliance",
    "webhooks",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "biatec.core.correlation.CorrelationIdMiddleware",
    "biatec.core.json_errors.ApiJsonErrorsMiddleware",  # Django's own HTML error pages never reach /api/
    "biatec.core.request_limits.RequestSizeLimitMiddleware",  # body over DATA_UPLOAD_MAX_MEMORY_SIZE → 413
    "biatec.core.db_busy.DatabaseBusyMiddleware",  # a lock timeout anywhere inside → 503 DATABASE_BUSY
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() for the admin (docs/mfa.md)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "biatec.core.request_logging.RequestLoggingMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "biatec.urls"
WSGI_APPLICATION = "biatec.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/biatec")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["TEST"] = {"NAME": env("DATABASE_TEST_NAME", default="biatec_test")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "accounts.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2id cost: memory in KiB, passes, lanes (see accounts/hashers.py for why these defaults).
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=65536)
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=2)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 16}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Request limits and metrics access (biatec/core/request_limits.py, parsers.py, metrics.py) ---------
# Largest request body in bytes (413 REQUEST_TOO_LARGE above it) and deepest JSON nesting (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1048576)  # 1 MiB
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# Restored after the chain libraries raise it on import (biatec/core/runtime_limits.py).
PYTHON_RECURSION_LIMIT = env.int("PYTHON_RECURSION_LIMIT", default=1000)
# /metrics: direct (not proxied) clients in these networks, or `Authorization: Bearer <token>`.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", default="")

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A bearer JWT (people), else an organization's API key (servers; docs/api-keys.md). The JWT class
    # comes first: its `WWW-Authenticate: Bearer` is the 401 challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.VersionedJWTAuthentication",
                                       "accounts.api_key_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["biatec.core.parsers.DepthLimitedJSONParser"],  # JSON_MAX_DEPTH
    "DEFAULT_SCHEMA_CLASS": "biatec.core.schema.BiatecAutoSchema",
    "EXCEPTION_HANDLER": "biatec.core.exception_handler.application_exception_handler",
    # The plan's request rate per organization (accounts.throttles.PlanRateThrottle); views that
    # name their own throttles (auth, webhooks' manual sends) keep only those.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.PlanRateThrottle"],
    # Abuse limits (accounts/throttles.py): "N/second|minute|hour|day" per source (client IP, IPv6
    # /64) or per account; the per-account rates sit above the per-source ones so that one source
    # alone cannot use up an account's budget.
    "DEFAULT_THROTTLE_RATES": {
        "auth_register": env("THROTTLE_AUTH_REGISTER", default="20/hour"),
        "auth_register_account": env("THROTTLE_AUTH_REGISTER_ACCOUNT", default="5/hour"),
        "auth_login": env("THROTTLE_AUTH_LOGIN", default="10/minute"),
        "auth_login_account": env("THROTTLE_AUTH_LOGIN_ACCOUNT", default="30/minute"),
        "auth_refresh": env("THROTTLE_AUTH_REFRESH", default="60/minute"),
        "auth_refresh_account": env("THROTTLE_AUTH_REFRESH_ACCOUNT", default="10/minute"),
        "auth_password": env("THROTTLE_AUTH_PASSWORD", default="10/hour"),
        "auth_password_account": env("THROTTLE_AUTH_PASSWORD_ACCOUNT", default="20/hour"),
        # TOTP / recovery code attempts per account (login step two, enrol, confirm, disable; docs/mfa.md)
        "auth_mfa_account": env("THROTTLE_AUTH_MFA_ACCOUNT", default="20/minute"),
        "webhooks_manual": env("THROTTLE_WEBHOOKS_MANUAL", default="30/minute"),
        "compliance_evaluate": env("THROTTLE_COMPLIANCE_EVALUATE", default="60/minute"),
        # Every request made with an API key, per key, whatever the route (accounts/api_key_auth.py)
        "api_key": env("THROTTLE_API_KEY", default="600/minute"),
    },
    # Proxies in front of the server that append to X-Forwarded-For (accounts/client.py). 0: the
    # header is ignored and the peer address is the client.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,  # `?format=csv` is ours (exports), not DRF's renderer switch
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Biatec Tokens API",
    "DESCRIPTION": "Issue regulated tokens on EVM and Algorand networks without a wallet.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One enum component per choice set (the API contract tests, tests/api_contract, read these names).
    "ENUM_NAME_OVERRIDES": {
        "EvmNetworkEnum": "tokens.standards.serializers.EVM_NETWORK_CHOICES",
        "AlgorandNetworkEnum": "tokens.standards.serializers.ALGORAND_NETWORK_CHOICES",
        "NetworkEnum": "tokens.standards.serializers.ALL_NETWORK_CHOICES",
        "DeploymentStatusEnum": "deployments.models.DeploymentStatus",
        "ClassificationEnum": "compliance.mica.CLASSIFICATIONS",
        "StandardEnum": "tokens.standards.STANDARD_CHOICES",
        "OperationKindEnum": "tokens.standards.operations.KINDS",
        "KindEnum": "tokens.standards.operations.ALL_KINDS",  # operations' `kind` incl. system kinds
        "AllowListStatusEnum": "compliance.models.AllowListEntry.Status",
        "InvitationStatusEnum": "accounts.apis_organizations.INVITATION_STATUSES",
        "ApiKeyStatusEnum": "accounts.apis_api_keys.API_KEY_STATUSES",  # pragma: allowlist secret - a dotted path
        "UsageKindEnum": "accounts.apis_usage.USAGE_KINDS",
    },
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# Keys of the key vault: "kid:base64(32 bytes)" entries, newest LAST.
KEY_ENCRYPTION_KEYS = env.list(
    "KEY_ENCRYPTION_KEYS",
    default=["local-dev-1:bG9jYWwtZGV2LW9ubHkta2VrLW5vdC1mb3ItcHJvZCE="],
)

# --- Accounts / security ----------------------------------------------------------------------
LOGIN_LOCKOUT_THRESHOLD = env.int("LOGIN_LOCKOUT_THRESHOLD", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=30)
# Each further lock of the same (e-mail, source) doubles, up to this many minutes.
LOGIN_LOCKOUT_MAX_MINUTES = env.int("LOGIN_LOCKOUT_MAX_MINUTES", default=1440)
# `manage.py purge_login_throttles` deletes counters idle this long (and not locked).
# An API key's last_used_at is written at most once per this many seconds (docs/api-keys.md).
API_KEY_LAST_USED_SECONDS = env.int("API_KEY_LAST_USED_SECONDS", default=60)
LOGIN_THROTTLE_IDLE_HOURS = env.int("LOGIN_THROTTLE_IDLE_HOURS", default=24)

# --- Two-factor (docs/mfa.md) -----------------------------------------------------------------
# The name authenticator apps show next to a TOTP entry.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Biatec Tokens")
# The django-otp device admins never show a key, a QR code or a recovery code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# How long the MFA_REQUIRED challenge of the API login is valid (it is single-use).
MFA_CHALLENGE_SECONDS = env.int("MFA_CHALLENGE_SECONDS", default=300)
# Recovery codes issued when a TOTP device is confirmed (each works once).
MFA_RECOVERY_CODES = env.int("MFA_RECOVERY_CODES", default=10)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "correlation_id": {"()": "biatec.core.logging.CorrelationIdFilter"},
        "redact": {"()": "biatec.core.logging.RedactingFilter"},
    },
    "formatters": {"json": {"()": "biatec.core.logging.JsonLineFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["correlation_id", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Chains ---------------------------------------------------------------------------------
# Node URL per network slug; a network without one is listed as unavailable.
def _chain_nodes() -> dict[str, dict[str, str]]:
    evm = ["ethereum-mainnet", "ethereum-sepolia", "base-mainnet", "base-sepolia", "arbitrum-one",
           "arbitrum-sepolia", "evm-local"]
    algorand = ["algorand-mainnet", "algorand-testnet", "voi-mainnet", "aramid-mainnet", "algorand-localnet"]
    nodes: dict[str, dict[str, str]] = {}
    for slug in evm:
        url = env(f"EVM_RPC_{slug.upper().replace('-', '_')}", default="")
        if url:
            nodes[slug] = {"url": url}
    for slug in algorand:
        key = slug.upper().replace("-", "_")
        url = env(f"ALGOD_URL_{key}", default="")
        if url:
            nodes[slug] = {"url": url, "token": env(f"ALGOD_TOKEN_{key}", default="")}
    return nodes


CHAIN_NODES = _chain_nodes()
# The faucet that funds accounts on local networks: a dotted path (tokens/chains/faucet.py). Empty,
# the default, means none: nothing is ever funded from a faucet. local.py and test.py name devchain's.
LOCAL_FAUCET = env("LOCAL_FAUCET", default="")
# An Algorand account the local faucet tops up also gets what this many further steps like the
# current one need, so a burst of deployments costs one dispenser payment, not one each.
LOCAL_FUNDING_BUFFER_STEPS = env.int("LOCAL_FUNDING_BUFFER_STEPS", default=10)
CHAIN_CONFIRMATIONS: dict[str, int] = env.dict("CHAIN_CONFIRMATIONS", cast={"value": int}, default={})
IPFS_API_URL = env("IPFS_API_URL", default="")
IPFS_API_AUTH = env("IPFS_API_AUTH", default="")
# Throttle counters (and the per-organization webhook cap) are shared by every process: Redis,
# under their own key prefix, apart from the process-local default cache.
THROTTLE_CACHE_ALIAS = "throttle"
# Django's Redis backend with one client per pool (biatec/core/redis_cache.py says why).
REDIS_CACHE_BACKEND = "biatec.core.redis_cache.PooledClientRedisCache"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    THROTTLE_CACHE_ALIAS: {
        "BACKEND": REDIS_CACHE_BACKEND,
        "LOCATION": env("THROTTLE_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env("THROTTLE_KEY_PREFIX", default="biatec-throttle"),
        "TIMEOUT": 3600,
    },
    # Each user's token version and active flag (accounts/auth_state.py): a JWT request costs no
    # user SELECT; any save of the user drops the entry, so revocation holds on every process.
    "auth-state": {
        "BACKEND": REDIS_CACHE_BACKEND,
        "LOCATION": env("AUTH_STATE_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env("AUTH_STATE_KEY_PREFIX", default="biatec-auth"),
    },
    # Each organization's active webhook subscriptions, versioned (webhooks/subscription_cache.py):
    # a job transition costs no subscription SELECT; any save or delete of one sets a new version.
    "webhook-subscriptions": {
        "BACKEND": REDIS_CACHE_BACKEND,
        "LOCATION": env("WEBHOOK_SUBSCRIPTIONS_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env("WEBHOOK_SUBSCRIPTIONS_KEY_PREFIX", default="biatec-webhook-subs"),
    },
    # The staff dashboard's last build (backoffice/dashboard_cache.py), rebuilt by beat.
    "dashboard": {
        "BACKEND": REDIS_CACHE_BACKEND,
        "LOCATION": env("DASHBOARD_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env("DASHBOARD_KEY_PREFIX", default="biatec-dashboard"),
    },
}
AUTH_STATE_CACHE_ALIAS = "auth-state"
WEBHOOK_SUBSCRIPTIONS_CACHE_ALIAS = "webhook-subscriptions"
DASHBOARD_CACHE_ALIAS = "dashboard"
# A dashboard build older than this is rebuilt by the admin index request that finds it (0: every request).
BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS = env.int("BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS", default=180)
WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS = env.int("WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS", default=300)
AUTH_STATE_CACHE_SECONDS = env.int("AUTH_STATE_CACHE_SECONDS", default=900)
# The plan rate's cached entries (accounts/plan_rate.py, in the throttle cache): versioned, and expiring.
PLAN_RATE_CACHE_SECONDS = env.int("PLAN_RATE_CACHE_SECONDS", default=600)
# An unfiltered admin changelist of a table above this many rows (PostgreSQL's estimate) shows the
# estimate instead of running COUNT(*) (biatec/core/admin_mixins.py EstimatedCountPaginator).
ADMIN_EXACT_COUNT_MAX_ROWS = env.int("ADMIN_EXACT_COUNT_MAX_ROWS", default=100_000)
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
# The plan of new organizations (a seeded Plan's slug; docs/plans-and-usage.md).
BIATEC_DEFAULT_PLAN = env("BIATEC_DEFAULT_PLAN", default="free")
# Deployment workers: poll interval, the cap of the backoff, attempts before a never-broadcast
# deployment fails with CHAIN_UNAVAILABLE, and the grace after which the sweep re-queues work.
DEPLOYMENT_POLL_SECONDS = env.float("DEPLOYMENT_POLL_SECONDS", default=1.0)
DEPLOYMENT_POLL_MAX_SECONDS = env.float("DEPLOYMENT_POLL_MAX_SECONDS", default=60.0)
DEPLOYMENT_MAX_CHAIN_ATTEMPTS = env.int("DEPLOYMENT_MAX_CHAIN_ATTEMPTS", default=8)
DEPLOYMENT_SWEEP_GRACE_SECONDS = env.float("DEPLOYMENT_SWEEP_GRACE_SECONDS", default=30.0)
DEPLOYMENT_SWEEP_INTERVAL_SECONDS = env.float("DEPLOYMENT_SWEEP_INTERVAL_SECONDS", default=5.0)
# How long POST .../create waits for the network's node before answering 503 NETWORK_UNAVAILABLE.
DEPLOYMENT_PREFLIGHT_TIMEOUT_SECONDS = env.float("DEPLOYMENT_PREFLIGHT_TIMEOUT_SECONDS", default=2.0)
# Test hook only (biatec/core/faults.py, tests/faults): fault points at which the worker SIGKILLs
# itself (comma-separated), or a JSON control file re-read at each point. production.py forces both empty.
FAULT_INJECTION = env("FAULT_INJECTION", default="")
FAULT_INJECTION_FILE = env("FAULT_INJECTION_FILE", default="")
# JSON-RPC batches (receipts of a batch distribution's parts, gas estimates) go out in HTTP requests
# of at most this many calls: hosted providers cap a batch's size.
EVM_RPC_BATCH_LIMIT = env.int("EVM_RPC_BATCH_LIMIT", default=500)
# Stuck EVM transactions: a broadcast transaction not mined after EVM_STUCK_TX_SECONDS is replaced
# (same nonce) with both fees raised by EVM_REPLACEMENT_FEE_BUMP_PERCENT (nodes require >= 10);
# a replacement whose gas x maxFeePerGas would exceed EVM_MAX_TOTAL_FEE_WEI fails the deployment
# with FEE_CAP_EXCEEDED (retryable).
EVM_STUCK_TX_SECONDS = env.float("EVM_STUCK_TX_SECONDS", default=180.0)
EVM_REPLACEMENT_FEE_BUMP_PERCENT = env.int("EVM_REPLACEMENT_FEE_BUMP_PERCENT", default=10)
EVM_MAX_TOTAL_FEE_WEI = env.int("EVM_MAX_TOTAL_FEE_WEI", default=5 * 10**16)

# --- Webhooks ---------------------------------------------------------------------------------
# Plain http:// targets and targets resolving to loopback/private/link-local/reserved addresses are
# refused unless allowed (local development and tests allow them; production never should).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# Delays (seconds) before attempts 2..N: 8 attempts over ~22.6 h by default; each gets +/- jitter.
WEBHOOKS_RETRY_DELAYS_SECONDS = env.list(
    "WEBHOOKS_RETRY_DELAYS_SECONDS", cast=float, default=[60, 300, 1800, 3600, 10800, 21600, 43200],
)
WEBHOOKS_RETRY_JITTER = env.float("WEBHOOKS_RETRY_JITTER", default=0.1)
WEBHOOKS_SECRET_GRACE_SECONDS = env.int("WEBHOOKS_SECRET_GRACE_SECONDS", default=86400)
WEBHOOKS_MAX_RESPONSE_BYTES = env.int("WEBHOOKS_MAX_RESPONSE_BYTES", default=2048)
WEBHOOKS_SWEEP_INTERVAL_SECONDS = env.float("WEBHOOKS_SWEEP_INTERVAL_SECONDS", default=30.0)
WEBHOOKS_SWEEP_BATCH = env.int("WEBHOOKS_SWEEP_BATCH", default=500)
# Delivery attempts per organization per minute (0: no cap); the ones over it wait, none is dropped.
WEBHOOKS_MAX_DELIVERIES_PER_MINUTE = env.int("WEBHOOKS_MAX_DELIVERIES_PER_MINUTE", default=600)
# A pending EVM deployment re-checks itself this often; the batched poller wakes it sooner.
DEPLOYMENT_PENDING_FALLBACK_SECONDS = env.float("DEPLOYMENT_PENDING_FALLBACK_SECONDS", default=15.0)
# How many times the worker re-signs a deployment whose transaction the chain proved dead.
DEPLOYMENT_MAX_REBUILDS = env.int("DEPLOYMENT_MAX_REBUILDS", default=3)

# --- E-mail notifications (docs/notifications.md) --------------------------------------------------
# Django's mail framework: SMTP here and in production (local.py prints to the console instead).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)  # seconds per SMTP operation; the claim's lease too
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Biatec Tokens <no-reply@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", default="[Biatec Tokens] ")
EMAIL_PRODUCT_NAME = env("EMAIL_PRODUCT_NAME", default="Biatec Tokens")
# The links of the e-mails: the public base URL, and the invitation's accept page ({token} is replaced).
APP_BASE_URL = env("APP_BASE_URL", default="http://localhost:8000")
INVITATION_ACCEPT_URL = env("INVITATION_ACCEPT_URL",
                            default=f"{APP_BASE_URL.rstrip('/')}/invitations/accept?token={{token}}")
# Delays (seconds) before attempts 2..N of an e-mail the SMTP server did not take (+/- jitter).
EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS = env.list(
    "EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS", cast=float, default=[60, 300, 1800, 3600, 10800, 21600],
)
EMAIL_NOTIFICATIONS_RETRY_JITTER = env.float("EMAIL_NOTIFICATIONS_RETRY_JITTER", default=0.1)
EMAIL_NOTIFICATIONS_SWEEP_INTERVAL_SECONDS = env.float("EMAIL_NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", default=30.0)
EMAIL_NOTIFICATIONS_SWEEP_BATCH = env.int("EMAIL_NOTIFICATIONS_SWEEP_BATCH", default=200)
# At most one "account locked" e-mail per user in this many hours (guessing from many addresses).
EMAIL_LOCKOUT_NOTICE_HOURS = env.float("EMAIL_LOCKOUT_NOTICE_HOURS", default=1.0)

# --- Compliance -------------------------------------------------------------------------------
# Records create-endpoint refusals after their transaction rolled back (compliance.refusals).
MIDDLEWARE = [*MIDDLEWARE, "compliance.refusals.RefusalRecorderMiddleware"]
# Issuer named in signed attestations.
COMPLIANCE_ATTESTATION_ISSUER = env("COMPLIANCE_ATTESTATION_ISSUER", default="Biatec Tokens")
# Period of GET /api/v1/compliance/report when `from` is omitted, in days before `to`.
COMPLIANCE_REPORT_DEFAULT_DAYS = env.int("COMPLIANCE_REPORT_DEFAULT_DAYS", default=30)
# Maximum rows of one audit-log export (format=json|csv).
COMPLIANCE_EXPORT_MAX_ROWS = env.int("COMPLIANCE_EXPORT_MAX_ROWS", default=100000)
# GDPR exports (docs/gdpr.md): ZIPs in a private directory (never under STATIC_ROOT or served by any
# route but the signed one-time download); the link expires after GDPR_EXPORT_TTL_SECONDS.
GDPR_EXPORT_DIR = Path(env("GDPR_EXPORT_DIR", default=str(BASE_DIR / "var" / "exports")))
GDPR_EXPORT_TTL_SECONDS = env.int("GDPR_EXPORT_TTL_SECONDS", default=7 * 24 * 3600)
