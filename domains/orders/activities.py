"""Order activities: settings, supplier routing, starting fulfillment, money and stock
after the sale, and saving the order (audit rows, the order row, the read models).
Each is idempotent: rows are upserts keyed by what the workflow assigned, refunds and
restocks carry idempotency keys. A delivered order fires the review-request cadence trigger."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domains.fulfillment.messages import SupplierOrderPlan
from domains.orders.messages import HistoryEntry, OrderSettings, OrderView
from domains.payments import gateway
from domains.payments.messages import RefundRequest
from domains.payments.port import CaptureRequest, PaymentOperation, PaymentRefundRequest, VoidRequest
from domains.payments.providers import payments_from_env
from domains.shared import OrderLine
from infra.store import Store, schema
from infra.store.retry import put_done
from projections.orders import OrderIndex

from ..cadences import triggers
from ..cadences.messages import RenderedEmail, Trigger
from ..fulfillment.ids import fulfillment_workflow_id
from ..fulfillment.messages import FulfillmentInput
from ..fulfillment.queue import TASK_QUEUE as FULFILLMENT_QUEUE
from ..inventory import client as inventory
from ..inventory.client import InventoryError
from ..inventory.locations import list_locations
from ..inventory.messages import (
    DEFAULT_LOCATION,
    LOCATION_REQUIRED,
    NO_SUCH_RESERVATION,
    ReservationStatus,
    ShipTo,
)
from ..webhooks import client as webhooks
from .emails import OrderEmail, OrderEmailChannel, SendOutcome
from .projection import project
from .routing import split_lines, units_by_sku
from .webhook_events import events_of

SETTINGS_NAME = "orders"
DEFAULT_STRATEGY = "simulated"
log = logging.getLogger(__name__)


class Restock(BaseModel):
    key: str  # idempotency key prefix: one adjustment per SKU under it
    units: dict[str, int]  # blank sku -> units back on hand
    reason: str
    # blank sku -> the stock location its units shipped from (orders routed over locations); a SKU
    # not named goes to the only active location, or the default one when there are several
    locations: dict[str, str] = Field(default_factory=dict)


class ReviewRequest(BaseModel):
    """A delivered order's customer, for the review-request cadence."""

    order_id: str
    order_code: str  # the confirmation code the customer knows the order by
    email: str
    name: str = ""


class RouteRequest(BaseModel):
    """What routing needs of the order (patch order-backorders): whose confirmed units (the
    checkout's, as it confirmed them), the lines, where they go, and who hears of late stock."""

    order_id: str
    confirmation_code: str
    owner: str
    lines: list[OrderLine]
    country: str
    state: str = ""
    notify: str  # the order workflow's id: inventory signals it `stock_allocated`


class Routing(BaseModel):
    plans: list[SupplierOrderPlan]
    waiting: dict[str, int] = Field(default_factory=dict)  # blank sku -> units no location has yet


class LocatedLines(BaseModel):
    """Units inventory allocated after the order was routed (backorders): the arrival, the lines
    not yet in a supplier order, and what the order still waits for."""

    confirmation_code: str
    first: int  # the number of the first new supplier order ({code}-{first})
    owner: str
    pending: list[OrderLine]
    allocated: dict[str, dict[str, int]]  # sku -> location -> units (StockAllocated)
    waiting: dict[str, int]  # the order's own count


class MoreFulfillment(BaseModel):
    workflow_id: str  # fulfillment-{order}-{supplier order}
    params: FulfillmentInput


class WaitingStock(BaseModel):
    owner: str
    skus: list[str]  # blank SKUs with units still waiting for stock


class OrderSnapshot(BaseModel):
    view: OrderView
    unsaved: list[HistoryEntry]  # history rows not yet in the store
    version: int


def read_settings(store: Store) -> OrderSettings:
    row = store.get(schema.SETTINGS.name, {"name": SETTINGS_NAME})
    return OrderSettings.model_validate(row["value"]) if row else OrderSettings()


