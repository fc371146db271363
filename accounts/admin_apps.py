"""The admin app config (in INSTALLED_APPS instead of `django.contrib.admin`): the default site is
the two-factor staff site of accounts/admin_site.py. Kept apart from that module, which imports
models and cannot load before the app registry."""
from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.StaffOTPAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin module, django-otp's included
        from .admin_site import device_admins_register

        device_admins_register()
