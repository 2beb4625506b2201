"""Active carts for the admin pages: the domain reads them from Temporal (`domains.cart.running`);
this module signs the visibility page token that goes in the page's links and keeps each read
within the web process's time limit."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.core import signing

from domains.cart import running
from domains.cart.running import QUERY_TIMEOUT, BadPageToken, CartEntry

from ... import services

__all__ = ["BadPageToken", "CartEntry", "CartPage", "active_carts", "activity_counts", "cart_detail"]


@dataclass(frozen=True)
class CartPage:
    entries: list[CartEntry]
    next_token: str | None  # signed, for the next page's link


_PAGE_SALT = "admin-carts-page"


def _encode(token: bytes | None) -> str | None:
    """Signed, so only tokens the server gave out go back to it (a garbled one makes the
    server fail internally, which the SDK retries for seconds)."""
    return signing.dumps(base64.urlsafe_b64encode(token).decode(), salt=_PAGE_SALT) if token else None


def _decode(token: str | None) -> bytes | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(signing.loads(token, salt=_PAGE_SALT).encode())
    except (signing.BadSignature, binascii.Error, ValueError, AttributeError):
        raise BadPageToken("not a page token") from None


def active_carts(token: str | None) -> CartPage:
    """One page of running carts, newest first, its next-page token signed for the link.
    Raises BadPageToken for a token we never made."""
    raw = _decode(token)
    page = services.temporal().run(lambda client: running.active_carts(client, raw), timeout=QUERY_TIMEOUT * 3)
    return CartPage(entries=page.entries, next_token=_encode(page.next_token))


def cart_detail(cart_id: str) -> CartEntry | None:
    """The cart and its checkout, or None when there is no such cart."""
    return services.temporal().run(lambda client: running.cart_detail(client, cart_id), timeout=QUERY_TIMEOUT * 2)


def activity_counts() -> tuple[int, int]:
    """(carts active now, checkouts in progress), from Temporal visibility."""
    return services.temporal().run(running.activity_counts, timeout=QUERY_TIMEOUT)
