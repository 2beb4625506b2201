"""Records the add that answers before its hold (issue 18): `python -m tests.replay.record_deferred_hold`.

Writes into `histories/issue18-deferred-hold/` (a folder of its own: `record.py` re-records the
top level and leaves folders alone): an add whose hold followed it, one cut short and one taken
out because another shopper held the units since the stock row was read, a checkout begun right
after such an add (the cart and its checkout), and a change racing the following hold.
tests/replay/test_replay.py replays every file under histories/.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from domains.cart import client as carts

from .recording import record_paths

HERE = Path(__file__).resolve().parent / "histories" / "issue18-deferred-hold"
SEEN = 100  # a stock row that shows plenty (the shop holds 10 of each SKU): the add answers first


async def _until_settled(env, cart_id: str, *, notice: bool = False) -> None:
    for _ in range(300):
        cart = await carts.get_cart(env.client, cart_id)
        if bool(cart.notice) == notice:
            history = await env.client.get_workflow_handle(f"cart-{cart_id}").fetch_history()
            if any(e.HasField("activity_task_completed_event_attributes") for e in history.events):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"cart {cart_id}: its hold never settled")


async def _paths(env, store, shop, catalog) -> list[str]:
    by_sku: dict[str, object] = {}
    for v in catalog.variants:
        if v.available:
            by_sku.setdefault(v.blank_sku, v)
    plenty, short, gone, racing = list(by_sku.values())[:4]

    held = shop.new_cart_id()
    await carts.add_item(env.client, held, plenty.id, 2, stock_seen=SEEN)
    await _until_settled(env, held)

    await carts.add_item(env.client, shop.new_cart_id(), short.id, 7)  # 3 of 10 left
    cut = shop.new_cart_id()
    await carts.add_item(env.client, cut, short.id, 5, stock_seen=SEEN)
    await _until_settled(env, cut, notice=True)

    await carts.add_item(env.client, shop.new_cart_id(), gone.id, 10)  # none left
    emptied = shop.new_cart_id()
    await carts.add_item(env.client, emptied, gone.id, 1, stock_seen=SEEN)
    await _until_settled(env, emptied, notice=True)

    checked_out = shop.new_cart_id()
    await carts.add_item(env.client, checked_out, plenty.id, 1, stock_seen=SEEN)
    checkout_id = (await carts.begin_checkout(env.client, checked_out)).checkout_id
    await carts.cancel_checkout(env.client, checked_out)

    changed = shop.new_cart_id()
    cart = await carts.add_item(env.client, changed, racing.id, 1, stock_seen=SEEN)
    await carts.change_quantity(env.client, changed, cart.lines[0].id, 3)
    await _until_settled(env, changed)
    await asyncio.sleep(1)
    return [f"cart-{c}" for c in (held, cut, emptied, checked_out, changed)] + [checkout_id]


async def record() -> None:
    await record_paths(HERE, _paths)


if __name__ == "__main__":
    asyncio.run(record())