def supplier_slug(brand: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", brand.lower()).strip("-") or "default"


def route_lines(store: Store, confirmation_code: str, lines: list[OrderLine]) -> list[SupplierOrderPlan]:
    """Each line goes to the supplier of its blank's brand (the routing table, or one
    simulated supplier per brand); one supplier order per supplier, in a stable order."""
    products = {row["id"]: row for row in store.get_many(
        schema.PRODUCTS.name, [{"id": pid} for pid in sorted({li.product_id for li in lines})])}
    routes = {row["brand"]: row for row in store.query(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP})}
    by_supplier: dict[str, tuple[dict, list[OrderLine]]] = {}
    for line in lines:
        brand = (products.get(line.product_id) or {}).get("brand") or "unbranded"
        route = routes.get(brand) or {"supplier": supplier_slug(brand), "strategy": DEFAULT_STRATEGY,
                                      "behaviour": "accept"}
        by_supplier.setdefault(route["supplier"], (route, []))[1].append(line)
    return [SupplierOrderPlan(supplier_order_id=f"{confirmation_code}-{n}", supplier=supplier,
                              strategy=route.get("strategy") or DEFAULT_STRATEGY,
                              behaviour=route.get("behaviour") or "accept", lines=group)
            for n, (supplier, (route, group)) in enumerate(sorted(by_supplier.items()), start=1)]


def located_plans(store: Store, confirmation_code: str, first: int,
                  lines: dict[str, list[OrderLine]]) -> list[SupplierOrderPlan]:
    """One supplier order per stock location (the supplier is the location), numbered from `first`.
    A `supplier_routes` row naming the location as its supplier gives its strategy and behaviour."""
    routes = {row["supplier"]: row for row in store.query(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP})}
    plans = []
    for n, (location, group) in enumerate(lines.items(), start=first):
        route = routes.get(location) or {}
        plans.append(SupplierOrderPlan(supplier_order_id=f"{confirmation_code}-{n}", supplier=location,
                                       strategy=route.get("strategy") or DEFAULT_STRATEGY,
                                       behaviour=route.get("behaviour") or "accept", lines=group, location=location))
    return plans


