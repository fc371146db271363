from django.urls import path

from . import apis, apis_gdpr, apis_mfa, apis_notifications, apis_usage

urlpatterns = [
    path("addresses", apis.AddressesApi.as_view(), name="account-addresses"),
    path("key-rotation", apis.KeyRotationApi.as_view(), name="account-key-rotation"),
    path("mfa", apis_mfa.MfaStatusApi.as_view(), name="account-mfa"),
    path("mfa/totp", apis_mfa.MfaTotpEnrolApi.as_view(), name="account-mfa-totp"),
    path("mfa/totp/confirm", apis_mfa.MfaTotpConfirmApi.as_view(), name="account-mfa-totp-confirm"),
    path("mfa/disable", apis_mfa.MfaDisableApi.as_view(), name="account-mfa-disable"),
    path("usage", apis_usage.UsageApi.as_view(), name="account-usage"),
    path("notification-preferences", apis_notifications.NotificationPreferencesApi.as_view(),
         name="account-notification-preferences"),
    path("export", apis_gdpr.AccountExportApi.as_view(), name="account-export"),
    path("export/<uuid:export_id>", apis_gdpr.AccountExportDetailApi.as_view(), name="account-export-detail"),
    path("export/<uuid:export_id>/download", apis_gdpr.AccountExportDownloadApi.as_view(),
         name="account-export-download"),
    path("erase", apis_gdpr.AccountEraseApi.as_view(), name="account-erase"),
    path("organizations/<uuid:organization_id>", apis.OrganizationDetailApi.as_view(), name="account-organization"),
]
