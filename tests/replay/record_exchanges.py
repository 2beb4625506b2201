"""Records an exchange's histories for the replay test: `python -m tests.replay.record_exchanges`.

On a throwaway dev server: an order delivered; its line swapped for a dearer variant of the
same product, opened by the shopper with a card, approved (the replacement held, the difference
charged), received, and the replacement shipped through fulfillment to its delivery. Writes
`return_exchange-0.json` (the return) and `order_exchange-0.json` (the order that took it),
leaving every other recording as it is.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from domains.returns import client as returns
from domains.returns.messages import ApproveReturn, OpenReturn, ReceivedLine, ReceiveReturn, ReturnLineRequest
from fixtures.generator import generate_catalog
from infra.store import schema

from ..embedded import load_embedded
from ..servers import start_dev_server
from ..shop_harness import running_shop
from .record import HERE, _place, _until

STAFF = "staff:replay-support@example.com"


def _dearer_pair(catalog):
    by_product = defaultdict(list)
    for v in catalog.variants:
        if v.available:
            by_product[v.product_id].append(v)
    for variants in by_product.values():
        for a in variants:
            for b in variants:
                if b.price_amount > a.price_amount and a.blank_sku != b.blank_sku:
                    return a, b
    raise RuntimeError("no product with a dearer variant")


async def _exchange(env, shop, store, catalog) -> list[str]:
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})
    store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})
    store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "updated_by": "replay",
                                     "value": ShopSettings().model_dump(mode="json")})
    mine, dearer = _dearer_pair(catalog)
    order_id = await _place(env, shop, [mine])
    await _until(env, store, order_id, lambda v: v.status == OrderStatus.DELIVERED)
    opened = await orders.open_return(env.client, order_id, OpenReturn(
        actor="guest:replay@example.com", payment_method="tok_success", lines=[ReturnLineRequest(
            line_id="L1", quantity=1, reason="too_small", exchange_variant_id=dearer.id)]))
    await returns.approve(env.client, opened.return_id, ApproveReturn(actor=STAFF, actor_role="support"), store)
    await returns.receive(env.client, opened.return_id, ReceiveReturn(actor=STAFF, actor_role="support", lines={
        "L1": ReceivedLine(restock=1)}), store)
    await env.client.get_workflow_handle(opened.workflow_id).result()  # after the replacement's delivery
    await _until(env, store, order_id, lambda v: bool(v.returns) and v.returns[0].replacement is not None
                 and v.returns[0].replacement.status == "delivered")
    await asyncio.sleep(1)
    return [opened.workflow_id, f"order-{order_id}"]


async def record() -> None:
    import os

    from domains.catalog.importer import parse_catalog

    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    os.environ["COMMERCE_MAIL_DIR"] = str(tmp / "mail")
    catalog = parse_catalog(generate_catalog(seed=3, product_count=40))
    store, index = load_embedded(tmp, catalog, stock=10)
    try:
        async with running_shop(env.client, store, index) as shop:
            return_id, order_id = await _exchange(env, shop, store, catalog)
        for workflow_id, name in ((return_id, "return_exchange-0"), (order_id, "order_exchange-0")):
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {workflow_id} -> {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
