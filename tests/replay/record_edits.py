"""Records order edits and the partial cancel (issue 17): `python -m tests.replay.record_edits`.

Writes into `histories/issue17-edits/` (a folder of its own: `record.py` re-records the top
level and leaves folders alone): an order edited by staff (more units charged, a line
removed and refunded, the address changed, an edit abandoned) then shipped and delivered by
hand; an edit refused because its supplier order shipped first; a partly shipped order whose
unshipped rest is cancelled; their fulfillment trees and the inventory service that took the
edits' holds and amendments. tests/replay/test_replay.py replays every file under histories/.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from domains.fulfillment import client as fulfillment
from domains.inventory.ids import INVENTORY_WORKFLOW_ID
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.edit_messages import AbandonEdit, ConfirmEdit, EditOrder, LineChange
from domains.orders.messages import OrderStatus
from infra.store import schema

from .record import ADDRESS, _place, _until
from .recording import record_paths

HERE = Path(__file__).resolve().parent / "histories" / "issue17-edits"
STAFF = "staff:replay@example.com"


async def _edit(env, order_id: str, actor: str = STAFF, payment: str | None = None, **change) -> None:
    preview = await orders.preview_edit(env.client, order_id, EditOrder(actor=actor, **change))
    await orders.confirm_edit(env.client, order_id, ConfirmEdit(actor=actor, edit_id=preview.edit_id,
                                                                payment_method=payment))


async def _paths(env, store, shop, catalog) -> list[str]:
    brand_of = {p.id: p.brand for p in catalog.products}
    by_brand: dict[str, list] = {}
    for v in catalog.variants:
        if v.available:
            by_brand.setdefault(brand_of[v.product_id], []).append(v)
    (_, vs_a), (brand_b, vs_b) = sorted(by_brand.items())[:2]
    store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"manual": True}})

    edited = await _place(env, shop, [vs_a[0], vs_a[1]])
    await _until(env, store, edited, lambda v: v.status == OrderStatus.IN_FULFILLMENT and v.can_edit)
    await _edit(env, edited, payment="tok_success", lines=[LineChange(variant_id=vs_a[0].id, quantity=3)])
    await _edit(env, edited, lines=[LineChange(variant_id=vs_a[1].id, quantity=0)])
    moved = ADDRESS.model_copy(update={"address1": "2 Side St"})
    await _edit(env, edited, actor=f"guest:{ADDRESS.email}", shipping_address=moved)
    await orders.preview_edit(env.client, edited, EditOrder(actor=STAFF, lines=[
        LineChange(variant_id=vs_a[0].id, quantity=4)]))
    await orders.abandon_edit(env.client, edited, AbandonEdit(actor=STAFF))
    for stage in ("shipped", "delivered"):
        await fulfillment.advance(env.client, edited, stage, actor="cli:replay")
        await _until(env, store, edited, lambda v, stage=stage: v.supplier_orders[0].status == stage)

    raced = await _place(env, shop, [vs_a[2]])
    await _until(env, store, raced, lambda v: v.status == OrderStatus.IN_FULFILLMENT and v.can_edit)
    preview = await orders.preview_edit(env.client, raced, EditOrder(actor=STAFF, lines=[
        LineChange(variant_id=vs_a[2].id, quantity=2)]))
    await fulfillment.advance(env.client, raced, "shipped", actor="cli:replay")
    so_id = (await orders.get_order(env.client, store, raced)).supplier_orders[0].supplier_order_id
    while (await fulfillment.supplier_order(env.client, so_id)).status != "shipped":
        await asyncio.sleep(0.1)
    try:
        await orders.confirm_edit(env.client, raced, ConfirmEdit(actor=STAFF, edit_id=preview.edit_id,
                                                                 payment_method="tok_success"))
    except OrderError:
        pass
    await _until(env, store, raced, lambda v: v.pending_edit is None and v.status == OrderStatus.SHIPPED)

    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})
    store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand_b, "supplier": "slow-mill",
                                            "strategy": "manual", "behaviour": "accept"})
    partial = await _place(env, shop, [vs_a[3], vs_b[0]])
    await _until(env, store, partial, lambda v: v.status == OrderStatus.PARTIALLY_SHIPPED)
    await orders.cancel(env.client, partial, STAFF, "the rest is too slow")
    await _until(env, store, partial, lambda v: v.status == OrderStatus.DELIVERED)
    await asyncio.sleep(1.5)

    ids = []
    for order_id in (edited, raced, partial):
        view = await orders.get_order(env.client, store, order_id)
        ids += [f"order-{order_id}", f"fulfillment-{order_id}"]
        ids += [f"supplier-order-{so.supplier_order_id}" for so in view.supplier_orders]
    return [*ids, INVENTORY_WORKFLOW_ID]


async def record() -> None:
    await record_paths(HERE, _paths)


if __name__ == "__main__":
    asyncio.run(record())
