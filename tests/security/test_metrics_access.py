"""/metrics is for scrapers only: direct clients in METRICS_ALLOWED_NETWORKS (default loopback) or a
bearer token (METRICS_BEARER_TOKEN); anyone else gets 403 without the metrics."""
from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
TOKEN = "metrics-test-token-0123456789abcdef"


def _get(remote_addr: str, **headers: str):
    return Client(REMOTE_ADDR=remote_addr).get("/metrics", **headers)


def _is_metrics(response) -> bool:
    return response.status_code == 200 and b"django_http_requests" in response.content


@pytest.mark.parametrize("address", ["203.0.113.5", "10.1.2.3", "2001:db8::5", "::ffff:198.51.100.7"])
def test_clients_outside_the_allowed_networks_get_403(address):
    response = _get(address)
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert b"django_http" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_get_the_metrics(address):
    assert _is_metrics(_get(address))


def test_a_proxied_request_from_loopback_is_not_trusted_by_address():
    # A reverse proxy on the same host connects from 127.0.0.1 on behalf of any client.
    assert _get("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 403
    assert _get("127.0.0.1", HTTP_FORWARDED="for=203.0.113.5").status_code == 403
    assert _get("127.0.0.1", HTTP_X_REAL_IP="203.0.113.5").status_code == 403


def test_configured_networks(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert _is_metrics(_get("10.1.2.3"))
    assert _get("127.0.0.1").status_code == 403
    assert _get("11.0.0.1").status_code == 403


def test_bearer_token_opens_metrics_from_anywhere(settings):
    settings.METRICS_BEARER_TOKEN = TOKEN
    assert _is_metrics(_get("203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert _is_metrics(_get("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert _get("203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    assert _get("203.0.113.5", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    assert _get("203.0.113.5").status_code == 403


def test_empty_token_setting_never_matches(settings):
    settings.METRICS_BEARER_TOKEN = ""
    assert _get("203.0.113.5", HTTP_AUTHORIZATION="Bearer ").status_code == 403
