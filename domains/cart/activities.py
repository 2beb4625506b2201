"""Cart activities: catalog and coupon reads, inventory holds (through the inventory
service's own client calls), lifecycle events, and the abandoned-cart cadence trigger.
The workflow does no I/O itself."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from infra.store import Store, schema

from ..cadences import triggers
from ..cadences.messages import Trigger
from ..identity import reads as identity_reads
from ..inventory import client as inventory
from ..inventory.errors import InventoryError, InventoryErrorCode
from ..inventory.messages import HoldResult, OwnerResult, TransferResult
from . import reads
from .messages import UNKNOWN_COUPON, UNKNOWN_VARIANT, Coupon, ShopTerms, VariantInfo

log = logging.getLogger(__name__)


class HoldInput(BaseModel):
    owner: str
    sku: str
    quantity: int
    ttl_seconds: float
    all_or_nothing: bool = True  # False: hold what the stock covers (a hold that follows an add)


class TransferInput(BaseModel):
    from_owner: str
    to_owner: str
    lines: dict[str, int]
    ttl_seconds: float


class RenewInput(BaseModel):
    owner: str
    ttl_seconds: float
    skus: list[str] | None = None  # the cart's blank SKUs: only their inventory shards are asked (None: all)


class CartEvent(BaseModel):
    cart_id: str
    event: str
    shopper_id: str | None = None
    data: dict


class CartActivities:
    def __init__(self, store: Store, client: Client):
        self.store = store
        self.client = client

    @activity.defn
    def shop_terms(self) -> ShopTerms | None:
        """The reservation and checkout timeouts and currency staff set, or None while the shop keeps its defaults."""
        return reads.shop_terms(self.store)

    @activity.defn
    def variant_info(self, variant_id: str) -> VariantInfo:
        info = reads.variant_info(self.store, variant_id)
        if info is None:
            raise ApplicationError(f"no variant {variant_id!r}", type=UNKNOWN_VARIANT, non_retryable=True)
        return info

    @activity.defn
    def find_coupon(self, code: str) -> Coupon:
        row = self.store.get(schema.COUPONS.name, {"code": code.strip().upper()})
        if not row or not row.get("active"):
            raise ApplicationError(f"no coupon {code!r}", type=UNKNOWN_COUPON, non_retryable=True)
        return Coupon(code=row["code"], percent_off=row["percent_off"] or 0, amount_off=row["amount_off"] or 0,
                      minimum_subtotal=row["minimum_subtotal"] or 0, description=row["description"] or "")

    @activity.defn
    async def hold_stock(self, params: HoldInput) -> HoldResult:
        try:
            return await inventory.hold(self.client, params.owner, params.sku, params.quantity, params.ttl_seconds,
                                        params.all_or_nothing)
        except InventoryError as exc:
            if exc.code != InventoryErrorCode.UNKNOWN_SKU:
                raise
            # inventory keeps no stock of this SKU (a product loaded without stock rows): nothing
            # can be held, so the add is refused as out of stock instead of retried without end
            return HoldResult(sku=params.sku, requested=params.quantity, held=0, available=0)

    @activity.defn
    async def transfer_stock(self, params: TransferInput) -> TransferResult:
        return await inventory.transfer(self.client, params.from_owner, params.to_owner, params.lines,
                                        params.ttl_seconds)  # a cart holds exactly its lines: their shards

    @activity.defn
    async def renew_stock(self, params: RenewInput) -> OwnerResult:
        return await inventory.renew(self.client, params.owner, params.ttl_seconds, params.skus)

    @activity.defn
    async def release_stock(self, owner: str, skus: list[str] | None = None) -> OwnerResult:
        """`skus`: the cart's blank SKUs (only their shards are asked); None (a merged cart's, or a
        task scheduled by the release before the shards): every shard."""
        return await inventory.release(self.client, owner, skus)

    @activity.defn
    async def record_event(self, event: CartEvent) -> None:
        await asyncio.to_thread(self._record_event, event)
        if event.event == "completed" and event.shopper_id:
            await self._stop_reminders(event, event.shopper_id)

    def _record_event(self, event: CartEvent) -> None:
        now = datetime.now(UTC)
        self.store.put(schema.CART_EVENTS.name, {"cart_id": event.cart_id, "at": now, "event": event.event,
                                                 "data": event.data})
        if event.event == "abandoned":
            self.store.put(schema.ABANDONED_CARTS_BY_DAY.name, {
                "day": now.date().isoformat(), "cart_id": event.cart_id, "shopper_id": event.shopper_id,
                "at": now, "lines": event.data.get("lines", []),
            })

    async def _stop_reminders(self, event: CartEvent, shopper_id: str) -> None:
        """The shopper bought: no more abandoned-cart reminders (errors are logged, never raised)."""
        try:
            shopper = await asyncio.to_thread(identity_reads.shopper, self.store, shopper_id)
            if shopper is not None:
                await triggers.stop(self.client, self.store, Trigger.CART_ABANDONED, shopper.email,
                                    f"bought (order {event.data.get('order_id')})", actor=f"cart:{event.cart_id}")
        except Exception:
            log.exception("cart %s: abandoned-cart reminders of shopper %s were not stopped", event.cart_id,
                          event.shopper_id)

    @activity.defn
    async def enroll_abandoned(self, event: CartEvent) -> list[str]:
        """Enroll the shopper of an abandoned cart in the shop's abandoned-cart cadences (none
        active: nothing happens); the enrollments started. A reminder is a nicety: only an
        error worth retrying (Temporal out of reach) is raised, anything else is logged."""
        shopper = identity_reads.shopper(self.store, event.shopper_id) if event.shopper_id else None
        if shopper is None:
            return []
        lines = [{key: line.get(key) for key in ("product_name", "quantity", "variant_id")}
                 for line in event.data.get("lines", [])]
        try:
            return await triggers.fire(self.client, self.store, Trigger.CART_ABANDONED, shopper.email, shopper.name,
                                       data={"cart_id": event.cart_id, "lines": lines})
        except Exception as exc:
            if triggers.transient(exc):
                raise
            log.exception("cart %s: the abandoned-cart cadence was not started for %s", event.cart_id,
                          event.shopper_id)
            return []
