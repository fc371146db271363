"""Production: every secret comes from the environment, with no default."""
from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
REDIS_URL = env("REDIS_URL")
CACHES["throttle"]["LOCATION"] = env("THROTTLE_REDIS_URL", default=REDIS_URL)  # noqa: F405
CACHES["auth-state"]["LOCATION"] = env("AUTH_STATE_REDIS_URL", default=REDIS_URL)  # noqa: F405
CACHES["webhook-subscriptions"]["LOCATION"] = env("WEBHOOK_SUBSCRIPTIONS_REDIS_URL", default=REDIS_URL)  # noqa: F405
CACHES["dashboard"]["LOCATION"] = env("DASHBOARD_REDIS_URL", default=REDIS_URL)  # noqa: F405
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
KEY_ENCRYPTION_KEYS = env.list("KEY_ENCRYPTION_KEYS")
SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY")  # noqa: F405
HEALTH_CHECK_BROKER = True
# The fault suite's kill switch (biatec/core/faults.py) never works in production.
FAULT_INJECTION = ""
FAULT_INJECTION_FILE = ""

# X-Forwarded-Proto is believed only behind a trusted proxy (which must overwrite it); without
# one, any client could claim HTTPS. Gunicorn likewise trusts it only from FORWARDED_ALLOW_IPS.
if REST_FRAMEWORK["NUM_PROXIES"] > 0:  # noqa: F405
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Static files (admin, Swagger UI) served by WhiteNoise from STATIC_ROOT, collected in the image.
MIDDLEWARE = [MIDDLEWARE[0], MIDDLEWARE[1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[2:]]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
