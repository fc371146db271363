"""Error codes of organization API keys (docs/api-keys.md)."""
from biatec.core.errors import ApplicationError


class ApiKeyInvalid(ApplicationError):
    """No key with this prefix, a secret that does not match, or a key whose creator no longer
    belongs to its organization: the answer says nothing about which keys exist."""

    code = "API_KEY_INVALID"
    http_status = 401
    default_message = "The API key is not valid."


class ApiKeyExpired(ApplicationError):
    code = "API_KEY_EXPIRED"
    http_status = 401
    default_message = "The API key has expired."


class ApiKeyRevoked(ApplicationError):
    code = "API_KEY_REVOKED"
    http_status = 401
    default_message = "The API key was revoked."


class ApiKeyIpNotAllowed(ApplicationError):
    code = "API_KEY_IP_NOT_ALLOWED"
    http_status = 403
    default_message = "The API key may not be used from this address."


class ApiKeyRouteNotAllowed(ApplicationError):
    """Keys act in their organization only: not on a person's own account (profile, password, MFA,
    logout), nor on staff routes, nor on who belongs to the organization (members, invitations, keys)."""

    code = "API_KEY_ROUTE_NOT_ALLOWED"
    http_status = 403
    default_message = "This route is not open to API keys: sign in as a person."
