"""Test suite: PostgreSQL database `biatec_test` and Redis, as in production."""
from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = [
    "accounts.hashers.TunedArgon2PasswordHasher",
]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
HEALTH_CHECK_BROKER = True
# Throttles count in Redis as in production, with rates no test reaches; throttle tests set small
# rates and a key prefix of their own. One prefix per test process: parallel runs never share counts.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    scope: "10000/minute" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}}  # noqa: F405
CACHES["throttle"]["KEY_PREFIX"] = f"biatec-test-{__import__('os').getpid()}"  # noqa: F405
CACHES["auth-state"]["KEY_PREFIX"] = f"biatec-test-auth-{__import__('os').getpid()}"  # noqa: F405
CACHES["webhook-subscriptions"]["KEY_PREFIX"] = f"biatec-test-webhook-subs-{__import__('os').getpid()}"  # noqa: F405
CACHES["dashboard"]["KEY_PREFIX"] = f"biatec-test-dashboard-{__import__('os').getpid()}"  # noqa: F405
BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS = 0  # tests see the rows they just wrote; backoffice/tests cover the cache
# `make test` (and CI) use the database named in the issue, biatec_test. Ad-hoc pytest runs get a
# per-process name so that several sessions on one machine cannot drop each other's database.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": env("DATABASE_TEST_NAME", default=f"biatec_test_{__import__('os').getpid()}")
}
# Unlimited plan for the suite's organizations; the quota tests put theirs on Free explicitly.
BIATEC_DEFAULT_PLAN = env("BIATEC_DEFAULT_PLAN", default="enterprise")
# Webhook receivers in tests are loopback http servers.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=True)
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=True)
# Accounts on local networks are funded by devchain's faucet (tokens/chains/faucet.py).
LOCAL_FAUCET = env("LOCAL_FAUCET", default="devchain.faucet.fund")
# GDPR export ZIPs of a test process: a directory of its own under the system's temporary one.
GDPR_EXPORT_DIR = (__import__("pathlib").Path(__import__("tempfile").gettempdir())
                   / f"biatec-test-exports-{__import__('os').getpid()}")
