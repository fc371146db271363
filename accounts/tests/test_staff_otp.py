"""Staff two-factor login of the admin (accounts/admin_site.py, docs/mfa.md): staff without a
confirmed TOTP device cannot open any admin page; with one (verified in the session), they can.
Codes here are real: computed from the device's key with django-otp's TOTP, as an app would."""
from __future__ import annotations

import re
import uuid
from base64 import b32decode, b32encode
from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.otp import otp_force_login, totp_code, totp_device_confirmed

pytestmark = pytest.mark.django_db

PASSWORD = "a staff password that is long 7"
# The steps of the login itself: open without a verified session by design.
UNGATED = {"login", "logout", "otp_verify", "otp_enrol"}


def _fill(name: str, converter: object) -> list[str]:
    if name == "app_label":
        return sorted({model._meta.app_label for model in admin.site._registry})
    kind = type(converter).__name__
    return [str(uuid.uuid4())] if kind == "UUIDConverter" else ["1"]


def admin_urls() -> list[tuple[str, str, bool]]:
    """(name, URL, has placeholders) of every named admin URL pattern (walked from the site's URL conf, each model
    admin's own and custom views included), path parameters filled with placeholders."""
    found: list[tuple[str, str, bool]] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in UNGATED:
                route = pattern.pattern
                converters = getattr(route, "converters", {})
                names = list(converters) or list(route.regex.groupindex)
                options = [(n, _fill(n, converters.get(n))) for n in names]
                combos: list[dict[str, str]] = [{}]
                for n, values in options:
                    combos = [{**c, n: v} for c in combos for v in values]
                positional = ["1"] * (route.regex.groups - len(route.regex.groupindex))
                for kwargs in combos:
                    found.append((pattern.name, reverse(f"admin:{pattern.name}", args=positional or None,
                                                        kwargs=kwargs or None), bool(positional or names)))

    walk(admin.site.get_urls())
    return found


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("otp.staff@example.com", PASSWORD)


def _password_step(client: Client, user: User) -> str:
    response = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD,
                                                          "next": "/admin/"})
    assert response.status_code == 302, response.content
    return response["Location"]


def _to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_walk_covers_the_index_and_every_registered_models_changelist():
    names = {name for name, _, _ in admin_urls()}
    assert {"index", "app_list", "otp_totp_totpdevice_changelist", "otp_static_staticdevice_changelist"} <= names
    for model in admin.site._registry:
        assert f"{model._meta.app_label}_{model._meta.model_name}_changelist" in names


def test_staff_without_a_verified_device_opens_no_admin_page(staff):
    client = Client()
    client.force_login(staff)  # the password alone
    urls = admin_urls()
    assert len(urls) > 50
    opened = [(name, url, r.status_code) for name, url, _ in urls if not _to_login(r := client.get(url))]
    assert not opened, opened
    # Not with an unconfirmed device in the session either.
    pending = TOTPDevice.objects.create(user=staff, name="pending", confirmed=False)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = pending.persistent_id
    session.save()
    assert _to_login(client.get("/admin/"))
    assert _to_login(client.get(reverse("admin:accounts_user_changelist")))
    # Nor a device of another user.
    other = User.objects.create_user("otp.other@example.com", PASSWORD, is_staff=True)
    session[DEVICE_ID_SESSION_KEY] = totp_device_confirmed(other).persistent_id
    session.save()
    assert _to_login(client.get("/admin/"))


