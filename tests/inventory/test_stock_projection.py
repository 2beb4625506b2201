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
