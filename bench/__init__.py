"""Benchmarks of issue 13 (`make bench`, docs/architecture.md "Performance targets").

Every run uses a PostgreSQL database and a Redis key prefix of its own (bench/isolation.py), its own
chain nodes (devchain), the real server (gunicorn) and real Celery workers, and removes all of them
at the end, even on failure. Entry point: `python -m bench.run [--size small|full]`.
"""
