# Biatec Tokens: production image (gunicorn serving biatec.wsgi). Workers use the same image:
#   docker run IMAGE celery -A biatec worker -l INFO      (and `celery -A biatec beat` once)

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Runtime dependencies only (no test, lint or audit tools), hash-checked: docs/dependencies.md.
COPY requirements-runtime.txt .
RUN python -m venv /opt/venv && /opt/venv/bin/python -m pip install "pip==26.2.1" \
    && /opt/venv/bin/pip install --require-hashes -r requirements-runtime.txt

FROM python:3.11-slim AS runtime
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=biatec.settings.production \
    PORT=8000
RUN groupadd --system biatec && useradd --system --gid biatec --home-dir /app --shell /usr/sbin/nologin biatec
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=biatec:biatec . .
# Static files (admin, Swagger UI sidecar) are collected at build time; settings need no secrets for it.
RUN DJANGO_SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost:6379/0 \
    KEY_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= JWT_SIGNING_KEY=build-only \
    python manage.py collectstatic --noinput
USER biatec
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/health/live', timeout=4)"
CMD ["sh", "-c", "gunicorn biatec.wsgi:application --bind 0.0.0.0:${PORT} --workers ${GUNICORN_WORKERS:-4} --access-logfile - --forwarded-allow-ips=\"${FORWARDED_ALLOW_IPS:-127.0.0.1}\""]
