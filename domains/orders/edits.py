"""Order edits before shipping, and what a cancel of a partly shipped order did.

An edit is priced the way checkout priced the order (`price`: goods, the discount's share,
shipping and tax by identity.rates), its extra units are held in inventory under an owner of
their own (`{checkout_id}-edit-{n}`, with a TTL) and only then is it confirmed, as one update
of the order workflow (docs/domains/orders.md). These are the pure parts: the workflow and its
activities do the I/O.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domains.shared import OrderLine, round_half_up

from .edit_messages import EditPreview, LineChange, Totals
from .errors import OrderErrorCode
from .lifecycle import DROPPED, SHIPPED_OR_LATER, STOPPABLE
from .messages import OrderView, SupplierOrderSummary

INVALID_EDIT = OrderErrorCode.INVALID_EDIT
EDIT_NOT_ALLOWED = OrderErrorCode.EDIT_NOT_ALLOWED
SUPPLIER_ORDER_SHIPPED = OrderErrorCode.SUPPLIER_ORDER_SHIPPED


def refuse(code: OrderErrorCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def by_shopper(actor: str) -> bool:
    """A shopper or a guest (they may change the address only); staff, tokens and the CLI may do all."""
    return actor.startswith(("shopper:", "guest:"))


def check_changes(changes: list[LineChange]) -> None:
    seen = [c.variant_id for c in changes]
    if len(seen) != len(set(seen)):
        raise refuse(INVALID_EDIT, "name each line once")


def changed_lines(lines: list[OrderLine], changes: list[LineChange], added: dict[str, OrderLine]) -> list[OrderLine]:
    """The order's lines after `changes` (new quantities; 0 removes; unknown variants come from `added`)."""
    wanted = {c.variant_id: c.quantity for c in changes}
    out = []
    for line in lines:
        n = wanted.pop(line.variant_id, line.quantity)
        if n:
            out.append(line.model_copy(update={"quantity": n, "line_total": n * line.unit_price}))
    for variant_id, n in wanted.items():
        if n:
            base = added[variant_id]
            out.append(base.model_copy(update={"quantity": n, "line_total": n * base.unit_price}))
    return out


def price(lines: list[OrderLine], placed_subtotal: int, placed_discount: int, shipping: int, tax: int) -> Totals:
    """The totals of edited lines: the discount keeps its share of the goods (the coupon's
    terms are not kept on the order), shipping and tax come from the shop's rates."""
    subtotal = sum(li.line_total for li in lines)
    discount = min(round_half_up(subtotal * placed_discount, placed_subtotal), subtotal) if placed_subtotal else 0
    return Totals(subtotal=subtotal, discount=discount, shipping=shipping, tax=tax,
                  total=subtotal - discount + shipping + tax)


def _units_by_sku(lines: list[OrderLine]) -> dict[str, int]:
    units: dict[str, int] = {}
    for li in lines:
        units[li.blank_sku] = units.get(li.blank_sku, 0) + li.quantity
    return units


def stock_moves(before: list[OrderLine], after: list[OrderLine]) -> tuple[dict[str, int], dict[str, int]]:
    """(units to hold, units to give back) by SKU."""
    old, new = _units_by_sku(before), _units_by_sku(after)
    hold = {sku: n - old.get(sku, 0) for sku, n in new.items() if n > old.get(sku, 0)}
    give = {sku: n - new.get(sku, 0) for sku, n in old.items() if n > new.get(sku, 0)}
    return hold, give


def supplier_lines(supplier_orders: list[SupplierOrderSummary], before: list[OrderLine], after: list[OrderLine],
                   suppliers: dict[str, str]) -> dict[str, list[OrderLine]]:
    """The new lines of every supplier order the edit changes. A changed line must belong to a
    supplier order that has not shipped; an added one goes to its supplier's open supplier order."""
    old = {li.variant_id: li.quantity for li in before}
    new = {li.variant_id: li for li in after}
    live = [so for so in supplier_orders if so.status not in DROPPED]
    home = {li.variant_id: so for so in live for li in so.lines}
    touched: dict[str, SupplierOrderSummary] = {}
    added: dict[str, list[OrderLine]] = {}
    for variant_id in sorted(set(old) | set(new)):
        if old.get(variant_id, 0) == (new[variant_id].quantity if variant_id in new else 0):
            continue
        so = home.get(variant_id)
        if so is None:
            supplier = suppliers.get(variant_id)
            so = next((x for x in live if x.supplier == supplier and x.status in STOPPABLE), None)
            if so is None:
                raise refuse(INVALID_EDIT, f"{variant_id} ships from {supplier or 'another supplier'}, which has no "
                                           "shipment of this order still open: place it as a new order")
            added.setdefault(so.supplier_order_id, []).append(new[variant_id])
        if so.status not in STOPPABLE:
            raise refuse(SUPPLIER_ORDER_SHIPPED, f"{so.supplier_order_id} is {so.status}: its lines cannot change")
        touched[so.supplier_order_id] = so
    out = {}
    for so_id, so in touched.items():
        lines = [new[li.variant_id] for li in so.lines if li.variant_id in new] + added.get(so_id, [])
        if not lines:
            raise refuse(INVALID_EDIT, f"the edit leaves {so_id} empty: cancel the order, or keep a line of it")
        out[so_id] = lines
    return out


def describe(edit: EditPreview) -> str:
    parts = []
    if edit.address_changed:
        a = edit.shipping_address
        parts.append(f"ship to {a.address1}, {a.city} {a.postal_code} {a.country}")
    for so_id, lines in edit.supplier_lines.items():
        parts.append(f"{so_id}: " + ", ".join(f"{li.quantity}× {li.product_name}" for li in lines))
    money = (f"charge {edit.difference}" if edit.difference > 0 else
             f"refund {-edit.difference}" if edit.difference < 0 else "no difference")
    return "; ".join(parts) + f" ({money})"


def left_to_refund(view: OrderView) -> int:
    """What can still be refunded: the total (an edit's refund already lowered it) less the
    refunds that were not edits'. The workflow's `_refundable`, from a view."""
    edit_refunds = sum(r.amount for r in view.refunds if "-edit-" in r.refund_id and r.refund_id.endswith("-refund"))
    return view.total + edit_refunds - view.refunded


def cancel_outcome(view: OrderView) -> dict[str, list[dict]]:
    """What a cancel left: the supplier orders cancelled (with their lines) and those that had
    shipped, for the cancel's answer."""
    def entry(so: SupplierOrderSummary) -> dict:
        return {"supplier_order_id": so.supplier_order_id, "supplier": so.supplier,
                "lines": {li.variant_id: li.quantity for li in so.lines}}
    return {"cancelled": [entry(so) for so in view.supplier_orders if so.status in DROPPED],
            "shipped": [entry(so) for so in view.supplier_orders if so.status in SHIPPED_OR_LATER]}