def test_a_real_totp_code_opens_every_admin_page(staff):
    device = totp_device_confirmed(staff)
    client = Client()
    assert _password_step(client, staff).startswith(reverse("admin:otp_verify"))
    assert _to_login(client.get("/admin/"))  # the password step alone opens nothing
    response = client.post(reverse("admin:otp_verify"), {"code": totp_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Every page without an object in its path (placeholder ids would only find nothing).
    refused = [(name, url, r.status_code) for name, url, placeholders in admin_urls()
               if (not placeholders or name == "app_list") and _to_login(r := client.get(url))]
    assert not refused, refused
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist


def test_wrong_codes_are_refused_and_throttled(staff):
    device = totp_device_confirmed(staff)
    client = Client()
    _password_step(client, staff)
    wrong = str((int(totp_code(device)) + 1) % 1_000_000).zfill(6)
    page = client.post(reverse("admin:otp_verify"), {"code": wrong})
    assert page.status_code == 200 and b"Wrong or expired code" in page.content
    assert _to_login(client.get("/admin/"))
    # Right after a failure even the right code waits (django-otp's back-off is on).
    assert client.post(reverse("admin:otp_verify"), {"code": totp_code(device)}).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the throttled attempt was not even checked
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=5))
    assert client.post(reverse("admin:otp_verify"), {"code": totp_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_enrolment_shows_the_secret_once_confirms_with_a_code_and_recovery_codes_work_once(staff):
    client = Client()
    assert _password_step(client, staff).startswith(reverse("admin:otp_enrol"))
    page = client.get(reverse("admin:otp_enrol")).content.decode()
    uri = re.search(r'id="otp-provisioning-uri">([^<]+)<', page).group(1)
    secret = re.search(r'id="otp-secret">([^<]+)<', page).group(1)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri.replace("%3D", "=")
    assert _to_login(client.get("/admin/"))  # an unconfirmed device opens nothing
    key = b32decode(secret + "=" * (-len(secret) % 8))
    code = str(totp(key)).zfill(6)
    done = client.post(reverse("admin:otp_enrol"), {"code": code, "next": "/admin/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=staff).confirmed
    assert client.get("/admin/").status_code == 200  # enrolment verified this session
    # The secret is not shown again: the enrol page of a user with a device sends to verification.
    later = Client()
    _password_step(later, staff)
    assert client.get(reverse("admin:otp_enrol")).status_code == 302
    assert later.get(reverse("admin:otp_enrol"))["Location"].startswith(reverse("admin:otp_verify"))
    # A recovery code logs in once.
    assert later.post(reverse("admin:otp_verify"), {"code": codes[0].upper()}).status_code == 302
    assert later.get("/admin/").status_code == 200
    again = Client()
    _password_step(again, staff)
    StaticDevice.objects.filter(user=staff).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    assert again.post(reverse("admin:otp_verify"), {"code": codes[0]}).status_code == 200
    assert _to_login(again.get("/admin/"))
    assert StaticToken.objects.filter(device__user=staff).count() == 9


def test_device_admin_pages_never_show_keys_or_recovery_codes(staff):
    owner = User.objects.create_user("otp.owner@example.com", PASSWORD, is_staff=True)
    client = Client()
    otp_force_login(client, owner)  # a device and recovery codes of someone else
    device = TOTPDevice.objects.get(user=owner)
    recovery = StaticDevice.objects.create(user=owner, name="recovery codes", confirmed=True)
    token = StaticToken.objects.create(device=recovery, token="abcd2345efgh")
    browser = Client()
    otp_force_login(browser, staff)
    b32 = b32encode(device.bin_key).decode().rstrip("=")
    for url in (reverse("admin:otp_totp_totpdevice_changelist"),
                reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
                reverse("admin:otp_static_staticdevice_changelist"),
                reverse("admin:otp_static_staticdevice_change", args=[recovery.pk])):
        body = browser.get(url)
        assert body.status_code == 200, url
        for leaked in (device.key, b32, token.token):
            assert leaked.encode() not in body.content, (url, leaked)
    assert browser.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert browser.post(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
                        {"key": "00" * 20}).status_code == 403
    # Deleting a lost device is the staff recovery path: the owner enrols again at the next login.
    assert browser.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]),
                        {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=owner).exists()


def test_the_second_step_pages_are_for_password_authenticated_staff_only():
    customer = User.objects.create_user("otp.customer@example.com", PASSWORD)
    anonymous, signed_in = Client(), Client()
    signed_in.force_login(customer)  # a session, but not staff
    for browser in (anonymous, signed_in):
        for name in ("admin:otp_enrol", "admin:otp_verify"):
            assert _to_login(browser.get(reverse(name))), name
            assert _to_login(browser.post(reverse(name), {"code": "123456"})), name
    assert not TOTPDevice.objects.filter(user=customer).exists()
