"""Activities of an order edit: price it (catalog, routing, the shop's rates), hold and
release its extra stock, move stock onto the order, hand the change to fulfillment, and
charge a price increase through the payments port. Each is idempotent (inventory keys and
owners, payment idempotency keys, the supplier order's edit id)."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from domains.payments.port import Authorization, AuthorizeRequest
from domains.payments.providers import payments_from_env
from domains.shared import OrderLine
from infra.store import Store, schema

from ..catalog.models import Product, Variant
from ..fulfillment import client as fulfillment
from ..fulfillment.client import FulfillmentError
from ..fulfillment.messages import AmendSupplierOrder
from ..identity.rates import rates_for
from ..identity.shop_settings import read_shop_settings
from ..inventory import client as inventory
from ..inventory.client import InventoryError
from ..inventory.messages import NO_SUCH_RESERVATION
from . import edits
from .activities import route_lines
from .edit_messages import AmendStock, EditDraft, EditStock, PricedEdit
from .errors import OrderErrorCode


class EditActivities:
    def __init__(self, store: Store, client: Client):
        self.store = store
        self.client = client

    def _line(self, variant_id: str) -> OrderLine:
        row = self.store.get(schema.VARIANTS.name, {"id": variant_id})
        product_row = row and self.store.get(schema.PRODUCTS.name, {"id": row["product_id"]})
        if not row or not product_row:
            raise edits.refuse(OrderErrorCode.INVALID_EDIT, f"no variant {variant_id!r} in the catalog")
        variant, product = Variant.model_validate(row), Product.model_validate(product_row)
        return OrderLine(variant_id=variant.id, product_id=product.id, product_name=product.name,
                         options={"color": variant.color, "size": variant.size}, blank_sku=variant.blank_sku,
                         quantity=0, unit_price=variant.price_amount, line_total=0)

    @activity.defn
    def price_edit(self, draft: EditDraft) -> PricedEdit:
        """The edited lines (added variants read from the catalog at today's price; lines kept
        keep the price paid) and their totals by the shop's rates for the (new) address."""
        known = {li.variant_id for li in draft.lines}
        added = {c.variant_id: self._line(c.variant_id) for c in draft.changes
                 if c.variant_id not in known and c.quantity > 0}
        lines = edits.changed_lines(draft.lines, draft.changes, added)
        if not lines:
            raise edits.refuse(OrderErrorCode.INVALID_EDIT, "an edit cannot remove every line: cancel the order")
        suppliers = {plan.lines[0].variant_id: plan.supplier for line in added.values()
                     for plan in route_lines(self.store, draft.confirmation_code, [line])}
        settings = read_shop_settings(self.store)
        goods = edits.price(lines, draft.subtotal, draft.discount, 0, 0)
        rates = rates_for(settings, draft.address.country, draft.address.state, goods.subtotal - goods.discount)
        return PricedEdit(lines=lines, totals=edits.price(lines, draft.subtotal, draft.discount, rates.shipping,
                                                          rates.tax), suppliers=suppliers)

    @activity.defn
    async def hold_edit_stock(self, request: EditStock) -> dict[str, int]:
        """Hold every extra unit under the edit's owner, all or nothing: the units short by SKU
        (nothing held then), or {} when all are held."""
        short = {}
        for sku, units in sorted(request.units.items()):
            held = await inventory.hold(self.client, request.owner, sku, units, request.ttl_seconds)
            if not held.complete:
                short[sku] = units - held.held
        if short:
            await inventory.release(self.client, request.owner)
        return short

    @activity.defn
    async def release_edit_stock(self, owner: str) -> dict[str, int]:
        return (await inventory.release(self.client, owner)).skus

    @activity.defn
    async def amend_stock(self, request: AmendStock) -> dict[str, int]:
        try:
            return (await inventory.amend(self.client, request.owner, request.from_owner, request.add,
                                          request.remove, request.key)).skus
        except InventoryError as exc:
            if exc.code == NO_SUCH_RESERVATION:
                raise edits.refuse(OrderErrorCode.NO_SUCH_EDIT, f"the edit's stock is no longer held: {exc}") from None
            raise

    @activity.defn
    async def amend_supplier_order(self, supplier_order_id: str, request: AmendSupplierOrder) -> None:
        try:
            await fulfillment.amend(self.client, supplier_order_id, request)
        except FulfillmentError as exc:
            raise ApplicationError(str(exc), {"supplier_order_id": supplier_order_id},
                                   type=OrderErrorCode.SUPPLIER_ORDER_SHIPPED, non_retryable=True) from None

    @activity.defn
    def authorize_edit(self, request: AuthorizeRequest) -> Authorization:
        request = request.model_copy(update={"attempt": activity.info().attempt})
        return payments_from_env(self.store).authorize(request)
