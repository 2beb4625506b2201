"""A shop on the dev server (each test leases a namespace) with every worker, the webhooks'
too, and a real receiver per test. Tests reach the receiver on loopback, so they allow
private addresses (COMMERCE_WEBHOOKS_ALLOW_PRIVATE=1) unless they test the refusal."""

from __future__ import annotations

import pytest

from ..embedded import load_embedded
from ..orders.conftest import STOCK, OrderShop, _RealTime
from ..shop_harness import running_shop
from .receiver import Receiver


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setenv("COMMERCE_WEBHOOKS_ALLOW_PRIVATE", "1")


@pytest.fixture
async def webhook_shop(allow_private, temporal_env, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(temporal_env.client, store, index) as shop:
        yield OrderShop(env=_RealTime(), client=temporal_env.client, store=store, shop=shop, catalog=small_catalog)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()
    assert not started.invalid, f"bodies that do not fit the published schema: {started.invalid}"
