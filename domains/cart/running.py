"""The carts running now, as staff see them: which carts run comes from Temporal visibility
(newest first, walked with Temporal's own page token, so the list stays exact however many
carts there are), what is in them from each cart workflow's query and its checkout's, asked
concurrently. A cart that does not answer in time is listed without its contents.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import CartView

from ..checkout.messages import CheckoutView
from ..checkout.workflows import CheckoutWorkflow
from .client import ShopError, get_cart
from .ids import cart_workflow_id

RUNNING_CARTS = "WorkflowType='CartWorkflow' AND ExecutionStatus='Running'"
RUNNING_CHECKOUTS = "WorkflowType='CheckoutWorkflow' AND ExecutionStatus='Running'"
PAGE_SIZE = 25
QUERY_TIMEOUT = 5  # seconds per cart; a cart that does not answer is shown as such
CART_PREFIX = cart_workflow_id("")
# a cart or checkout that cannot answer its query now (gone, no worker, Temporal slow)
NO_ANSWER = (TemporalError, RPCError, TimeoutError, ConnectionError)


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
    next_token: bytes | None  # Temporal's token for the next page


async def _checkout_of(client: Client, cart: CartView) -> CheckoutView | None:
    if not cart.checkout_id:
        return None
    return await client.get_workflow_handle(cart.checkout_id).query(CheckoutWorkflow.view)


async def _entry(client: Client, cart_id: str, started_at: datetime | None) -> CartEntry:
    try:
        cart = await asyncio.wait_for(get_cart(client, cart_id), QUERY_TIMEOUT)
    except (ShopError, *NO_ANSWER):
        return CartEntry(cart_id, started_at, None, None)
    try:
        checkout = await asyncio.wait_for(_checkout_of(client, cart), QUERY_TIMEOUT)
    except (WorkflowQueryFailedError, *NO_ANSWER):
        checkout = None
    return CartEntry(cart_id, started_at, cart, checkout)


async def active_carts(client: Client, token: bytes | None) -> CartPage:
    """One page of running carts, newest first. Raises BadPageToken for a token Temporal refuses."""
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
    return CartPage(entries=list(entries), next_token=listing.next_page_token)


async def cart_detail(client: Client, cart_id: str) -> CartEntry | None:
    """The cart and its checkout, or None when there is no such cart."""
    try:
        cart = await get_cart(client, cart_id)
    except ShopError:
        return None
    description = await client.get_workflow_handle(cart_workflow_id(cart_id)).describe()
    try:
        checkout = await _checkout_of(client, cart)
    except WorkflowQueryFailedError:
        checkout = None
    return CartEntry(cart_id, description.start_time, cart, checkout)


async def activity_counts(client: Client) -> tuple[int, int]:
    """(carts active now, checkouts in progress), from Temporal visibility."""
    carts, checkouts = await asyncio.gather(client.count_workflows(RUNNING_CARTS),
                                            client.count_workflows(RUNNING_CHECKOUTS))
    return carts.count, checkouts.count
