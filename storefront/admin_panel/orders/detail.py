"""One order as staff see it: found by id or confirmation code, read live from its workflow
(the write store once it has closed) and from its fulfillment tree, and laid out for the
page with the forms the signed-in role may use."""

from __future__ import annotations

from dataclasses import dataclass

from domains.fulfillment import client as fulfillment
from domains.fulfillment import stages
from domains.fulfillment.client import FulfillmentError
from domains.fulfillment.messages import FulfillmentView, SupplierOrderStatus, SupplierOrderView
from domains.identity.roles import Permission
from domains.inventory.locations import list_locations
from domains.labels import label
from domains.orders import client as orders
from domains.orders import reads
from domains.orders.edits import left_to_refund
from domains.orders.messages import OrderStatus, OrderView
from domains.payments.ledger import read_state
from domains.returns.messages import ReturnReason
from infra.store import schema

from ... import services
from ...order_access import code_of
from ...shop.browse import money
from ...unavailable import BACKENDS, UNAVAILABLE

MAX_REFERENCE = 100
# an order whose goods have (some) arrived: staff may open a return (the order decides the rest)
RETURNABLE = (OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED)


@dataclass
class LoadedOrder:
    view: OrderView
    row: dict | None  # the store's order row: the payment and anything the view leaves out
    tree: FulfillmentView | None  # None before fulfillment starts, and once the order has closed
    stale: bool = False  # Temporal did not answer: the store's copy, shown read-only


def resolve(reference: str) -> str | None:
    """An order id or a confirmation code (any case, dashes allowed) -> the order id."""
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        return None
    store = services.store()
    if store.get(schema.ORDERS.name, {"order_id": reference}) is not None:
        return reference
    code = code_of(reference)
    found = reads.order_id_of(store, code) if code else None
    return found[0] if found else None


def load(order_id: str, *, stored_if_unavailable: bool = False) -> LoadedOrder | None:
    """The live order. `stored_if_unavailable` (pages that only show it): when Temporal does not
    answer within the request's budget, the store's copy, marked stale, instead of a 503."""
    store = services.store()
    try:
        view = services.call(orders.get_order, store, order_id)
    except UNAVAILABLE:
        view = reads.order_from_store(store, order_id) if stored_if_unavailable else None
        if view is None:
            raise
        return LoadedOrder(view=view, row=store.get(schema.ORDERS.name, {"order_id": order_id}), tree=None,
                           stale=True)
    if view is None:
        return None
    tree = None
    if view.live and view.supplier_orders:
        try:
            tree = services.call(fulfillment.tree, order_id)
        except FulfillmentError:
            tree = None  # routed, but fulfillment has not started yet
    return LoadedOrder(view=view, row=store.get(schema.ORDERS.name, {"order_id": order_id}), tree=tree)


def _remaining(view: OrderView) -> dict[str, int]:
    refunded: dict[str, int] = {}
    for r in view.refunds:
        for variant_id, units in r.lines.items():
            refunded[variant_id] = refunded.get(variant_id, 0) + units
    return {li.variant_id: max(0, li.quantity - refunded.get(li.variant_id, 0)) for li in view.lines}


def _location_names(view: OrderView) -> dict[str, str]:
    """Location id -> its name, for the supplier orders that ship from one (the id alone when the
    store cannot say)."""
    if not any(so.location for so in view.supplier_orders):
        return {}
    try:
        return {loc.id: loc.name for loc in list_locations(services.store())}
    except BACKENDS:
        return {}


def _waiting(view: OrderView) -> list[dict]:
    """Units waiting for stock (backorders, preorders), by blank SKU, with the lines they belong
    to: they ship in a later supplier order once inventory allocates them."""
    return [{"sku": sku, "units": units,
             "products": sorted({li.product_name for li in view.lines if li.blank_sku == sku})}
            for sku, units in sorted(view.waiting.items()) if units > 0]


