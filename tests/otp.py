"""The one way tests open the admin (docs/mfa.md): the admin requires an OTP-verified staff session,
so a test logs the user in AND verifies the session with a real confirmed TOTP device, as the admin's
second login step (`django_otp.login`) does."""
from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The device's current code, computed from its key (what an authenticator app shows)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                drift=device.drift + offset_steps)
    return str(code).zfill(device.digits)


def totp_device_confirmed(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device (created if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)


def otp_force_login(client: Client, user: User) -> TOTPDevice:
    """`client.force_login(user)` plus a session verified by the user's confirmed TOTP device."""
    client.force_login(user)
    device = totp_device_confirmed(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
