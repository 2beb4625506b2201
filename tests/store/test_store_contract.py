"""One contract for every write-store adapter: SQLite always, Cassandra when it is running."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.store import StoreError
from infra.store.schema import TABLES


def product(pid: str, **extra):
    return {
        "id": pid, "type": "T-Shirt", "name": f"Tee {pid}", "description": "soft", "brand": "Gildan",
        "model": "5000", "price_amount": 2499, "currency": "USD", "collection_ids": ["col-a", "col-b"],
        "default_variant_id": f"{pid}-v1", "image_url": "/shop/img/tshirt/000000/front.svg",
        "created_at": datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC), **extra,
    }


def test_schema_creation_is_idempotent(store):
    store.create_schema()
    store.create_schema()
    store.put("products", product("p1"))
    assert store.get("products", {"id": "p1"})["name"] == "Tee p1"


def test_put_then_get_round_trips_every_column_type(store):
    store.put("products", product("p1"))
    store.put("variants", {
        "id": "v1", "product_id": "p1", "blank_sku": "G5000-BLK-M", "color": "Black", "color_hex": "#000000",
        "size": "M", "size_rank": 3, "options": [{"option_type": "Color", "label": "Black"}],
        "price_amount": 2499, "currency": "USD", "available": False,
        "image_front": "/f.svg", "image_back": "/b.svg",
    })
    row = store.get("products", {"id": "p1"})
    # timestamps are kept to the millisecond on every backend, in UTC
    assert row["created_at"] == datetime(2026, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)
    assert row["collection_ids"] == ["col-a", "col-b"]
    assert row["price_amount"] == 2499
    v = store.get("variants", {"id": "v1"})
    assert v["available"] is False
    assert v["options"] == [{"option_type": "Color", "label": "Black"}]


def test_a_column_added_by_a_newer_release_is_left_out_of_reads(store):
    """During a rolling release the next release's workers add columns to tables this code
    still reads (docs/releases.md): its rows read as before, without them."""
    store.put("products", product("p1"))
    if store.backend == "sqlite":
        store._conn.execute('ALTER TABLE "products" ADD COLUMN "next_release" TEXT')
        store._conn.execute("""UPDATE "products" SET "next_release" = 'x' WHERE "id" = 'p1'""")
    else:
        store._session.execute("ALTER TABLE products ADD next_release text")
        store._session.execute("UPDATE products SET next_release = 'x' WHERE id = 'p1'")
    assert store.get("products", {"id": "p1"})["name"] == "Tee p1"
    assert "next_release" not in store.get("products", {"id": "p1"})
    rows, _ = store.scan("products")
    assert [r["id"] for r in rows] == ["p1"] and "next_release" not in rows[0]


def test_get_of_missing_row_is_none(store):
    assert store.get("products", {"id": "nope"}) is None


def test_put_is_an_upsert_that_keeps_unnamed_columns(store):
    store.put("products", product("p1"))
    store.put("products", {"id": "p1", "price_amount": 1999})
    row = store.get("products", {"id": "p1"})
    assert row["price_amount"] == 1999
    assert row["name"] == "Tee p1"


def test_query_returns_a_partition_in_clustering_order(store):
    rows = [{"collection_id": "col-a", "product_id": f"p{i}", "name": f"n{i}", "price_amount": i,
             "image_url": "/x.svg"} for i in (3, 1, 2)]
    rows.append({"collection_id": "col-b", "product_id": "p9", "name": "n9", "price_amount": 9, "image_url": "/x"})
    assert store.put_many("products_by_collection", rows) == 4
    got = store.query("products_by_collection", {"collection_id": "col-a"})
    assert [r["product_id"] for r in got] == ["p1", "p2", "p3"]
    assert [r["product_id"] for r in store.query("products_by_collection", {"collection_id": "col-a"},
                                                 reverse=True)] == ["p3", "p2", "p1"]
    assert [r["product_id"] for r in store.query("products_by_collection", {"collection_id": "col-a"},
                                                 limit=2)] == ["p1", "p2"]
    assert store.query("products_by_collection", {"collection_id": "col-z"}) == []


def test_query_needs_the_whole_partition_key(store):
    with pytest.raises(StoreError):
        store.query("products_by_collection", {"product_id": "p1"})


def test_unknown_table_and_column_are_refused(store):
    with pytest.raises(StoreError):
        store.put("nope", {"id": "x"})
    with pytest.raises(StoreError):
        store.put("products", {"id": "x", "colour": "red"})
    with pytest.raises(StoreError):
        store.put("products", {"name": "no key"})


def test_insert_if_absent_inserts_once(store):
    assert store.insert_if_absent("meta", {"key": "k", "value": {"n": 1}}) is True
    assert store.insert_if_absent("meta", {"key": "k", "value": {"n": 2}}) is False
    assert store.get("meta", {"key": "k"})["value"] == {"n": 1}


def test_delete_a_row_and_a_partition(store):
    rows = [{"collection_id": "c", "product_id": f"p{i}", "name": "n", "price_amount": 1, "image_url": "/"}
            for i in range(3)]
    store.put_many("products_by_collection", rows)
    store.delete("products_by_collection", {"collection_id": "c", "product_id": "p1"})
    assert [r["product_id"] for r in store.query("products_by_collection", {"collection_id": "c"})] == ["p0", "p2"]
    store.delete("products_by_collection", {"collection_id": "c"})
    assert store.query("products_by_collection", {"collection_id": "c"}) == []


def test_get_many_keeps_key_order_and_skips_missing(store):
    store.put_many("products", [product(f"p{i}") for i in range(5)])
    got = store.get_many("products", [{"id": "p3"}, {"id": "missing"}, {"id": "p0"}])
    assert [r["id"] for r in got] == ["p3", "p0"]


def test_scan_pages_through_the_whole_table_and_resumes_from_a_cursor(store):
    store.put_many("products", [product(f"p{i:03d}") for i in range(57)])
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = store.scan("products", page_size=10, cursor=cursor)
        seen += [r["id"] for r in rows]
        pages += 1
        if cursor is None:
            break
    assert sorted(seen) == [f"p{i:03d}" for i in range(57)]
    assert len(seen) == 57 and pages >= 6


def test_every_declared_table_is_usable(store):
    """Each table accepts a row with its key and answers its partition query."""
    for table in TABLES.values():
        row = {}
        counters = [name for name, col in table.columns.items() if col.value == "counter"]
        for name, col in table.columns.items():
            if name not in counters:
                row[name] = {"text": "x", "int": 1, "bool": True, "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
                             "text_list": ["a"], "json": {"a": 1}}[col.value]
        if counters:  # a counter table (Cassandra) takes increments only
            assert store.increment(table.name, row, counters[0]) == 1, table.name
        else:
            store.put(table.name, row)
        partition = {k: row[k] for k in table.partition_key}
        assert store.query(table.name, partition), table.name
