from __future__ import annotations

import dataclasses

import pytest
from django.conf import settings

from infra.config import load_config
from storefront import services

from ..embedded import load_embedded
from ..shop_harness import running_shop


@pytest.fixture
async def shop(temporal_env, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    store.put("coupons", {"code": "WELCOME10", "percent_off": 10, "amount_off": 0, "minimum_subtotal": 0,
                          "description": "10% off", "active": True})
    async with running_shop(temporal_env.client, store, index) as running:
        yield running


@pytest.fixture
def variant(small_catalog):
    """The first variant the catalog offers (20 units of its blank SKU in the `shop` fixture)."""
    return next(v for v in small_catalog.variants if v.available)


@pytest.fixture
def api(shop, temporal_env, tmp_path):
    """Django pointed at this test's store and Temporal namespace."""
    config = dataclasses.replace(load_config(), data_dir=tmp_path, store_backend="sqlite", search_backend="sqlite",
                                 temporal_address=temporal_env.target, temporal_namespace=temporal_env.namespace)
    previous, settings.COMMERCE = settings.COMMERCE, config
    services.reset()
    yield shop
    settings.COMMERCE = previous
    services.reset()


