"""Order edits before shipping, and what a cancel of a partly shipped order did.

An edit is priced the way checkout priced the order (edit_totals: goods, the discount's
share, shipping and tax from the shop's rates), held in inventory under an owner of its own
(`{checkout_id}-edit-{n}`, with a TTL) and only then confirmed as one update of the order
workflow; see docs/domains/orders.md.
"""

from __future__ import annotations

from .lifecycle import DROPPED, SHIPPED_OR_LATER
from .messages import OrderView, SupplierOrderSummary


def cancel_outcome(view: OrderView) -> dict[str, list[dict]]:
    """What a cancel left: the supplier orders cancelled (with their lines) and those that had
    shipped, for the cancel's answer."""
    def entry(so: SupplierOrderSummary) -> dict:
        return {"supplier_order_id": so.supplier_order_id, "supplier": so.supplier,
                "lines": {li.variant_id: li.quantity for li in so.lines}}
    return {"cancelled": [entry(so) for so in view.supplier_orders if so.status in DROPPED],
            "shipped": [entry(so) for so in view.supplier_orders if so.status in SHIPPED_OR_LATER]}
