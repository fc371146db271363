from django.urls import path

from . import apis, apis_mfa

urlpatterns = [
    path("register", apis.RegisterApi.as_view(), name="auth-register"),
    path("login", apis.LoginApi.as_view(), name="auth-login"),
    path("login/mfa", apis_mfa.LoginMfaApi.as_view(), name="auth-login-mfa"),
    path("refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("profile", apis.ProfileApi.as_view(), name="auth-profile"),
    path("change-password", apis.ChangePasswordApi.as_view(), name="auth-change-password"),
]
