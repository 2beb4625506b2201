"""Fulfillment activities: settings, the simulated dropship supplier API, tracking numbers
and stock settlement. Each is safe to retry."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from infra.store import Store, schema

from ..identity.shop_settings import read_shop_settings
from ..inventory import client as inventory
from ..inventory.client import InventoryError
from ..inventory.messages import NO_SUCH_RESERVATION, OwnerResult
from .messages import SUPPLIER_REJECTED, SUPPLIER_UNAVAILABLE, FulfillmentSettings

SETTINGS_NAME = "fulfillment"


class SupplierSubmission(BaseModel):
    supplier_order_id: str
    supplier: str
    behaviour: str  # accept | reject | slow (first call times out) | down (never answers)
    skus: dict[str, int]


class SupplierAck(BaseModel):
    supplier_reference: str


class TrackingClaim(BaseModel):
    tracking_number: str
    carrier: str
    order_id: str
    supplier_order_id: str


class StockSettlement(BaseModel):
    owner: str
    skus: list[str]
    location: str | None = None  # the supplier order's stock location: settled there only


def read_settings(store: Store) -> FulfillmentSettings:
    """The operator's tunables (row "fulfillment"), with the shop's manual-fulfillment switch
    from the settings staff edit in the admin panel (row "shop")."""
    row = store.get(schema.SETTINGS.name, {"name": SETTINGS_NAME})
    settings = FulfillmentSettings.model_validate(row["value"]) if row else FulfillmentSettings()
    if read_shop_settings(store).manual_fulfillment:
        settings.manual = True
    return settings


class FulfillmentActivities:
    def __init__(self, store: Store, client: Client):
        self.store = store
        self.client = client

    @activity.defn
    def load_settings(self) -> FulfillmentSettings:
        return read_settings(self.store)

    @activity.defn
    async def submit_to_supplier(self, submission: SupplierSubmission) -> SupplierAck:
        """The simulated external supplier API. It answers as the route's `behaviour` says."""
        attempt = activity.info().attempt
        if submission.behaviour == "reject":
            raise ApplicationError(f"{submission.supplier} cannot make these items now", type=SUPPLIER_REJECTED,
                                   non_retryable=True)
        if submission.behaviour == "down" or (submission.behaviour == "slow" and attempt == 1):
            # no answer: the activity's start-to-close timeout fires and Temporal retries
            timeout = activity.info().start_to_close_timeout
            if timeout is None:  # the server always gives a scheduled activity one
                raise RuntimeError("submit_to_supplier runs only with a start-to-close timeout")
            await asyncio.sleep(timeout.total_seconds() + 5)
            raise ApplicationError("the supplier did not answer", type=SUPPLIER_UNAVAILABLE)
        reference = hashlib.sha256(submission.supplier_order_id.encode()).hexdigest()[:10].upper()
        return SupplierAck(supplier_reference=f"{submission.supplier[:3].upper()}-{reference}")

    @activity.defn
    def claim_tracking(self, claim: TrackingClaim) -> bool:
        """True when the number is this supplier order's (claimed now or by an earlier attempt)."""
        row = {"tracking_number": claim.tracking_number, "carrier": claim.carrier, "order_id": claim.order_id,
               "supplier_order_id": claim.supplier_order_id}
        if self.store.insert_if_absent(schema.SHIPMENTS_BY_TRACKING.name, row):
            return True
        owner = self.store.get_existing(schema.SHIPMENTS_BY_TRACKING.name, {"tracking_number": claim.tracking_number})
        return owner["supplier_order_id"] == claim.supplier_order_id

    @activity.defn
    async def fulfil_stock(self, settlement: StockSettlement) -> dict[str, int]:
        """Delivered: the units leave on-hand stock."""
        return await self._settle(inventory.fulfil, settlement)

    @activity.defn
    async def release_stock(self, settlement: StockSettlement) -> dict[str, int]:
        """Cancelled or rejected: the committed units are available again."""
        return await self._settle(inventory.cancel, settlement)

    async def _settle(self, operation: Callable[..., Awaitable[OwnerResult]],
                      settlement: StockSettlement) -> dict[str, int]:
        located = {"location": settlement.location} if settlement.location else {}
        try:
            result = await operation(self.client, settlement.owner, settlement.skus, **located)
        except InventoryError as exc:
            if exc.code == NO_SUCH_RESERVATION:  # a retry after the first call settled them
                return {}
            raise
        return result.skus
