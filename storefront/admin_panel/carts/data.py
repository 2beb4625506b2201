"""Active carts for the admin panel: which carts run comes from Temporal visibility, what is in
them from each cart workflow's query (and its checkout's), asked concurrently.

Visibility pages are walked with Temporal's own page token (base64 in the URL), so the
list stays newest first and exact however many carts there are.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from domains.cart import client as carts
from domains.checkout.messages import CheckoutView
from domains.checkout.workflows import CheckoutWorkflow
from domains.shared import CartView

from ... import services
from ...unavailable import UNAVAILABLE

RUNNING_CARTS = "WorkflowType='CartWorkflow' AND ExecutionStatus='Running'"
RUNNING_CHECKOUTS = "WorkflowType='CheckoutWorkflow' AND ExecutionStatus='Running'"
PAGE_SIZE = 25
QUERY_TIMEOUT = 5  # seconds per cart; a cart that does not answer is shown as such
CART_PREFIX = "cart-"


class BadPageToken(ValueError):
    pass


@dataclass(frozen=True)
class CartEntry:
    cart_id: str
    started_at: datetime | None
    cart: CartView | None  # None: the cart did not answer its query
    checkout: CheckoutView | None


@dataclass(frozen=True)
class CartPage:
    entries: list[CartEntry]
    next_token: str | None  # for the next page's link


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


async def _checkout_of(client: Client, cart: CartView) -> CheckoutView | None:
    if not cart.checkout_id:
        return None
    return await client.get_workflow_handle(cart.checkout_id).query(CheckoutWorkflow.view)


async def _entry(client: Client, cart_id: str, started_at: datetime | None) -> CartEntry:
    try:
        cart = await asyncio.wait_for(carts.get_cart(client, cart_id), QUERY_TIMEOUT)
    except (carts.ShopError, *UNAVAILABLE):
        return CartEntry(cart_id, started_at, None, None)
    try:
        checkout = await asyncio.wait_for(_checkout_of(client, cart), QUERY_TIMEOUT)
    except (WorkflowQueryFailedError, *UNAVAILABLE):
        checkout = None
    return CartEntry(cart_id, started_at, cart, checkout)


async def _active_carts(client: Client, token: bytes | None) -> CartPage:
    listing = client.list_workflows(RUNNING_CARTS, page_size=PAGE_SIZE, next_page_token=token)
    try:
        await listing.fetch_next_page()
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT and token:
            raise BadPageToken(str(exc)) from None
        raise
    found = [wf for wf in listing.current_page or [] if wf.id.startswith(CART_PREFIX)]
    entries = await asyncio.gather(*(_entry(client, wf.id.removeprefix(CART_PREFIX), wf.start_time)
                                     for wf in found))
    return CartPage(entries=list(entries), next_token=_encode(listing.next_page_token))


def active_carts(token: str | None) -> CartPage:
    """One page of running carts, newest first. Raises BadPageToken for a token we never made."""
    raw = _decode(token)
    return services.temporal().run(lambda client: _active_carts(client, raw), timeout=QUERY_TIMEOUT * 3)


def cart_detail(cart_id: str) -> CartEntry | None:
    """The cart and its checkout, or None when there is no such cart."""

    async def read(client: Client) -> CartEntry | None:
        try:
            cart = await carts.get_cart(client, cart_id)
        except carts.ShopError:
            return None
        description = await client.get_workflow_handle(f"{CART_PREFIX}{cart_id}").describe()
        try:
            checkout = await _checkout_of(client, cart)
        except WorkflowQueryFailedError:
            checkout = None
        return CartEntry(cart_id, description.start_time, cart, checkout)

    return services.temporal().run(read, timeout=QUERY_TIMEOUT * 2)


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


def activity_counts() -> tuple[int, int]:
    """(carts active now, checkouts in progress), from Temporal visibility."""

    async def both(client: Client) -> tuple[int, int]:
        return tuple(await asyncio.gather(_count(client, RUNNING_CARTS), _count(client, RUNNING_CHECKOUTS)))

    return services.temporal().run(both, timeout=QUERY_TIMEOUT)
