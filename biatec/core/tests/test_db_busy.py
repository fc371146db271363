"""A database lock not had within the timeout answers 503 DATABASE_BUSY with Retry-After and
writes nothing, whether it is hit in a DRF view, a plain Django view or a middleware, with or
without DEBUG; any other database error stays a 500."""
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("biatec.core.tests.urls_db_busy")]


def _assert_busy(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "1"
    body = response.json()
    assert set(body) == {"code", "message", "details", "correlation_id"}
    assert body["code"] == "DATABASE_BUSY"
    assert body["details"] == {"retry_after_seconds": 1}
    assert body["correlation_id"] == response["X-Correlation-ID"]


@pytest.mark.parametrize("debug", [False, True])
def test_drf_view_lock_timeout_is_503_and_rolled_back(debug):
    with override_settings(DEBUG=debug):
        response = Client(raise_request_exception=False).post("/api/test/locked", {"name": "half-written"},
                                                              content_type="application/json")
    _assert_busy(response)
    assert not Group.objects.filter(name="half-written").exists()


@pytest.mark.parametrize("debug", [False, True])
def test_plain_view_lock_timeout_is_503_and_rolled_back(debug):
    with override_settings(DEBUG=debug):
        response = Client(raise_request_exception=False).get("/api/test/plain-locked", {"name": "plain-half"})
    _assert_busy(response)
    assert not Group.objects.filter(name="plain-half").exists()


@pytest.mark.parametrize("debug", [False, True])
def test_middleware_lock_timeout_is_503(debug):
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(middleware.index("biatec.core.db_busy.DatabaseBusyMiddleware") + 1,
                      "biatec.core.tests.urls_db_busy.LockedMiddleware")
    with override_settings(DEBUG=debug, MIDDLEWARE=middleware):
        response = Client(raise_request_exception=False).get("/api/test/middleware-locked")
    _assert_busy(response)


def test_other_database_errors_stay_500():
    response = Client(raise_request_exception=False).get("/api/test/plain-other-error")
    assert response.status_code == 500
    assert "Retry-After" not in response
