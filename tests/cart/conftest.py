from __future__ import annotations

import pytest

from domains.catalog.loader import index_catalog, seed_stock, write_catalog
from domains.store.sqlite import SqliteStore
from projections.search.sqlite_fts import SqliteProductIndex

import dataclasses

from django.conf import settings

from domains.config import load_config
from storefront import services

from ..shop_harness import running_shop


@pytest.fixture
async def shop(temporal_env, tmp_path, small_catalog):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    index = SqliteProductIndex(tmp_path / "search.sqlite3")
    write_catalog(small_catalog, store)
    seed_stock(store, small_catalog, units=20)
    index_catalog(small_catalog, index)
    store.put("coupons", {"code": "WELCOME10", "percent_off": 10, "amount_off": 0, "minimum_subtotal": 0,
                          "description": "10% off", "active": True})
    async with running_shop(temporal_env.client, store, index) as running:
        yield running


@pytest.fixture
def variant(small_catalog):
    """An available variant whose blank SKU no other product of the catalog uses... or any available one."""
    return next(v for v in small_catalog.variants if v.available)


@pytest.fixture
def api(shop, temporal_env, tmp_path):
    """Django pointed at this test's store and Temporal server."""
    target = temporal_env.client.service_client.config.target_host
    config = dataclasses.replace(load_config(), data_dir=tmp_path, store_backend="sqlite", search_backend="sqlite",
                                 temporal_address=target)
    previous, settings.COMMERCE = settings.COMMERCE, config
    services.reset()
    yield shop
    settings.COMMERCE = previous
    services.reset()


