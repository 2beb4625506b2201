"""Order figures for `make bench`: orders placed per minute end to end (cart, checkout,
order, fulfillment with every stage set to zero, delivered), against the same shoppers'
rate to placed only; and the lag from a status change to the admin order list.

Everything runs on this machine: a dev server and the shop's workers in this process.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from .bench_sizes import sized

SHOPPERS = sized(6, 2)
ORDERS = sized(36, 2)
LAG_SAMPLES = sized(12, 1)


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[int(len(ordered) * .95) - 1], 1),
            "n": len(ordered)}


async def run_bench() -> dict:
    from domains.cart import client as carts
    from domains.catalog.importer import parse_catalog
    from domains.catalog.loader import seed_stock, write_catalog
    from domains.fulfillment import client as fulfillment
    from domains.orders import client as orders
    from domains.orders.messages import OrderStatus
    from domains.shared import Address
    from fixtures.generator import generate_catalog
    from infra.store import schema
    from infra.store.sqlite import SqliteStore
    from projections.orders import OrderQuery
    from projections.orders.sqlite_index import SqliteOrderIndex
    from projections.search.sqlite_fts import SqliteProductIndex

    from . import engines
    from .servers import start_dev_server
    from .shop_harness import running_shop

    address = Address(email="bench@example.com", first_name="Ben", last_name="Ch", address1="1 Loop", city="Austin",
                      state="TX", postal_code="73301", country="US")
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    client = env.client
    try:
        catalog = parse_catalog(generate_catalog(seed=9, product_count=200))
        store = SqliteStore(tmp / "store.sqlite3")
        store.create_schema()
        write_catalog(catalog, store)
        seed_stock(store, catalog, 100_000)
        index = SqliteProductIndex(tmp / "search.sqlite3")
        index.ensure()
        variants = [v.id for v in catalog.variants if v.available]

        def settings(**fulfillment_settings) -> None:
            store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": fulfillment_settings})

        async def place(i: int) -> str:
            cart_id = uuid.uuid4().hex
            await carts.add_item(client, cart_id, variants[i % len(variants)], 1)
            await carts.begin_checkout(client, cart_id)
            await carts.set_shipping(client, cart_id, address)
            await carts.set_payment(client, cart_id, "tok_success")
            return (await carts.submit(client, cart_id)).order_id

        async def delivered(order_id: str) -> None:
            while (await orders.get_order(client, store, order_id)).status != OrderStatus.DELIVERED:
                await asyncio.sleep(0.05)

        async def shoppers(until_delivered: bool) -> float:
            queue = list(range(ORDERS))

            async def shopper() -> None:
                while queue:
                    order_id = await place(queue.pop())
                    if until_delivered:
                        await delivered(order_id)
            started = time.perf_counter()
            await asyncio.gather(*(shopper() for _ in range(SHOPPERS)))
            return ORDERS / ((time.perf_counter() - started) / 60)

        async def lag(order_index) -> dict:
            """A person ships a manual supplier order; how long until the admin list shows it."""
            settings(manual=True)
            samples = []
            for i in range(LAG_SAMPLES):
                order_id = await place(i)
                view = await orders.get_order(client, store, order_id)
                while not view.supplier_orders or view.supplier_orders[0].strategy != "manual":
                    await asyncio.sleep(0.05)
                    view = await orders.get_order(client, store, order_id)
                query = OrderQuery(statuses=["shipped"], text=view.confirmation_code)
                started = time.perf_counter()
                await fulfillment.advance(client, order_id, "shipped", actor="cli:bench")
                while not order_index.search_orders(query).total:
                    await asyncio.sleep(0.01)
                    order_index.refresh()
                samples.append((time.perf_counter() - started) * 1000)
            return _summary(samples)

        result: dict = {"shoppers": SHOPPERS, "orders": ORDERS}
        async with running_shop(client, store, index, SqliteOrderIndex(tmp / "orders.sqlite3")) as shop:
            settings(stage_seconds=0)
            await shoppers(False)  # warm up
            placed = await shoppers(False)
            end_to_end = await shoppers(True)
            result.update(placed_per_minute=round(placed), delivered_per_minute=round(end_to_end),
                          ratio=round(end_to_end / placed, 2))
            result["admin_list_lag"] = {"sqlite": await lag(shop.order_index)}
        if engines.elasticsearch_url():
            from projections.orders.elastic_index import ElasticOrderIndex

            es = ElasticOrderIndex(engines.elasticsearch_url(), f"bench{uuid.uuid4().hex[:6]}")
            es.ensure()
            try:
                async with running_shop(client, store, index, es) as shop:
                    result["admin_list_lag"]["elasticsearch"] = await lag(es)
            finally:
                es.es.indices.delete(index=[es.orders_index, es.supplier_orders_index], ignore_unavailable=True)
                es.close()
        return result
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> dict:
    result = asyncio.run(run_bench())
    print(f"\norders ({result['orders']} orders, {result['shoppers']} concurrent shoppers, stages set to zero)")
    print(f"  placed (checkout complete)       {result['placed_per_minute']:6d} orders/min")
    print(f"  placed and delivered, end to end {result['delivered_per_minute']:6d} orders/min"
          f"   {result['ratio']:.2f}x the placed-only rate")
    for backend, s in result["admin_list_lag"].items():
        print(f"  status change -> admin list ({backend:13}) median {s['median_ms']:7.1f} ms"
              f"   p95 {s['p95_ms']:7.1f} ms")
    return result


if __name__ == "__main__":
    main()
