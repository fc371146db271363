"""The admin site: every page needs a staff session verified by a second factor (docs/mfa.md).

`accounts.admin_apps.StaffAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS and makes
`StaffOTPAdminSite` the default site, so every `admin.site.register` / `@admin.register` of every app
lands on it and every admin URL (index, app index, changelists, change pages, custom views wrapped in
`admin_view`) checks `has_permission`: active, staff and `request.user.is_verified()` (django-otp's OTPMiddleware).

Login is two steps: the password (Django's admin login form), then `otp/verify/` (a TOTP code or a
recovery code). A staff user without a confirmed TOTP device is sent to `otp/enrol/` instead: it shows
the otpauth:// URI and the secret once, confirms the device with a first valid code and shows the
recovery codes once. An unverified session can never enrol a second device or change an existing one.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login
from django_otp.admin import OTPAdminSite


def device_admins_register() -> None:
    """Replace django-otp's own device admins (they can show keys, QR codes and recovery codes)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model, model_admin in ((TOTPDevice, TOTPDeviceAdmin), (StaticDevice, RecoveryCodesAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)


_DEVICE_FIELDS: tuple[str, ...] = ("user", "name", "confirmed", "created_at", "last_used_at",
                                   "throttling_failure_count", "throttling_failure_timestamp")


class _DeviceAdmin(admin.ModelAdmin):
    """A device is seen (owner, state, throttle) and deleted (a lost phone: the owner enrols again at
    their next login), never added or edited here: no key, QR code or recovery code is ever shown."""

    list_display: tuple[str, ...] = ("user", "name", "confirmed", "created_at", "last_used_at",
                                     "throttling_failure_count")
    list_filter = ("confirmed",)
    search_fields = ("user__email",)
    fields = readonly_fields = _DEVICE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TOTPDeviceAdmin(_DeviceAdmin):
    pass


class RecoveryCodesAdmin(_DeviceAdmin):
    list_display = (*_DeviceAdmin.list_display, "codes_left")
    fields = readonly_fields = (*_DEVICE_FIELDS, "codes_left")

    @admin.display(description="codes left")
    def codes_left(self, device: Any) -> int:
        return int(device.token_set.count())


class CodeForm(forms.Form):
    code = forms.CharField(max_length=64, strip=True, label="Code",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}))


def _staff_pending(request: HttpRequest) -> bool:
    """Password-authenticated, active staff: may take the second step (not yet the admin)."""
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


class StaffOTPAdminSite(OTPAdminSite):
    """django-otp's OTP admin site (has_permission also needs `is_verified()`), with the login in two
    steps and the enrolment of a first device."""

    login_form = None  # Django's AdminAuthenticationForm: the password step
    login_template = None
    site_header = "Biatec Tokens administration"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    # ------------------------------------------------------------------------------- routing
    def get_urls(self) -> list[Any]:
        own: list[URLPattern] = [
            path("otp/verify/", self.otp_verify, name="otp_verify"),
            path("otp/enrol/", self.otp_enrol, name="otp_enrol"),
        ]
        return own + super().get_urls()

    def _next(self, request: HttpRequest) -> str:
        target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure()):
            return target
        return reverse("admin:index", current_app=self.name)

    def _second_step(self, request: HttpRequest) -> HttpResponseRedirect:
        from .mfa import mfa_enabled

        name = "admin:otp_verify" if mfa_enabled(request.user) else "admin:otp_enrol"  # type: ignore[arg-type]
        return HttpResponseRedirect(f"{reverse(name, current_app=self.name)}?"
                                    f"{urlencode({REDIRECT_FIELD_NAME: self._next(request)})}")

    def _login_redirect(self, request: HttpRequest) -> HttpResponseRedirect:
        return HttpResponseRedirect(f"{reverse('admin:login', current_app=self.name)}?"
                                    f"{urlencode({REDIRECT_FIELD_NAME: self._next(request)})}")

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "GET" and _staff_pending(request) and not _verified(request):
            return self._second_step(request)
        response = super().login(request, extra_context)
        if response.status_code == 302 and _staff_pending(request) and not _verified(request):
            return self._second_step(request)  # the password was right: now the second factor
        return response

    # ------------------------------------------------------------------------------- second step
    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        # No app list and no sidebar: this session has no admin access yet.
        return {**self.each_context(request), "available_apps": [], "is_nav_sidebar_enabled": False,
                "next": self._next(request), "next_field": REDIRECT_FIELD_NAME, **extra}

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def otp_verify(self, request: HttpRequest) -> HttpResponse:
        from .mfa import mfa_enabled, mfa_verify

        if not _staff_pending(request):
            return self._login_redirect(request)
        if _verified(request):
            return HttpResponseRedirect(self._next(request))
        if not mfa_enabled(request.user):  # type: ignore[arg-type]
            return self._second_step(request)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            device = mfa_verify(user=request.user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
            if device is not None:
                otp_login(request, device)
                return HttpResponseRedirect(self._next(request))
            _code_failure_record(request, "admin_otp")
            form.add_error("code", "Wrong or expired code, or too many attempts: wait a moment and try again.")
        return TemplateResponse(request, "admin/otp/verify.html",
                                self._context(request, form=form, title="Two-factor verification"))

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def otp_enrol(self, request: HttpRequest) -> HttpResponse:
        from .errors import MfaCodeInvalid, MfaNotEnabled
        from .mfa import mfa_enabled, totp_enrol_confirm, totp_enrol_start

        if not _staff_pending(request):
            return self._login_redirect(request)
        if _verified(request) or mfa_enabled(request.user):  # type: ignore[arg-type]
            return self._second_step(request) if not _verified(request) else HttpResponseRedirect(self._next(request))
        user = request.user
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                device, codes = totp_enrol_confirm(user=user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
            except (MfaCodeInvalid, MfaNotEnabled):
                _code_failure_record(request, "admin_otp_enrol")
                form.add_error("code", "Wrong or expired code. Reload this page to start again with a new secret.")
            else:
                otp_login(request, device)
                return TemplateResponse(request, "admin/otp/recovery_codes.html",
                                        self._context(request, codes=codes, title="Recovery codes"))
            return TemplateResponse(request, "admin/otp/enrol.html",
                                    self._context(request, form=form, enrolment=None, title="Set up two-factor"))
        enrolment = totp_enrol_start(user=user)  # type: ignore[arg-type]  # a new secret on every visit
        return TemplateResponse(request, "admin/otp/enrol.html",
                                self._context(request, form=form, enrolment=enrolment, title="Set up two-factor"))


def _code_failure_record(request: HttpRequest, context: str) -> None:
    from .client import client_ip
    from .models import SecurityEvent
    from .security_events import security_event_record

    user = request.user
    security_event_record(event_type=SecurityEvent.Type.LOGIN_FAILURE, user=user,  # type: ignore[arg-type]
                          ip_address=client_ip(request), user_agent=request.headers.get("User-Agent", ""),
                          details={"context": context})
