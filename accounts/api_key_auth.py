"""Authentication with an organization's API key (docs/api-keys.md).

The key comes in `Authorization: Api-Key <key>` (djangorestframework-api-key's convention) or in
`X-Api-Key: <key>`. One SELECT finds the key by its prefix, with its creator and the creator's
current role in the key's organization; the secret is compared by its hash. Then, in order:
revoked (401 API_KEY_REVOKED), expired (401 API_KEY_EXPIRED), creator gone from the organization or
inactive (401 API_KEY_INVALID, like an unknown key), a route not open to keys (403
API_KEY_ROUTE_NOT_ALLOWED), the key's own throttle (429 RATE_LIMITED, scope `api_key`, per key,
counted here so that every route counts it whatever its own throttles), the IP allow list (403
API_KEY_IP_NOT_ALLOWED and an `api_key_ip_refused` security event). The request then acts as the
creator's `User` carrying the key's grant (accounts/principals.py), and `request.auth` is the key.
`last_used_at` is written at most once per `API_KEY_LAST_USED_SECONDS` (one UPDATE)."""
from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from . import api_key_errors as errors
from . import roles
from .client import client_ip
from .errors import RateLimiterUnavailable
from .models import ApiKey, Membership, SecurityEvent, User
from .permissions import view_action
from .principals import KeyGrant, grant_attach
from .security_events import security_event_record
from .throttles import rate_limit_consume

KEYWORD = "Api-Key"
HEADER = "X-Api-Key"
THROTTLE_SCOPE = "api_key"
MAX_KEY_LENGTH = 128
DEFAULT_LAST_USED_SECONDS = 60

# Actions a key never holds, whatever its role: who belongs to the organization and its keys are a
# person's decisions (the members' own rules compare persons' roles).
PERSON_ONLY_ACTIONS = frozenset({roles.MANAGE_MEMBERS, roles.MANAGE_API_KEYS})


def key_from_request(request: Request) -> str | None:
    """The key's text, or None when the request carries none."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, found, value = authorization.partition(" ")
    if found and keyword.lower() == KEYWORD.lower():
        return value.strip()
    header = request.headers.get(HEADER)
    return header.strip() if header else None


def _key_find(raw: str) -> ApiKey:
    prefix, dot, secret = raw.partition(".")
    if not dot or not prefix or not secret or len(raw) > MAX_KEY_LENGTH:
        raise errors.ApiKeyInvalid()
    creator_role = Membership.objects.filter(user_id=OuterRef("created_by_id"),
                                             organization_id=OuterRef("organization_id")).values("role")[:1]
    key = (ApiKey.objects.select_related("created_by").annotate(creator_role=Subquery(creator_role))
           .filter(prefix=prefix).first())
    if key is None or not key.secret_matches(raw):
        raise errors.ApiKeyInvalid()
    return key


def effective_role(key_role: str, creator_role: str) -> str:
    """The lower of the two: a key never acts above its creator, even after the creator's demotion."""
    return key_role if roles.role_rank(key_role) >= roles.role_rank(creator_role) else creator_role


def ip_allowed(ip: str | None, networks: list[str]) -> bool:
    if not networks:
        return True
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def route_action_for_keys(view: Any, method: str) -> str | None:
    """The action of the view's `method` when keys may call it, else None (see PERSON_ONLY_ACTIONS)."""
    try:
        action = view_action(view, method)
    except ImproperlyConfigured:  # OPTIONS, views of no organization (the schema)
        return None
    if action in roles.NO_ORGANIZATION or action in PERSON_ONLY_ACTIONS or getattr(view, "person_only", False):
        return None
    return action


def _route_check(request: Request) -> None:
    view = (getattr(request, "parser_context", None) or {}).get("view")
    method = "get" if request.method in (None, "HEAD") else str(request.method).lower()
    if route_action_for_keys(view, method) is None:
        raise errors.ApiKeyRouteNotAllowed()


def _throttle(key: ApiKey) -> None:
    try:
        wait = rate_limit_consume(THROTTLE_SCOPE, str(key.pk))
    except RedisError:  # fail closed, as the other throttles
        raise RateLimiterUnavailable() from None
    if wait is not None:
        raise exceptions.Throttled(wait)


def _last_used_touch(key: ApiKey, ip: str | None, now: Any) -> None:
    interval = timedelta(seconds=int(getattr(settings, "API_KEY_LAST_USED_SECONDS", DEFAULT_LAST_USED_SECONDS)))
    if key.last_used_at is None or key.last_used_at <= now - interval:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)


def key_authenticate(request: Request, raw: str) -> tuple[User, ApiKey]:
    key = _key_find(raw)
    now = timezone.now()
    if key.revoked_at is not None:
        raise errors.ApiKeyRevoked()
    if key.expired(now):
        raise errors.ApiKeyExpired()
    creator: User | None = key.created_by
    creator_role: str | None = getattr(key, "creator_role", None)
    if creator is None or not creator.is_active or creator_role is None:
        raise errors.ApiKeyInvalid("The API key's creator no longer belongs to its organization.")
    _route_check(request)
    _throttle(key)
    grant = KeyGrant(key_id=key.pk, organization_id=key.organization_id,
                     role=effective_role(key.role, creator_role))
    user = grant_attach(creator, grant)
    ip = client_ip(request)
    if not ip_allowed(ip, key.allowed_ips):
        security_event_record(event_type=SecurityEvent.Type.API_KEY_IP_REFUSED, user=user, ip_address=ip,
                              user_agent=request.headers.get("User-Agent", ""),
                              details={"prefix": key.prefix, "path": request.path[:200]})
        raise errors.ApiKeyIpNotAllowed(details={"ip": ip})
    _last_used_touch(key, ip, now)
    return user, key


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>` or `X-Api-Key: <key>` (see the module docstring)."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = key_from_request(request)
        if raw is None:
            return None
        return key_authenticate(request, raw)

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD

    def error_statuses_of(self, view: Any, method: str) -> set[int]:
        """What the schema documents for operations open to keys (biatec/core/schema.py): the key's
        refusals (401, 403 IP / route) and its throttle (429)."""
        return {401, 403, 429} if route_action_for_keys(view, method) is not None else set()


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api_key_auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        """Only the operations open to keys list the key scheme."""
        if route_action_for_keys(auto_schema.view, str(auto_schema.method).lower()) is None:
            return []
        return {str(self.name): []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>` (or the header `X-Api-Key: <key>`): an organization's API key "
                               "(docs/api-keys.md)."}
