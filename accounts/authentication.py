"""JWT authentication without a user SELECT: the user's token version and active flag come from the
auth-state cache (accounts/auth_state.py); tokens voided by a token-version bump are refused."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from .auth_state import auth_state, claims_user
from .models import User


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> User:  # type: ignore[override]  # the stubs: a TypeVar
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        try:
            state = auth_state(user_id)
        except (ValueError, TypeError, ValidationError) as exc:  # not a UUID
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
        if state is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not state.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if validated_token.get("tv") != state.token_version:
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return claims_user(user_id, state)
