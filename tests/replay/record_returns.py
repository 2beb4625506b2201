"""Records the returns' histories the replay test guards: `python -m tests.replay.record_returns`.

On a throwaway dev server: an order delivered, one return approved by staff, shipped back,
received by support above the refund limit and refunded by a manager (the return and the order
that refunded it), and one return rejected. Writes `return-0.json`, `return-1.json` and
`order_returns-0.json` beside the other recordings, leaving those as they are (the order
recordings of the release before returns keep proving that its running orders carry on).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from domains.returns import client as returns
from domains.returns.messages import (
    ApproveReturn,
    MarkInTransit,
    OpenReturn,
    ReceivedLine,
    ReceiveReturn,
    RefundReturn,
    RejectReturn,
    ReturnLineRequest,
    ReturnStatus,
)
from fixtures.generator import generate_catalog
from infra.store import schema

from ..embedded import load_embedded
from ..servers import start_dev_server
from ..shop_harness import running_shop
from .record import HERE, _place, _until

SUPPORT, MANAGER = "staff:replay-support@example.com", "staff:replay-manager@example.com"


async def _return_paths(env, shop, store, catalog) -> list[str]:
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})
    store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})
    store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "updated_by": "replay", "value": ShopSettings(
        support_refund_limit=100, restocking_fees={"changed_mind": 10}).model_dump(mode="json")})
    variants = [v for v in catalog.variants if v.available]
    order_id = await _place(env, shop, [variants[0], variants[1]])
    await _until(env, store, order_id, lambda v: v.status == OrderStatus.DELIVERED)
    order = await orders.get_order(env.client, store, order_id)
    kept = await orders.open_return(env.client, order_id, OpenReturn(actor="guest:replay@example.com", lines=[
        ReturnLineRequest(line_id="L1", quantity=1, reason="changed_mind")], note="too warm"))
    await returns.approve(env.client, kept.return_id, ApproveReturn(actor=SUPPORT, actor_role="support"), store)
    await returns.mark_in_transit(env.client, kept.return_id,
                                  MarkInTransit(actor="guest:replay@example.com", tracking_number="9400REPLAY0001"),
                                  store)
    await returns.receive(env.client, kept.return_id, ReceiveReturn(actor=SUPPORT, actor_role="support", lines={
        "L1": ReceivedLine(restock=1)}), store)
    await returns.refund(env.client, kept.return_id, RefundReturn(actor=MANAGER, actor_role="manager"), store)
    turned = await orders.open_return(env.client, order_id, OpenReturn(actor=SUPPORT, actor_role="support", lines=[
        ReturnLineRequest(line_id="L2", quantity=1, reason="other")]))
    await returns.reject(env.client, turned.return_id, RejectReturn(actor=SUPPORT, reason="worn"), store)
    for rid in (kept.return_id, turned.return_id):
        await env.client.get_workflow_handle((await returns.view(env.client, rid, store)).workflow_id).result()
    await _until(env, store, order_id, lambda v: [r.status for r in v.returns] == [ReturnStatus.CLOSED,
                                                                                    ReturnStatus.REJECTED])
    await asyncio.sleep(1)
    return [kept.workflow_id, turned.workflow_id, f"order-{order.order_id}"]


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
            ids = await _return_paths(env, shop, store, catalog)
        for old in [*HERE.glob("return-*.json"), *HERE.glob("order_returns-*.json")]:
            old.unlink()
        for workflow_id in ids:
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            kind = "return" if workflow_id.startswith("return-") else "order_returns"
            name = f"{kind}-{len(list(HERE.glob(kind + '-*')))}"
            (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {workflow_id} -> {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
