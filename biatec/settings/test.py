"""Test suite: PostgreSQL database `biatec_test` and Redis, as in production."""
from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
HEALTH_CHECK_BROKER = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_register": "10000/minute",  # noqa: F405
                                                               "auth_login": "10000/minute"}}
