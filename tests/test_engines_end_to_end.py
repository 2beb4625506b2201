"""End to end on the real engines: load the catalog into Cassandra and Elasticsearch
through the management command, search it with facets through the HTTP API, and write
and read the orders' tables. Skipped without the engines (a failure in CI)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from domains.catalog.projection import documents_from_catalog
from fixtures.generator import generate_catalog
from infra.config import load_config
from projections.search import SearchQuery
from storefront import services

from . import engines
from .search.reference import expected


@pytest.fixture
def on_engines(tmp_path):
    hosts = engines.need("cassandra", engines.cassandra_hosts())
    url = engines.need("elasticsearch", engines.elasticsearch_url())
    suffix = uuid.uuid4().hex[:8]
    config = dataclasses.replace(
        load_config(), data_dir=tmp_path, store_backend="cassandra", search_backend="elasticsearch",
        cassandra_hosts=tuple(hosts.split(",")), cassandra_keyspace=f"e2e_{suffix}",
        elasticsearch_url=url, search_index_prefix=f"e2e{suffix}",
    )
    previous, settings.COMMERCE = settings.COMMERCE, config
    services.reset()
    try:
        yield config
    finally:  # whatever failed, the next tests get the embedded shop back
        try:
            from infra.store.cassandra import CassandraStore
            from projections.search.elastic import ElasticProductIndex

            cleanup = CassandraStore(config.cassandra_hosts, keyspace="system")
            cleanup._session.execute(f"DROP KEYSPACE IF EXISTS {config.cassandra_keyspace}")
            cleanup.close()
            index = ElasticProductIndex(url, prefix=config.search_index_prefix)
            index.es.indices.delete(index=f"{index.alias}*", expand_wildcards="all", ignore_unavailable=True)
            index.close()
        finally:
            settings.COMMERCE = previous
            services.reset()


def test_catalog_search_and_orders_on_cassandra_and_elasticsearch(on_engines, tmp_path, client):
    export = generate_catalog(seed=5, product_count=150)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(export))
    call_command("load_catalog", "--from", str(path), verbosity=0)

    assert services.store().backend == "cassandra" and services.index().backend == "elasticsearch"
    from domains.catalog.importer import parse_catalog

    catalog = parse_catalog(export)
    docs = documents_from_catalog(catalog.products, catalog.variants_by_product(), catalog.collections)
    color = docs[0].variants[0].color
    response = client.get("/api/search", {"q": "shirt", "color": color, "page_size": 100})
    assert response.status_code == 200
    body = response.json()
    want = expected(docs, SearchQuery(q="shirt", colors=[color], page_size=100))
    assert {h["id"] for h in body["hits"]} == want["ids"] and body["total"] == len(want["ids"])
    assert {f["value"]: f["count"] for f in body["facets"]["brands"]} == want["facets"]["brands"]
    assert {f["value"]: f["count"] for f in body["facets"]["sizes"]} == want["facets"]["sizes"]
    assert all(f["label"] for f in body["facets"]["collections"])

    product = client.get(f"/api/products/{docs[1].id}").json()
    assert len(product["variants"]) == len(docs[1].variants)

    store = services.store()
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    for n in range(3):
        order_id, code = f"ord-{n}", f"CONF{n:04d}"
        placed = now + timedelta(minutes=n)
        store.put("orders", {"order_id": order_id, "confirmation_code": code, "customer_id": "shopper-1",
                             "email": "a@example.com", "status": "placed", "placed_at": placed, "currency": "USD",
                             "subtotal": 2500, "discount": 0, "shipping": 500, "tax": 200, "total": 3200,
                             "lines": [{"variant_id": docs[0].variants[0].id, "quantity": 1}],
                             "shipping_address": {"city": "Austin"}, "payment": {"charge_id": f"ch_{n}"}})
        store.put("orders_by_customer", {"customer_id": "shopper-1", "placed_at": placed, "order_id": order_id,
                                         "confirmation_code": code, "status": "placed", "total": 3200,
                                         "currency": "USD"})
        store.put("orders_by_confirmation", {"confirmation_code": code, "order_id": order_id, "email": "a@example.com"})
    newest_first = store.query("orders_by_customer", {"customer_id": "shopper-1"})
    assert [r["order_id"] for r in newest_first] == ["ord-2", "ord-1", "ord-0"]
    found = store.get("orders_by_confirmation", {"confirmation_code": "CONF0001"})
    order = store.get("orders", {"order_id": found["order_id"]})
    assert (order["total"] == 3200 and order["lines"][0]["quantity"] == 1
            and order["placed_at"] == now + timedelta(minutes=1))
