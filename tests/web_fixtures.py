"""Every domain's workers behind Django, for the web, admin and identity tests."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

# --- orders: real workflows behind the order pages and API --------------------------------

SLOW_FULFILLMENT = {"stage_seconds": 3600}  # orders stay in fulfillment (cancellable) for the test


@pytest.fixture
async def orders_web(temporal_env, tmp_path, small_catalog):
    """Every domain's workers on the dev server, an embedded store with stock, and Django
    pointed at both. Fulfillment stages last an hour unless a test writes other settings."""
    from projections.orders.sqlite_index import SqliteOrderIndex

    from .embedded import load_embedded
    from .shop_harness import running_shop

    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    store.put("settings", {"name": "fulfillment", "value": SLOW_FULFILLMENT, "updated_by": "test"})
    # where Django's `services.order_index()` opens it, so the admin reads what the workers write
    order_index = SqliteOrderIndex(tmp_path / "orders_index.sqlite3")
    async with running_shop(temporal_env.client, store, index, order_index) as running:
        with django_pointed_at(running, tmp_path):
            yield running


@contextmanager
def django_pointed_at(running, data_dir):
    """Django's services on this test's embedded store (in `data_dir`) and Temporal namespace,
    for as long as the block runs."""
    import dataclasses

    from django.conf import settings

    from infra.config import load_config
    from storefront import services

    target = running.client.service_client.config.target_host
    config = dataclasses.replace(load_config(), data_dir=data_dir, store_backend="sqlite", search_backend="sqlite",
                                 temporal_address=target, temporal_namespace=running.client.namespace)
    previous, settings.COMMERCE = settings.COMMERCE, config
    services.reset()
    try:
        yield
    finally:
        settings.COMMERCE = previous
        services.reset()


@pytest.fixture
def order_variant(small_catalog):
    """An available variant (20 units of its blank SKU in `orders_web`)."""
    return next(v for v in small_catalog.variants if v.available)
