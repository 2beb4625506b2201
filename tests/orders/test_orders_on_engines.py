"""An order from cart to delivered and refunded with Cassandra as the write store and
Elasticsearch holding the product and order indices: the audit rows, supplier orders,
shipments and refunds in Cassandra, the order documents in Elasticsearch. Skipped
without the engines (a failure in CI)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domains.catalog.importer import parse_catalog
from domains.catalog.loader import index_catalog, seed_stock, write_catalog
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from fixtures.generator import generate_catalog
from infra.store import schema
from projections.orders import OrderQuery, SupplierOrderQuery

from .. import engines
from ..conftest import drop_index, drop_store, make_index, make_store
from ..shop_harness import running_shop
from .conftest import OrderShop


@pytest.fixture
async def engine_shop(temporal_env, tmp_path):
    url = engines.need("elasticsearch", engines.elasticsearch_url())
    from projections.orders.elastic_index import ElasticOrderIndex

    catalog = parse_catalog(generate_catalog(seed=11, product_count=30))
    store = make_store("cassandra", tmp_path)
    index = make_index("elasticsearch", tmp_path)
    order_index = ElasticOrderIndex(url, f"test{uuid.uuid4().hex[:8]}", refresh=True)
    order_index.ensure()
    try:
        write_catalog(catalog, store)
        seed_stock(store, catalog, 10)
        index_catalog(catalog, index)
        store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 0}})
        store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})
        async with running_shop(temporal_env.client, store, index, order_index) as shop:
            yield OrderShop(env=_Sleep(), client=temporal_env.client, store=store, shop=shop, catalog=catalog)
    finally:
        order_index.es.indices.delete(index=[order_index.orders_index, order_index.supplier_orders_index],
                                      ignore_unavailable=True)
        order_index.close()
        drop_index(index)
        drop_store(store)


class _Sleep:
    async def sleep(self, duration) -> None:
        await asyncio.sleep(0.2)


async def test_an_order_on_cassandra_and_elasticsearch(engine_shop):
    shop = engine_shop
    a, b = shop.variants_of_brands(2)
    placed = await shop.place([(a, 2), (b, 1)])
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED, limit=200)
    refunded = await orders.refund(shop.client, placed.order_id, "staff:e2e@example.com", lines={a.id: 1},
                                   restock=True, reason="torn")

    index = shop.shop.order_index
    for _ in range(50):  # until the save that carried the refund has written every document
        index.refresh()
        doc = index.get_order(placed.order_id)
        sos = index.search_supplier_orders(SupplierOrderQuery(order_id=placed.order_id)).hits
        if doc and doc.refunded and sos and all(so.version == doc.version for so in sos):
            break
        await asyncio.sleep(0.2)
    assert doc.status == "delivered" and doc.refunded == refunded.refunded > 0
    page = index.search_orders(OrderQuery(statuses=["delivered"], text=placed.confirmation_code.lower()))
    assert [h.order_id for h in page.hits] == [placed.order_id]
    assert sorted(so.status for so in sos) == ["delivered", "delivered"] and all(so.tracking_number for so in sos)

    store = shop.store
    history = store.query(schema.ORDER_HISTORY.name, {"order_id": placed.order_id})
    assert [r["seq"] for r in history] == list(range(1, len(history) + 1))
    assert [(r["from_status"], r["to_status"]) for r in history if r["kind"] == "status"][-1] == ("shipped",
                                                                                                  "delivered")
    row = store.get(schema.ORDERS.name, {"order_id": placed.order_id})
    assert row["status"] == "delivered" and row["refunds"][0]["amount"] == refunded.refunded
    rows = store.query(schema.SUPPLIER_ORDERS.name, {"order_id": placed.order_id})
    assert {r["supplier_order_id"] for r in rows} == {so.supplier_order_id for so in delivered.supplier_orders}
    for r in rows:
        claim = store.get(schema.SHIPMENTS_BY_TRACKING.name, {"tracking_number": r["tracking_number"]})
        assert claim["supplier_order_id"] == r["supplier_order_id"]
