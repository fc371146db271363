"""The admin app config (in INSTALLED_APPS instead of `accounts.admin_apps.StaffAdminConfig`): the
same two-factor staff site, as the back office's (dashboard index, correlation-ID search)."""
from __future__ import annotations

from accounts.admin_apps import StaffAdminConfig


class BackOfficeAdminConfig(StaffAdminConfig):
    default_site = "backoffice.admin_site.BackOfficeAdminSite"
