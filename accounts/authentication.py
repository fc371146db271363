"""JWT authentication that also refuses tokens voided by a token-version bump."""
from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        if validated_token.get("tv") != user.token_version:
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return user
