"""The order index's documents for an order, and rebuilding the index from the write store.

The `save` activity projects each order as it changes. `rebuild_order_index` projects every
order the store holds (`reads.order_from_store`), and every return, for a data folder restored from a backup
(`manage.py backup restore`, docs/backup.md) or an index lost or moved: the index is a read
model, the store is the truth.
"""

from __future__ import annotations

from collections.abc import Callable

from domains.shared import OrderLine
from infra.store import Store, schema
from projections.orders import DocumentLine, OrderDocument, OrderIndex, SupplierOrderDocument

from ..returns.projection import rebuild_return_documents
from .messages import OrderView
from .reads import order_from_store

# Rebuilt documents carry version 0: the projection never goes backwards, so the order's
# workflow, whose saves count from 1, replaces them at its next save.
REBUILT_VERSION = 0


def _document_lines(lines: list[OrderLine]) -> list[DocumentLine]:
    return [DocumentLine(variant_id=li.variant_id, product_name=li.product_name, blank_sku=li.blank_sku,
                         options=li.options, quantity=li.quantity, line_total=li.line_total) for li in lines]


def project(order_index: OrderIndex, view: OrderView, version: int) -> None:
    """The order's document and one per supplier order, at `version`."""
    address = view.shipping_address
    updated = max([view.placed_at, *(h.at for h in view.history)])
    order_index.upsert_orders([OrderDocument(
        order_id=view.order_id, confirmation_code=view.confirmation_code, customer_id=view.customer_id,
        email=view.email, customer_name=f"{address.first_name} {address.last_name}", status=view.status.value,
        placed_at=view.placed_at, updated_at=updated, currency=view.currency, subtotal=view.subtotal,
        discount=view.discount, shipping=view.shipping, tax=view.tax, total=view.total, refunded=view.refunded,
        item_count=sum(li.quantity for li in view.lines), lines=_document_lines(view.lines),
        suppliers=sorted({so.supplier for so in view.supplier_orders}),
        supplier_order_ids=[so.supplier_order_id for so in view.supplier_orders], return_state=view.return_state,
        version=version)])
    order_index.upsert_supplier_orders([SupplierOrderDocument(
        supplier_order_id=so.supplier_order_id, order_id=view.order_id, confirmation_code=view.confirmation_code,
        email=view.email, supplier=so.supplier, strategy=so.strategy, status=so.status,
        waiting_on_manual=so.strategy == "manual" and so.status not in ("delivered", "rejected", "cancelled"),
        created_at=so.created_at, updated_at=so.updated_at,
        carrier=so.shipment.carrier if so.shipment else None,
        tracking_number=so.shipment.tracking_number if so.shipment else None,
        lines=_document_lines(so.lines), version=version) for so in view.supplier_orders])


def rebuild_order_index(store: Store, order_index: OrderIndex, *, page_size: int = 500,
                        progress: Callable[[int], object] | None = None) -> int:
    """Projects every order in the store into the index, then every return; returns how many
    orders. Documents the index already holds at a later version are kept (an order saved since)."""
    order_index.ensure()
    cursor, done = None, 0
    while True:
        rows, cursor = store.scan(schema.ORDERS.name, page_size=page_size, cursor=cursor)
        for row in rows:
            view = order_from_store(store, row["order_id"])
            if view is not None:
                project(order_index, view, REBUILT_VERSION)
                done += 1
        if progress and rows:
            progress(len(rows))
        if cursor is None:
            break
    rebuild_return_documents(store, order_index)  # the admin's returns list reads the same index
    order_index.refresh()
    return done
