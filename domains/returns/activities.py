"""Return activities: the shop's return policy, starting a return's workflow (for the order),
claiming its label's tracking number, refunding through the order, saving the read model and
the expiry email; for exchanges, the replacement variants, holding and releasing their stock,
charging a price increase through the payments port and starting the replacement's fulfillment.
Each is idempotent: the workflow ids are deterministic, tracking numbers are claimed by
insert-if-absent, the order's refund is idempotent by return id, rows are upserts, an email is
kept by (order, event) and sent at most once, stock moves by the exchange's owner, payments by
idempotency keys."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from infra.store import Store, schema
from infra.store.retry import put_done
from infra.temporal import business_error
from projections.orders import OrderIndex

from ..cadences.messages import RenderedEmail
from ..catalog.models import Product, Variant
from ..fulfillment.messages import FulfillmentInput, SupplierOrderPlan
from ..fulfillment.queue import TASK_QUEUE as FULFILLMENT_QUEUE
from ..identity.shop_settings import read_shop_settings
from ..inventory import client as inventory
from ..inventory.client import InventoryError
from ..inventory.messages import NO_SUCH_RESERVATION, ReservationStatus
from ..payments.port import (
    Authorization,
    AuthorizeRequest,
    CaptureRequest,
    PaymentOperation,
    PaymentRefundRequest,
    VoidRequest,
)
from ..payments.providers import payments_from_env
from ..shared import OrderLine
from .emails import ReturnEmail, ReturnEmailChannel
from .messages import (
    REFUND_RETURN,
    ExchangeVariant,
    RefundReturnRequest,
    ReturnInput,
    ReturnPolicy,
    ReturnRefunded,
    ReturnView,
)
from .projection import project_return
from .queue import TASK_QUEUE

WORKFLOW_TYPE = "ReturnWorkflow"  # by name: the activities module does not import the workflow's
log = logging.getLogger(__name__)


class LabelClaim(BaseModel):
    tracking_number: str
    carrier: str
    order_id: str
    owner: str  # the return id: the number is this return's


class ReturnSnapshot(BaseModel):
    view: ReturnView
    version: int


class ExchangeHold(BaseModel):
    owner: str  # the exchange's own (exchanges.stock_owner)
    units: dict[str, int]  # blank sku -> units


class ReplacementStart(BaseModel):
    workflow_id: str  # the replacement's fulfillment (exchanges.fulfillment_id)
    supplier_order_id: str
    order_id: str
    confirmation_code: str
    return_workflow_id: str  # fulfillment reports the replacement to the return
    stock_owner: str
    lines: list[OrderLine]


HOLD_SECONDS = 3600.0  # between the hold and its confirmation only: a confirmed reservation does not lapse
DEFAULT_STRATEGY = "simulated"  # as the order's routing


def _slug(brand: str) -> str:  # the order's supplier_slug: one simulated supplier per brand
    return re.sub(r"[^a-z0-9]+", "-", brand.lower()).strip("-") or "default"


def policy_of(store: Store) -> ReturnPolicy:
    s = read_shop_settings(store)
    return ReturnPolicy(return_window_days=s.return_window_days, return_ship_days=s.return_ship_days,
                        restocking_fees=dict(s.restocking_fees), refund_shipping_on_return=s.refund_shipping_on_return,
                        auto_approve_reasons=list(s.auto_approve_reasons), support_refund_limit=s.support_refund_limit,
                        exchange_ships_at_once=s.exchange_ships_at_once)


class ReturnActivities:
    def __init__(self, store: Store, client: Client, emails: ReturnEmailChannel | None = None,
                 order_index: OrderIndex | None = None):
        self.store = store
        self.order_index = order_index  # the admin's returns list; None: a worker without it (tests)
        self.client = client
        self.emails = emails  # None: a worker without mail; the email is logged, not sent

    @activity.defn
    def load_return_policy(self) -> ReturnPolicy:
        return policy_of(self.store)

    @activity.defn
    async def start_return(self, params: ReturnInput) -> ReturnView:
        """Start the return's workflow (once: a retry finds it started) and answer its view."""
        try:
            handle = await self.client.start_workflow(
                WORKFLOW_TYPE, params, id=params.workflow_id, task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            handle = self.client.get_workflow_handle(params.workflow_id)
        return await handle.query("view", result_type=ReturnView)

    @activity.defn
    def claim_tracking(self, claim: LabelClaim) -> bool:
        """True when the number is this return's (claimed now or by an earlier attempt). Returns
        and shipments share one table of tracking numbers, so neither can take the other's."""
        row = {"tracking_number": claim.tracking_number, "carrier": claim.carrier, "order_id": claim.order_id,
               "supplier_order_id": claim.owner}
        if self.store.insert_if_absent(schema.SHIPMENTS_BY_TRACKING.name, row):
            return True
        owner = self.store.get_existing(schema.SHIPMENTS_BY_TRACKING.name, {"tracking_number": claim.tracking_number})
        return bool(owner["supplier_order_id"] == claim.owner)

    @activity.defn
    async def refund_through_order(self, request: RefundReturnRequest, order_workflow_id: str) -> ReturnRefunded:
        """The order refunds (it holds the cap over all of its refunds), by name: returns does not
        import orders. Its refusal comes back as a non-retryable error of the same type."""
        handle = self.client.get_workflow_handle(order_workflow_id)
        try:
            return await handle.execute_update(REFUND_RETURN, request, result_type=ReturnRefunded)
        except WorkflowUpdateFailedError as exc:
            cause = business_error(exc.cause)
            if cause is None:
                raise
            raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from None

    # --- exchanges -----------------------------------------------------------------------

    @activity.defn
    def exchange_variants(self, variant_ids: list[str]) -> list[ExchangeVariant]:
        """The catalog's variants of these ids with their product (unknown ids are left out)."""
        out = []
        for variant_id in variant_ids:
            row = self.store.get(schema.VARIANTS.name, {"id": variant_id})
            product_row = row and self.store.get(schema.PRODUCTS.name, {"id": row["product_id"]})
            if not row or not product_row:
                continue
            variant, product = Variant.model_validate(row), Product.model_validate(product_row)
            out.append(ExchangeVariant(variant_id=variant.id, product_id=product.id, product_name=product.name,
                                       options={"color": variant.color, "size": variant.size},
                                       blank_sku=variant.blank_sku, unit_price=variant.price_amount))
        return out

    @activity.defn
    async def hold_exchange(self, hold: ExchangeHold) -> dict[str, int]:
        """Hold the replacement's units and confirm them (a confirmed reservation does not lapse
        while the parcel travels). All or nothing: answers the skus that were short ({} when held)."""
        try:
            mine = await inventory.reservations_of(self.client, hold.owner)
        except RPCError:  # the inventory service has not started yet: the first hold starts it
            mine = []
        if any(r.status == ReservationStatus.CONFIRMED for r in mine):
            return {}  # an earlier attempt held and confirmed them
        short: dict[str, int] = {}
        for sku, n in sorted(hold.units.items()):
            got = await inventory.hold(self.client, hold.owner, sku, n, HOLD_SECONDS)
            if got.held < n:
                short[sku] = n - got.held
        if short:
            await inventory.release(self.client, hold.owner)
            return short
        await inventory.confirm(self.client, hold.owner)
        return {}

    @activity.defn
    async def release_exchange(self, owner: str) -> dict[str, int]:
        """Give the replacement's units back (the return was rejected or expired, or came back short)."""
        released: dict[str, int] = dict((await inventory.release(self.client, owner)).skus)
        try:
            released.update((await inventory.cancel(self.client, owner)).skus)
        except InventoryError as exc:
            if exc.code != NO_SUCH_RESERVATION:  # nothing confirmed, or a retry after the first call
                raise
        return released

    @activity.defn
    def authorize_exchange(self, request: AuthorizeRequest) -> Authorization:
        return payments_from_env(self.store).authorize(request)

    @activity.defn
    def capture_exchange(self, request: CaptureRequest) -> PaymentOperation:
        return payments_from_env(self.store).capture(request.payment_id, request.amount,
                                                     idempotency_key=request.idempotency_key, final=request.final)

    @activity.defn
    def void_exchange(self, request: VoidRequest) -> PaymentOperation:
        return payments_from_env(self.store).void(request.payment_id, idempotency_key=request.idempotency_key)

    @activity.defn
    def refund_exchange(self, request: PaymentRefundRequest) -> PaymentOperation:
        return payments_from_env(self.store).refund(request.payment_id, request.amount,
                                                    idempotency_key=request.idempotency_key)

    @activity.defn
    async def ship_replacement(self, start: ReplacementStart) -> str:
        """Route the replacement as the order routes its lines (its brand's supplier) and start its
        fulfillment (once: a retry finds it started); fulfillment reports it to the return."""
        brands = {li.product_id: (self.store.get(schema.PRODUCTS.name, {"id": li.product_id}) or {}).get("brand")
                  for li in start.lines}
        routes = {row["brand"]: row for row in self.store.query(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP})}
        brand = brands.get(start.lines[0].product_id) or "unbranded"
        route = routes.get(brand) or {"supplier": _slug(brand), "strategy": DEFAULT_STRATEGY, "behaviour": "accept"}
        plan = SupplierOrderPlan(supplier_order_id=start.supplier_order_id, supplier=route["supplier"],
                                 strategy=route.get("strategy") or DEFAULT_STRATEGY,
                                 behaviour=route.get("behaviour") or "accept", lines=start.lines)
        params = FulfillmentInput(order_id=start.order_id, confirmation_code=start.confirmation_code,
                                  order_workflow_id=start.return_workflow_id, stock_owner=start.stock_owner,
                                  supplier_orders=[plan])
        try:
            await self.client.start_workflow("FulfillmentWorkflow", params, id=start.workflow_id,
                                             task_queue=FULFILLMENT_QUEUE,
                                             id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            pass  # a retry after the first start
        return plan.supplier

    @activity.defn
    def save(self, snapshot: ReturnSnapshot) -> None:
        v = snapshot.view
        row = {"return_id": v.return_id, "workflow_id": v.workflow_id, "order_id": v.order_id,
               "confirmation_code": v.confirmation_code, "email": v.email, "status": v.status.value,
               "reasons": sorted({li.reason.value for li in v.lines}), "created_at": v.created_at,
               "updated_at": v.updated_at, "refund_amount": v.refund_amount, "needs_manager": v.needs_manager,
               "view": v.model_dump(mode="json"), "version": snapshot.version}
        current = self.store.get(schema.RETURNS.name, {"return_id": v.return_id})
        if current is not None and (current.get("version") or 0) > snapshot.version:
            return  # a newer save got there first
        self.store.put(schema.RETURNS.name, row)
        self.store.put(schema.RETURNS_BY_ORDER.name, row)
        self.store.put(schema.RETURNS_BY_SHOP.name, {**row, "shop": schema.SHOP})
        if self.order_index is not None:  # same version guard as the store: the index never goes backwards
            project_return(self.order_index, v, snapshot.version)

    @activity.defn
    def send_email(self, email: ReturnEmail) -> bool:
        """Send the email at most once (kept under the order's emails as (order, event), claimed
        before it is handed over, as the order's own emails are). True when sent by this call."""
        if self.emails is None:
            log.warning("return %s: no email channel on this worker; %s not sent", email.view.return_id, email.event)
            return False
        table, key = schema.ORDER_EMAILS.name, {"order_id": email.view.order_id, "event": email.event}
        row = self.store.get(table, key)
        if row is None:
            rendered = self.emails.render_return_email(email)
            self.store.insert_if_absent(table, {
                **key, "kind": email.event, "message_id": rendered.message_id, "recipient": rendered.to,
                "email": rendered.model_dump(mode="json"), "state": "rendered", "rendered_at": datetime.now(UTC)})
            row = self.store.get_existing(table, key)
        if row["state"] != "rendered" or not self.store.update_if(
                table, key, {"state": "sending", "claimed_at": datetime.now(UTC)}, {"state": "rendered"}):
            return False  # sent, or an attempt died handing it over: twice is worse than unconfirmed
        try:
            self.emails.send(RenderedEmail.model_validate(row["email"]))
        except Exception:
            self.store.update_if(table, key, {"state": "rendered"}, {"state": "sending"})
            raise
        put_done(self.store, table, {**key, "state": "sent", "sent_at": datetime.now(UTC)})
        return True
