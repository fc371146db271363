"""WSGI entry of the benchmark's gunicorn: the product's application, publishing under the run's Redis
key prefix (bench/celery_app.py)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

import bench.celery_app  # noqa: E402,F401 - applies the key prefix before the first publish

application = get_wsgi_application()
