"""Stock projected by the inventory service reaches the store and product availability."""

from __future__ import annotations

from domains.catalog.reads import product_detail
from domains.inventory.activities import InventoryActivities
from domains.inventory.messages import StockLevel
from projections.search import SearchQuery

from ..embedded import load_embedded


def test_sold_out_blank_skus_make_every_product_using_them_unavailable(tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=5)

    sku = small_catalog.variants[0].blank_sku
    sharing = sorted({v.product_id for v in small_catalog.variants if v.blank_sku == sku})
    sold_out = StockLevel(sku=sku, on_hand=5, reserved=2, committed=3, available=0)
    assert InventoryActivities(store, index).project_stock([sold_out]) == len(sharing)

    assert store.get("stock", {"sku": sku})["available"] == 0
    for pid in sharing:
        detail = product_detail(store, pid)
        assert all(not v.available for v in detail.variants if v.blank_sku == sku)
    variant = small_catalog.variants[0]
    hits = index.search(SearchQuery(colors=[variant.color], sizes=[variant.size], in_stock=True, page_size=100))
    # a product whose only (colour, size) variant uses that SKU no longer matches in_stock
    assert variant.product_id not in {h.id for h in hits.hits}


def test_the_stock_row_carries_locations_and_the_backorder_and_preorder_policy(tmp_path, small_catalog):
    from datetime import UTC, datetime

    from domains.inventory.messages import LocationLevel

    store, index = load_embedded(tmp_path, small_catalog, stock=5)
    sku = small_catalog.variants[0].blank_sku
    until = datetime(2027, 3, 1, tzinfo=UTC)
    level = StockLevel(sku=sku, on_hand=7, reserved=0, committed=9, available=-2, backorder_limit=4,
                       preorder_until=until, waiting=2,
                       locations=[LocationLevel(location="east", on_hand=5, committed=5, available=0),
                                  LocationLevel(location="west", on_hand=2, committed=2, available=0)])
    InventoryActivities(store, index).project_stock([level])
    row = store.get("stock", {"sku": sku})
    assert (row["available"], row["backorder_limit"], row["preorder_until"], row["waiting"]) == (-2, 4, until, 2)
    assert [(loc["location"], loc["on_hand"]) for loc in row["locations"]] == [("east", 5), ("west", 2)]