def _supplier_orders(loaded: LoadedOrder, may_fulfil: bool) -> list[dict]:
    live: dict[str, SupplierOrderView] = {
        so.supplier_order_id: so for so in (loaded.tree.supplier_orders if loaded.tree else [])}
    names = _location_names(loaded.view)
    out = []
    for summary in loaded.view.supplier_orders:
        so = live.get(summary.supplier_order_id)
        status = so.status.value if so else summary.status
        waiting = [s.value for s in so.waiting_for] if so else []
        can_stop = so is not None and stages.can_stop(so.status) and not loaded.tree.cancel_requested
        out.append({
            "id": summary.supplier_order_id, "supplier": summary.supplier, "location": summary.location,
            "location_name": names.get(summary.location or "", summary.location),
            "strategy": so.strategy.value if so else summary.strategy, "status": status,
            "shipment": so.shipment if so else summary.shipment, "note": so.note if so else summary.note,
            "lines": summary.lines, "stages": so.history if so else [],
            "updated_at": so.updated_at if so else summary.updated_at,
            "waiting_for": waiting, "ships_next": SupplierOrderStatus.SHIPPED.value in waiting,
            "can_advance": may_fulfil and bool(waiting), "can_reject": may_fulfil and can_stop,
        })
    return out


def _payment_port(payment_id: str | None, currency: str) -> dict | None:
    """An authorized payment's timeline (authorized, captured, refunds, voids) and the
    provider's ids, from the payments ledger; None for an order charged at placement."""
    state = read_state(services.store(), payment_id) if payment_id else None
    if state is None:
        return None
    return {"state": state, **{k: money(getattr(state, k), currency) for k in ("authorized", "captured", "refunded")},
            "timeline": [{**e, "money": money(e["amount"], currency)} for e in state.timeline]}


def _pending_edit(view: OrderView) -> dict | None:
    edit, c = view.pending_edit, view.currency
    if edit is None:
        return None
    return {"edit": edit, "before": money(edit.before.total, c), "after": money(edit.after.total, c),
            "charge": money(edit.difference, c) if edit.difference > 0 else "",
            "refund": money(-edit.difference, c) if edit.difference < 0 else "",
            "lines": [{"line": li, "total": money(li.line_total, c)} for li in edit.lines]}


def context(loaded: LoadedOrder, staff) -> dict:
    view = loaded.view
    c = view.currency
    remaining = _remaining(view)
    may = {p: staff.can(p) for p in (Permission.ORDERS_CANCEL, Permission.ORDERS_REFUND, Permission.ORDERS_NOTE,
                                     Permission.FULFILLMENT_WRITE, Permission.RETURNS_WRITE)}
    lines = [{"line": li, "unit": money(li.unit_price, c), "total": money(li.line_total, c),
              "remaining": remaining[li.variant_id]} for li in view.lines]
    payment = (loaded.row or {}).get("payment") or {}
    return {
        "view": view,
        "lines": lines,
        "amounts": {k: money(getattr(view, k), c) for k in ("subtotal", "discount", "shipping", "tax", "total",
                                                              "refunded")},
        "left_to_refund": money(left_to_refund(view), c),
        "payment": {"charge_id": payment.get("charge_id"), "amount": money(payment["amount"], c)}
        if payment.get("amount") is not None else None,
        "refunds": [{"refund": r, "amount": money(r.amount, c)} for r in view.refunds],
        "payment_port": _payment_port(payment.get("payment_id"), c),
        "address": view.shipping_address,
        "supplier_orders": _supplier_orders(loaded, may[Permission.FULFILLMENT_WRITE]),
        "waiting": _waiting(view),
        "fulfillment_live": loaded.tree is not None,
        "history": view.history,
        "returns": [{"summary": r, "refund": money(r.refund_amount, c), "units": sum(r.lines.values())}
                    for r in view.returns],
        "stale": loaded.stale,
        "can": {
            "cancel": may[Permission.ORDERS_CANCEL] and view.can_cancel,
            "refund": may[Permission.ORDERS_REFUND] and view.can_refund,
            "note": may[Permission.ORDERS_NOTE] and view.live,
            "open_return": may[Permission.RETURNS_WRITE] and view.live and view.status in RETURNABLE,
            "edit": may[Permission.ORDERS_CANCEL] and (view.can_edit or view.pending_edit is not None),
        },
        "return_reasons": [(r.value, label("return_reason", r.value)) for r in ReturnReason],
        "pending_edit": _pending_edit(view),
        "address_fields": [(k, getattr(view.shipping_address, k)) for k in ("first_name", "last_name", "address1",
                                                                            "address2", "city", "state",
                                                                            "postal_code", "country", "phone")],
    }
