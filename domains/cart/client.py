"""Typed calls for Django and other callers: carts and their checkouts.

The first add-to-cart creates the cart workflow atomically with update-with-start
(USE_EXISTING); every other change is an update that returns the whole cart; reads are
queries (there is no database read for cart state). Temporal failures come back as
`ShopError` with a stable code, for the web layer to map to HTTP statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domains.cart.messages import (
    CART_CLOSED,
    AddItem,
    ApplyCoupon,
    AttachShopper,
    CarriedHold,
    CarriedTerms,
    CartRequester,
    CartSettings,
    CartState,
    ChangeQuantity,
    MergeLines,
    RemoveLine,
    VariantInfo,
    ample_stock,
    only_left,
)
from domains.shared import Address, CartView
from infra.temporal import business_error

from ..checkout.messages import CHECKOUT_CLOSED, INVALID_STEP, CheckoutView, Step
from ..checkout.workflows import CheckoutWorkflow
from ..inventory import client as inventory
from ..inventory.errors import InventoryError
from .errors import CartErrorCode, ShopError, shop_code
from .ids import cart_owner, cart_workflow_id
from .queue import TASK_QUEUE
from .workflows import CartWorkflow

NOT_FOUND = CartErrorCode.NOT_FOUND
PLACING_POLL_SECONDS = 0.25  # a retried submit waiting for the first one's outcome


def _shop_error(exc: Exception) -> ShopError:
    cause = business_error(exc.cause) if isinstance(exc, WorkflowUpdateFailedError) else None
    if cause is not None:
        details = cause.details[0] if cause.details else None
        return ShopError(shop_code(cause.type), cause.message, details)
    if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
        return ShopError(NOT_FOUND, "no such cart or checkout (it may have ended)")
    if isinstance(exc, WorkflowQueryFailedError):
        return ShopError(NOT_FOUND, str(exc))
    raise exc


async def _guarded(call: Awaitable[Any]) -> Any:
    """Await a Temporal call; refusals and missing workflows become ShopError."""
    try:
        return await call
    except (WorkflowUpdateFailedError, WorkflowQueryFailedError, RPCError) as exc:
        raise _shop_error(exc) from None


async def _update(client: Client, cart_id: str, update: Any, *args: Any) -> CartView:
    return await _guarded(client.get_workflow_handle(cart_workflow_id(cart_id)).execute_update(update, *args))


async def add_item(client: Client, cart_id: str, variant_id: str, quantity: int = 1, *,
                   settings: CartSettings | None = None, variant: VariantInfo | None = None,
                   shop: CarriedTerms | None = None, requester: CartRequester | None = None,
                   hold: CarriedHold | None = None, stock_seen: int | None = None) -> CartView:
    """The first call creates the cart; later ones join it. `variant` and `shop` are what the
    caller read from the store just now (domains.cart.reads), carried so the cart need not read
    them itself; never take them from a shopper's request. `requester`: who asks, for the cart
    to refuse an add to a cart another shopper owns (NOT_FOUND) without a query first.
    `stock_seen`: the available units of the variant's stock row, read just now
    (reads.stock_seen): when ample, the cart answers before its hold."""
    start = WithStartWorkflowOperation(
        CartWorkflow.run, CartState(cart_id=cart_id, settings=settings or CartSettings()),
        id=cart_workflow_id(cart_id), task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # an ended cart is never restarted: its checkout ids and hold owners stay unique
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        return await _guarded(client.execute_update_with_start_workflow(
            CartWorkflow.add_item, AddItem(variant_id=variant_id, quantity=quantity, variant=variant, shop=shop,
                                           requester=requester, hold=hold, stock_seen=stock_seen),
            start_workflow_operation=start))
    except WorkflowAlreadyStartedError:
        raise ShopError(CART_CLOSED, "this cart has ended; start a new one") from None


async def start_with_item(client: Client, cart_id: str, variant: VariantInfo, quantity: int, *,
                          shop: CarriedTerms, requester: CartRequester | None = None,
                          stock_seen: int | None = None) -> CartView:
    """A brand-new cart's first add (`cart_id` never used). On ample stock seen the cart starts
    at once and holds after answering (see AddItem.stock_seen). Otherwise the stock is held
    first, here, and the hold carried into the update that starts the cart, which takes it
    instead of holding again (a new cart holds nothing, so the quantity is the add's own).
    Short stock is refused before any cart starts; a cart that does not start gives the hold back."""
    if not variant.available:
        raise ShopError(CartErrorCode.INSUFFICIENT_STOCK,
                        f"{variant.product_name} ({variant.color}, {variant.size}) is sold out", {"available": 0})
    if ample_stock(stock_seen, quantity):
        return await add_item(client, cart_id, variant.variant_id, quantity, variant=variant, shop=shop,
                              requester=requester, stock_seen=stock_seen)
    owner = cart_owner(cart_id)
    ttl = shop.terms.hold_ttl_seconds if shop.terms else CartSettings().hold_ttl_seconds
    try:
        held = await inventory.hold(client, owner, variant.blank_sku, quantity, ttl)
    except InventoryError:  # e.g. a SKU the inventory does not know: the cart's own add answers
        return await add_item(client, cart_id, variant.variant_id, quantity, variant=variant, shop=shop,
                              requester=requester)
    if not held.complete:
        left = held.held + held.available
        raise ShopError(CartErrorCode.INSUFFICIENT_STOCK, only_left(variant.product_name, left), {"available": left})
    carried = CarriedHold(owner=owner, sku=variant.blank_sku, quantity=quantity)
    try:
        return await add_item(client, cart_id, variant.variant_id, quantity, variant=variant, shop=shop,
                              requester=requester, hold=carried)
    except ShopError:
        # refused: the cart did not take the hold. (Not on a timeout or a lost answer: the cart
        # may hold it then; if it never started, the hold lapses after its time.)
        await _give_back(client, owner)
        raise


async def _give_back(client: Client, owner: str) -> None:
    """Best effort: a hold nobody uses lapses after its time anyway."""
    try:
        await inventory.release(client, owner)
    except Exception:  # the add's own refusal is what the caller needs to see
        pass


async def get_cart(client: Client, cart_id: str) -> CartView:
    return await _guarded(client.get_workflow_handle(cart_workflow_id(cart_id)).query(CartWorkflow.cart))


async def change_quantity(client: Client, cart_id: str, line_id: str, quantity: int) -> CartView:
    return await _update(client, cart_id, CartWorkflow.change_quantity, ChangeQuantity(line_id=line_id,
                                                                                       quantity=quantity))


async def remove_line(client: Client, cart_id: str, line_id: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.remove_line, RemoveLine(line_id=line_id))


async def apply_coupon(client: Client, cart_id: str, code: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.apply_coupon, ApplyCoupon(code=code))


async def remove_coupon(client: Client, cart_id: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.remove_coupon)


async def attach_shopper(client: Client, cart_id: str, shopper_id: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.attach_shopper, AttachShopper(shopper_id=shopper_id))


async def merge(client: Client, cart_id: str, lines: MergeLines) -> CartView:
    return await _update(client, cart_id, CartWorkflow.merge, lines)


async def clear(client: Client, cart_id: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.clear)


async def begin_checkout(client: Client, cart_id: str) -> CartView:
    return await _update(client, cart_id, CartWorkflow.begin_checkout)


# --- checkout (reached through the cart's current checkout id) --------------------------

async def _checkout_id(client: Client, cart_id: str) -> str:
    cart = await get_cart(client, cart_id)
    if not cart.checkout_id:
        raise ShopError(NOT_FOUND, "this cart has no checkout in progress")
    return cart.checkout_id


async def _checkout_update(client: Client, cart_id: str, update: Any, *args: Any) -> CheckoutView:
    handle = client.get_workflow_handle(await _checkout_id(client, cart_id))
    return await _guarded(handle.execute_update(update, *args))


async def get_checkout(client: Client, cart_id: str) -> CheckoutView:
    handle = client.get_workflow_handle(await _checkout_id(client, cart_id))
    return await _guarded(handle.query(CheckoutWorkflow.view))


async def set_shipping(client: Client, cart_id: str, address: Address) -> CheckoutView:
    return await _checkout_update(client, cart_id, CheckoutWorkflow.set_shipping, address)


async def set_payment(client: Client, cart_id: str, token: str) -> CheckoutView:
    return await _checkout_update(client, cart_id, CheckoutWorkflow.set_payment, token)


async def go_to(client: Client, cart_id: str, step: Step) -> CheckoutView:
    return await _checkout_update(client, cart_id, CheckoutWorkflow.go_to, step)


async def submit(client: Client, cart_id: str) -> CheckoutView:
    """Place the order. Idempotent: a retried submit of a checkout that already placed its
    order (the first answer lost to a timeout or an outage) answers with that order."""
    try:
        return await _checkout_update(client, cart_id, CheckoutWorkflow.submit)
    except ShopError as exc:
        placing = exc.code == INVALID_STEP and isinstance(exc.details, dict) and \
            exc.details.get("step") == Step.PLACING.value
        if not placing and exc.code not in (CHECKOUT_CLOSED, NOT_FOUND):
            raise
        try:  # a completed workflow still answers queries
            view = await _placing_outcome(client, cart_id)
        except ShopError:
            raise exc from None
        if view.step == Step.COMPLETE and view.order_id:
            return view
        if placing and view.error is not None:  # the first submit ended back at payment: its view says why
            return view
        raise


async def _placing_outcome(client: Client, cart_id: str) -> CheckoutView:
    """The checkout once a submit in progress has finished placing (the caller bounds the wait)."""
    while True:
        view = await get_checkout(client, cart_id)
        if view.step != Step.PLACING:
            return view
        await asyncio.sleep(PLACING_POLL_SECONDS)


async def cancel_checkout(client: Client, cart_id: str) -> CheckoutView:
    return await _checkout_update(client, cart_id, CheckoutWorkflow.cancel)
