"""API tokens on the JSON and search APIs: `Authorization: Bearer ck_<id>_<secret>`.

The token's row (a SHA-256 of the secret, its scopes, whether it is revoked) is read from
the write store on every request, so a revocation holds from the next request. When a
token was last used is sent to its workflow at most once a minute per process.
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.ids import sha256
from domains.identity.roles import Scope

from .. import rate_limit, services
from .principals import ApiClient

USE_REPORT_INTERVAL = 60.0
_reported: dict[str, float] = {}
_reported_lock = threading.Lock()


def _error(*args, **kw):
    # imported late: DRF loads this module while `rest_framework.views` is still importing
    from ..api_error import ApiError

    return ApiError(*args, **kw)


def _invalid(message: str = "the API token is not valid"):
    return _error("invalid_token", message, status.HTTP_401_UNAUTHORIZED)


def _report_use(token_id: str) -> None:
    """Best effort, off the request's path (nobody waits for the signal): a lost report only
    makes "last used" older, and a Temporal outage never slows a token's requests."""
    now = time.monotonic()
    with _reported_lock:
        if now - _reported.get(token_id, -USE_REPORT_INTERVAL) < USE_REPORT_INTERVAL:
            return
        _reported[token_id] = now
    at = datetime.now(UTC)
    services.temporal().submit(lambda client: identity.token_used(client, token_id, at))


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer":
            raise _invalid("use `Authorization: Bearer <token>`")
        parts = identity.split_token(presented.strip())
        if parts is None:
            raise _invalid()
        token_id, secret = parts
        record = reads.token(services.store(), token_id)
        if record is None or not hmac.compare_digest(record.secret_sha256, sha256(secret)):
            raise _invalid()
        if record.revoked_at is not None:
            raise _invalid("this API token was revoked")
        _report_use(token_id)
        return None, ApiClient(token_id=token_id, name=record.name, scopes=frozenset(record.scopes))

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # makes DRF answer 401, not 403, when a token is missing


def api_client(request: Request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None


def require_scope(request: Request, scope: Scope) -> ApiClient:
    client = api_client(request)
    if client is None:
        raise _error("authentication_required", f"send an API token with the {scope.value} scope",
                       status.HTTP_401_UNAUTHORIZED)
    if not client.has(scope):
        raise _error("insufficient_scope", f"this token lacks the {scope.value} scope", status.HTTP_403_FORBIDDEN,
                       scope=scope.value)
    return client


class AddressThrottle(SimpleRateThrottle):
    """Requests per client address, at the rate a Django setting names (read per request,
    so tests and operators can change it), counted in the write store so every web
    process shares one count (`storefront.rate_limit`)."""

    rate_setting = ""
    retry_after = 1

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        decision = rate_limit.hit(self.scope, self.get_ident(request), self.num_requests, self.duration)
        self.retry_after = decision.retry_after
        if not decision.allowed:
            rate_limit.refuse(request, decision)
        return decision.allowed

    def wait(self) -> float:
        return self.retry_after

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicSearchThrottle(AddressThrottle):
    """Anonymous search is public and limited per client address; a token with
    `search:read` is not limited. The rate comes from COMMERCE_PUBLIC_SEARCH_RATE."""

    scope = "public_search"
    rate_setting = "PUBLIC_SEARCH_RATE"

    def allow_request(self, request, view) -> bool:
        if api_client(request) is not None:
            require_scope(request, Scope.SEARCH_READ)
            return True
        return super().allow_request(request, view)


class SignInThrottle(AddressThrottle):
    """Password guesses across many accounts from one address (the lockout guards each account)."""

    scope = "sign_in"
    rate_setting = "SIGN_IN_RATE"


class ResetThrottle(AddressThrottle):
    """Reset emails requested from one address, so nobody floods a shopper's inbox."""

    scope = "password_reset"
    rate_setting = "SIGN_IN_RATE"


class OrderLookupThrottle(AddressThrottle):
    """Guesses at email + confirmation code pairs, per client address."""

    scope = "order_lookup"
    rate_setting = "ORDER_LOOKUP_RATE"
