"""Checkout activities: quotes, the simulated payment gateway, stock settlement, and the
order record. Each is idempotent, so a retry (or a worker that died mid-step) repeats
nothing: charges and refunds are keyed by idempotency key, order rows are upserts."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from domains.checkout import rates
from domains.checkout.messages import RESERVATION_LOST, PlaceOrder, Quote, QuoteRequest
from domains.orders.messages import OrderInput, OrderRecord
from domains.payments import gateway
from domains.payments.ledger import link_order
from domains.payments.messages import Charge, ChargeRequest, RefundRequest
from domains.payments.port import Authorization, AuthorizeRequest, PaymentOperation, VoidRequest
from domains.payments.providers import PaymentSettings, payments_from_env
from domains.shared import OrderLine
from infra.store import Store, schema

from ..identity.shop_settings import read_shop_settings
from ..inventory import client as inventory
from ..inventory.client import InventoryError
from ..inventory.messages import OwnerResult
from ..orders.ids import order_workflow_id
from ..orders.queue import TASK_QUEUE as ORDERS_QUEUE
from .errors import CheckoutErrorCode

CONFIRMATION_TAKEN = CheckoutErrorCode.CONFIRMATION_TAKEN


class CheckoutActivities:
    def __init__(self, store: Store, client: Client):
        self.store = store
        self.client = client

    @activity.defn
    def quote(self, request: QuoteRequest) -> Quote:
        return rates.quote(read_shop_settings(self.store), request.address.country, request.address.state,
                           request.goods)

    # --- the simulated payment gateway --------------------------------------------------

    @activity.defn
    def charge(self, request: ChargeRequest) -> Charge:
        return gateway.charge(self.store, request, activity.info().attempt)

    @activity.defn
    def refund(self, request: RefundRequest) -> None:
        # the saga refunds its own charge in full: that amount stands in for the charge only
        # when the gateway has no ledger for it (a charge made before the ledger existed)
        gateway.refund(self.store, request, charged=request.amount)

    # --- the payments port (COMMERCE_PAYMENTS): authorize at placement, void on a failure --

    @activity.defn
    def payment_flow(self) -> str:
        """`authorize` (hold at placement, capture at shipment) or `charge` (the gateway, at once)."""
        return PaymentSettings.from_env().flow

    @activity.defn
    def authorize(self, request: AuthorizeRequest) -> Authorization:
        attempt = request.model_copy(update={"attempt": activity.info().attempt})
        return payments_from_env(self.store).authorize(attempt)

    @activity.defn
    def void(self, request: VoidRequest) -> PaymentOperation:
        return payments_from_env(self.store).void(request.payment_id, idempotency_key=request.idempotency_key)

    # --- stock --------------------------------------------------------------------------

    @activity.defn
    async def confirm_stock(self, owner: str, skus: list[str] | None = None) -> OwnerResult:
        """`skus`: the checkout's blank SKUs (only their shards are asked); None (a task scheduled
        by the release before the shards): every shard."""
        try:
            return await inventory.confirm(self.client, owner, skus)
        except InventoryError as exc:
            raise ApplicationError(f"the items are no longer reserved: {exc}", type=RESERVATION_LOST,
                                   non_retryable=True) from None

    @activity.defn
    async def cancel_stock(self, owner: str, skus: list[str] | None = None) -> OwnerResult:
        return await inventory.cancel(self.client, owner, skus)

    @activity.defn
    async def release_stock(self, owner: str, skus: list[str] | None = None) -> OwnerResult:
        return await inventory.release(self.client, owner, skus)

    # --- the order ----------------------------------------------------------------------

    @activity.defn
    def create_order(self, place: PlaceOrder) -> OrderRecord:
        claimed = self.store.insert_if_absent(schema.ORDERS_BY_CONFIRMATION.name, {
            "confirmation_code": place.confirmation_code, "order_id": place.order_id,
            "email": place.address.email.lower()})
        if not claimed:
            owner = self.store.get_existing(schema.ORDERS_BY_CONFIRMATION.name,
                                            {"confirmation_code": place.confirmation_code})
            if owner["order_id"] != place.order_id:
                raise ApplicationError("confirmation code taken", type=CONFIRMATION_TAKEN, non_retryable=True)
        if place.authorized:  # an inbound provider event about this payment finds the order
            link_order(self.store, place.charge.charge_id, place.order_id)
        cart, quote = place.cart, place.quote
        record = OrderRecord(
            order_id=place.order_id, confirmation_code=place.confirmation_code, cart_id=place.cart_id,
            checkout_id=place.checkout_id, customer_id=place.customer_id, email=place.address.email.lower(),
            placed_at=datetime.now(UTC), currency=cart.currency, subtotal=cart.subtotal, discount=cart.discount,
            shipping=quote.shipping, tax=quote.tax, total=cart.subtotal - cart.discount + quote.shipping + quote.tax,
            lines=[OrderLine(variant_id=li.variant_id, product_id=li.product_id, product_name=li.product_name,
                             options=li.options, blank_sku=li.blank_sku, quantity=li.quantity, unit_price=li.unit_price,
                             line_total=li.line_total) for li in cart.lines],
            shipping_address=place.address,
            payment={"charge_id": place.charge.charge_id, "amount": place.charge.amount,
                     **(self._authorization(place.charge.charge_id, place.multicapture) if place.authorized else {})},
        )
        existing = self.store.get(schema.ORDERS.name, {"order_id": record.order_id})
        if existing:  # a retry after the rows were written: keep the first placed_at
            record.placed_at = existing["placed_at"]
        self.store.put(schema.ORDERS.name, {
            **record.model_dump(exclude={"cart_id", "checkout_id", "shipping_address", "lines"}),
            "lines": [li.model_dump() for li in record.lines],
            "shipping_address": record.shipping_address.model_dump(), "status": "placed",
        })
        self.store.put(schema.ORDERS_BY_CUSTOMER.name, {
            "customer_id": record.customer_id, "placed_at": record.placed_at, "order_id": record.order_id,
            "confirmation_code": record.confirmation_code, "status": "placed", "total": record.total,
            "currency": record.currency})
        return record

    def _authorization(self, payment_id: str, multicapture: bool) -> dict:
        """What the order needs of its authorization: its id, whether it captures in parts, and when
        it lapses (the order captures before then)."""
        intent = self.store.get_existing(schema.PAYMENT_INTENTS.name, {"payment_id": payment_id})
        return {"payment_id": payment_id, "multicapture": multicapture,
                "expires_at": intent["expires_at"].astimezone(UTC).isoformat()}

    @activity.defn
    async def start_order(self, record: OrderRecord) -> str:
        from ..orders.workflows import OrderWorkflow, search_attributes

        workflow_id = order_workflow_id(record.order_id)
        try:
            await self.client.start_workflow(
                OrderWorkflow.run, OrderInput(order=record), id=workflow_id,
                task_queue=ORDERS_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes(record.confirmation_code))
        except WorkflowAlreadyStartedError:
            pass  # it ran and closed already: one order workflow per order, ever
        return workflow_id