class OrderActivities:
    def __init__(self, store: Store, order_index: OrderIndex, client: Client,
                 emails: OrderEmailChannel | None = None):
        self.store = store
        self.order_index = order_index
        self.client = client
        self.emails = emails  # None: a worker without mail (some tests); emails are logged, not sent

    @activity.defn
    def load_settings(self) -> OrderSettings:
        return read_settings(self.store)

    @activity.defn
    def route(self, order_id: str, confirmation_code: str, lines: list[OrderLine]) -> list[SupplierOrderPlan]:
        return route_lines(self.store, confirmation_code, lines)

    @activity.defn
    async def route_order(self, request: RouteRequest) -> Routing:
        """Route through inventory's allocation when the shop ships from more than one location or
        stock of the order's SKUs is waiting (backorders): one supplier order per location, units no
        location has wait (inventory signals the order when they are allocated). Otherwise, as
        before locations: by brand (`route_lines`)."""
        active = [loc for loc in await asyncio.to_thread(list_locations, self.store) if loc.active]
        units = units_by_sku(request.lines)
        if len(active) <= 1 and not await self._stock_waits(sorted(units)):
            return Routing(plans=await asyncio.to_thread(route_lines, self.store, request.confirmation_code,
                                                         request.lines))
        try:
            allocation = await inventory.allocate(self.client, request.owner, units,
                                                  ShipTo(country=request.country, state=request.state),
                                                  notify=request.notify)
        except InventoryError as exc:  # refused (not a transient failure): the order still ships, by brand
            log.warning("order %s: no allocation (%s); routed by brand", request.order_id, exc)
            return Routing(plans=await asyncio.to_thread(route_lines, self.store, request.confirmation_code,
                                                         request.lines))
        groups = split_lines(request.lines, allocation.allocated)
        waiting = {sku: n for sku, n in sorted(allocation.waiting.items()) if n > 0}
        if len(active) <= 1 and not waiting and len(groups) == 1:  # one warehouse with the stock: by brand
            [location] = groups
            plans = await asyncio.to_thread(route_lines, self.store, request.confirmation_code, request.lines)
            return Routing(plans=[p.model_copy(update={"location": location}) for p in plans])
        plans = await asyncio.to_thread(located_plans, self.store, request.confirmation_code, 1, groups)
        return Routing(plans=plans, waiting=waiting)

    async def _stock_waits(self, skus: list[str]) -> bool:
        """Some confirmed units of these SKUs have no stock yet (a backorder or preorder): the
        order joins the queue through allocation, first come first served."""
        return any(level.waiting > 0 or level.on_hand < level.committed
                   for level in await inventory.levels(self.client, skus))

    @activity.defn
    async def plan_located(self, request: LocatedLines) -> list[SupplierOrderPlan]:
        """Supplier orders for an arrival, of no more units than inventory allocated since the order
        last shipped some: the order waits for `waiting`, inventory still for fewer; the difference
        is what may ship now. A signal sent twice (inventory sends at least once) finds none."""
        skus = sorted(request.allocated)
        still = {r.sku: r.waiting for r in await inventory.reservations_of(self.client, request.owner, skus)
                 if r.status == ReservationStatus.CONFIRMED}
        capped: dict[str, dict[str, int]] = {}
        for sku in skus:
            left = max(0, request.waiting.get(sku, 0) - still.get(sku, 0))
            for location, units in request.allocated[sku].items():
                take = min(units, left)
                if take > 0:
                    capped.setdefault(sku, {})[location] = take
                    left -= take
        groups = split_lines(request.pending, capped)
        return await asyncio.to_thread(located_plans, self.store, request.confirmation_code, request.first, groups)

    @activity.defn
    async def start_more_fulfillment(self, request: MoreFulfillment) -> str:
        """Units that waited for stock ship in a fulfillment of their own (the order's first one
        may have ended); it reports to the order like the first."""
        from ..fulfillment.workflows import FulfillmentWorkflow

        try:
            await self.client.start_workflow(
                FulfillmentWorkflow.run, request.params, id=request.workflow_id, task_queue=FULFILLMENT_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            pass  # a retry after the first start
        return request.workflow_id

    @activity.defn
    async def cancel_waiting(self, request: WaitingStock) -> dict[str, int]:
        """A cancelled order's units still waiting for stock go back; its allocated units stay
        (shipped ones are fulfilled at delivery, the others cancelled per location by fulfillment)."""
        if not request.skus:
            return {}
        try:
            return (await inventory.cancel(self.client, request.owner, request.skus, waiting_only=True)).skus
        except InventoryError as exc:
            if exc.code == NO_SUCH_RESERVATION:  # nothing of it left (given back already)
                return {}
            raise

    @activity.defn
    async def start_fulfillment(self, params: FulfillmentInput) -> str:
        from ..fulfillment.workflows import FulfillmentWorkflow

        workflow_id = fulfillment_workflow_id(params.order_id)
        try:
            await self.client.start_workflow(
                FulfillmentWorkflow.run, params, id=workflow_id, task_queue=FULFILLMENT_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            pass  # a retry after the first start: one fulfillment per order
        return workflow_id

    @activity.defn
    def refund_payment(self, request: RefundRequest, charged: int) -> None:
        gateway.refund(self.store, request, charged)

    # --- an authorized payment (the payments port): capture at shipment, void, refund ----

    @activity.defn
    def capture_payment(self, request: CaptureRequest) -> PaymentOperation:
        return payments_from_env(self.store).capture(request.payment_id, request.amount,
                                                     idempotency_key=request.idempotency_key, final=request.final)

    @activity.defn
    def void_payment(self, request: VoidRequest) -> PaymentOperation:
        return payments_from_env(self.store).void(request.payment_id, idempotency_key=request.idempotency_key)

    @activity.defn
    def refund_captured(self, request: PaymentRefundRequest) -> PaymentOperation:
        return payments_from_env(self.store).refund(request.payment_id, request.amount,
                                                    idempotency_key=request.idempotency_key)

    @activity.defn
    async def cancel_stock(self, owner: str) -> dict[str, int]:
        try:
            return (await inventory.cancel(self.client, owner)).skus
        except InventoryError as exc:
            if exc.code == NO_SUCH_RESERVATION:  # a retry after the first call gave them back
                return {}
            raise

    @activity.defn
    async def restock(self, request: Restock) -> None:
        for sku, units in sorted(request.units.items()):
            key = f"{request.key}-{sku}"
            try:
                await inventory.adjust_stock(self.client, sku, units, request.reason, key=key,
                                             location=request.locations.get(sku))
            except InventoryError as exc:
                if exc.code != LOCATION_REQUIRED:
                    raise
                # shipped before locations (or routed by brand): back to the main warehouse
                await inventory.adjust_stock(self.client, sku, units, request.reason, key=key,
                                             location=DEFAULT_LOCATION)

    @activity.defn
    async def enroll_review_request(self, request: ReviewRequest) -> list[str]:
        """Enroll the customer in the shop's review-request cadences (none active: nothing
        happens); the enrollments started. Only an error worth retrying (Temporal out of
        reach) is raised: the order never fails over an email."""
        try:
            return await triggers.fire(self.client, self.store, Trigger.ORDER_DELIVERED, request.email, request.name,
                                       data={"order_id": request.order_id, "order_code": request.order_code})
        except Exception as exc:
            if triggers.transient(exc):
                raise
            log.exception("order %s: the review-request cadence was not started", request.order_id)
            return []

    # --- transactional email (emails.py) ---------------------------------------------------

    @activity.defn
    def send_email(self, email: OrderEmail) -> SendOutcome:
        """Send one of the order's emails at most once. The first rendering is kept under
        (order, event); an attempt claims it (rendered -> sending, compare-and-set) before handing
        it to the mail system and marks it sent after, or gives the claim back if the mail system
        refused. A retry after a crash before the claim sends the kept email (never skipped); one
        that finds a claim still held (its owner died while handing it over) does not send again:
        the email may have gone, and twice is worse than unconfirmed."""
        if self.emails is None:
            log.warning("order %s: no email channel on this worker; %s not sent", email.order.order_id, email.event)
            return SendOutcome(sent=False)
        table, key = schema.ORDER_EMAILS.name, {"order_id": email.order.order_id, "event": email.event}
        row = self.store.get(table, key)
        if row is None:
            rendered = self.emails.render_order_email(email)
            self.store.insert_if_absent(table, {
                **key, "kind": email.kind.value, "message_id": rendered.message_id, "recipient": rendered.to,
                "email": rendered.model_dump(mode="json"), "state": "rendered", "rendered_at": datetime.now(UTC)})
            row = self.store.get_existing(table, key)  # a racing attempt may have stored its rendering first
        if row["state"] == "sent":
            return SendOutcome(sent=False, already_sent=True)
        if row["state"] != "rendered" or not self.store.update_if(
                table, key, {"state": "sending", "claimed_at": datetime.now(UTC)}, {"state": "rendered"}):
            return SendOutcome(sent=False, already_sent=True, unconfirmed=True)
        try:
            self.emails.send(RenderedEmail.model_validate(row["email"]))
        except Exception:
            self.store.update_if(table, key, {"state": "rendered"}, {"state": "sending"})  # not sent: a retry may
            raise
        put_done(self.store, table, {**key, "state": "sent", "sent_at": datetime.now(UTC)})  # the email is out
        return SendOutcome(sent=True)

    @activity.defn
    async def save(self, snapshot: OrderSnapshot) -> None:
        """The outbound webhook events of this save, then the audit rows, the order's rows and
        its read models, in one batch per flush. The events go first: they are what this save
        adds to the store (history rows not yet saved, refunds the order row does not have yet),
        so a retry after the rows were written finds nothing new, and one before finds the same
        events (ids derived from the change), which the delivery workflows drop."""
        saved = await asyncio.to_thread(self._saved_refund_ids, snapshot.view.order_id)
        await webhooks.emit(self.client, self.store, events_of(snapshot.view, snapshot.unsaved, saved))
        await asyncio.to_thread(self.save_rows, snapshot)

    def _saved_refund_ids(self, order_id: str) -> set[str]:
        row = self.store.get(schema.ORDERS.name, {"order_id": order_id})
        return {r["refund_id"] for r in (row or {}).get("refunds") or [] if isinstance(r, dict)}

    def save_rows(self, snapshot: OrderSnapshot) -> None:
        view, now = snapshot.view, datetime.now(UTC)
        for entry in snapshot.unsaved:
            self.store.put(schema.ORDER_HISTORY.name, {
                "order_id": view.order_id, "seq": entry.seq, "at": entry.at, "kind": entry.kind,
                "from_status": entry.from_status.value if entry.from_status else None,
                "to_status": entry.to_status.value if entry.to_status else None,
                "actor": entry.actor, "note": entry.note})
        self.store.put(schema.ORDERS.name, {
            "order_id": view.order_id, "status": view.status.value, "refunded": view.refunded,
            "refunds": [r.model_dump(mode="json") for r in view.refunds],
            "feedback": view.feedback.model_dump(mode="json") if view.feedback else None,
            "payment_alert": view.payment_alert, "returns": [r.model_dump(mode="json") for r in view.returns],
            "return_state": view.return_state, "updated_at": now})
        self.store.put(schema.ORDERS_BY_CUSTOMER.name, {
            "customer_id": view.customer_id, "placed_at": view.placed_at, "order_id": view.order_id,
            "status": view.status.value})
        for so in view.supplier_orders:
            self.store.put(schema.SUPPLIER_ORDERS.name, {
                "order_id": view.order_id, "supplier_order_id": so.supplier_order_id, "supplier": so.supplier,
                "strategy": so.strategy, "status": so.status, "lines": [li.model_dump() for li in so.lines],
                "carrier": so.shipment.carrier if so.shipment else None,
                "tracking_number": so.shipment.tracking_number if so.shipment else None,
                "note": so.note, "created_at": so.created_at, "updated_at": so.updated_at})
        project(self.order_index, view, snapshot.version)
