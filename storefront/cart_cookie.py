"""The cart id a browser carries: the `cart_id` cookie (httpOnly) and, for API clients, the
`X-Cart-Id` header. Pages, the cart API, sign-in (which carries a guest cart over) and the CSRF
check all read it here, so none of them imports another's module for it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from . import services

COOKIE = "cart_id"
HEADER = "X-Cart-Id"
MAX_AGE = 60 * 60 * 24 * 30  # 30 days
_CART_ID_CHARS = set("0123456789abcdef")


def valid(value: str) -> bool:
    """A cart id as the shop makes them: 32 lowercase hex characters."""
    return len(value) == 32 and set(value) <= _CART_ID_CHARS


def cart_id_of_cookie(request: HttpRequest) -> str | None:
    """Pages trust only the cookie; a malformed one is ignored (a new cart starts)."""
    value = request.COOKIES.get(COOKIE, "").strip().lower()
    return value if valid(value) else None


def set_cart_cookie(response: HttpResponse, cart_id: str) -> HttpResponse:
    """The cart id for browsers: httpOnly, kept for 30 days, Secure when the site is on TLS."""
    response.set_cookie(COOKIE, cart_id, max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=services.settings.SESSION_COOKIE_SECURE)
    return response


def forget(response: HttpResponse) -> HttpResponse:
    """Drop the browser's cart cookie."""
    response.delete_cookie(COOKIE, samesite="Lax")
    return response
