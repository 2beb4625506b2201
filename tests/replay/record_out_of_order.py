"""Records an order whose supplier-order reports arrived out of order:
`python -m tests.replay.record_out_of_order`.

Before issue 13's hardening, fulfillment re-signalled each report from concurrent async
handlers and the order took every report as final, so a burst of reports could reach the
order as `in_production` then `pending`. Run on that code, this places orders spanning many
brands with short stages until one shows the bug, and writes that order's history and its
fulfillment's into `histories/before-hardening/` as `order-out-of-order.json` and
`fulfillment-out-of-order.json`: orders running from that release must keep replaying
(tests/replay/test_replay.py replays every file under histories/). On the hardened code
the bug no longer shows and this gives up after a few rounds.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from domains.fulfillment.ids import fulfillment_workflow_id
from domains.fulfillment.messages import FulfillmentSettings
from domains.orders.ids import order_workflow_id
from domains.orders.messages import OrderSettings, OrderStatus
from fixtures.generator import generate_catalog
from infra.store import schema

from ..embedded import load_embedded
from ..orders.conftest import OrderShop
from ..orders.test_fulfillment_reports import backwards, baskets, stage_trail
from ..servers import start_dev_server
from ..shop_harness import running_shop

HERE = Path(__file__).resolve().parent / "histories" / "before-hardening"
ROUNDS = 5


async def record() -> None:
    from domains.catalog.importer import parse_catalog

    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    catalog = parse_catalog(generate_catalog(seed=7, product_count=240))
    store, index = load_embedded(tmp, catalog, stock=200)
    try:
        async with running_shop(env.client, store, index) as harness:
            shop = OrderShop(env=None, client=env.client, store=store, shop=harness, catalog=catalog)
            store.put(schema.SETTINGS.name, {"name": "fulfillment",
                                             "value": FulfillmentSettings(stage_seconds=0.5).model_dump()})
            store.put(schema.SETTINGS.name, {"name": "orders", "value": OrderSettings(
                flush_delay_seconds=0.1, feedback_window_seconds=3).model_dump()})
            for _ in range(ROUNDS):
                placed = await asyncio.gather(*(shop.place([(v, 1) for v in b]) for b in baskets(catalog)))
                for view in placed:  # the order closes after its feedback window, or (the bug) never
                    handle = env.client.get_workflow_handle(order_workflow_id(view.order_id))
                    for _ in range(100):
                        now = await shop.order(view.order_id)
                        if backwards(stage_trail(now.history)) and now.status in (OrderStatus.DELIVERED,
                                                                                  OrderStatus.COMPLETED):
                            break
                        await asyncio.sleep(0.2)
                    else:
                        continue
                    await asyncio.sleep(5)  # past the feedback window: completed, or stuck open
                    order = await handle.fetch_history()
                    tree = await env.client.get_workflow_handle(fulfillment_workflow_id(view.order_id)).fetch_history()
                    HERE.mkdir(parents=True, exist_ok=True)
                    (HERE / "order-out-of-order.json").write_text(order.to_json())
                    (HERE / "fulfillment-out-of-order.json").write_text(tree.to_json())
                    print(f"recorded order {view.order_id}: {dict(backwards(stage_trail(now.history)))}")
                    return
            print("no report arrived out of order")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
