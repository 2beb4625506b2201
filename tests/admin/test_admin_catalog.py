"""Admin catalog page and its reindex through Django's test client, signed in for real,
against real workflows (the `orders_web` shop)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.worker import Worker

from domains.catalog.queue import TASK_QUEUE as CATALOG_QUEUE
from workers.registry import QUEUES, Dependencies

from ..web.accounts import staff_browser
from ..web.orders_helpers import eventually, run
from .page_helpers import page

pytestmark = pytest.mark.usefixtures("orders_web")  # Django reads the order index the workers write


async def test_a_manager_reindexes_the_catalog_and_watches_it_finish(orders_web, small_catalog):
    manager = await run(staff_browser, orders_web, "manager")
    support = await run(staff_browser, orders_web, "support")
    assert (await run(support.post, "/admin/catalog/reindex")).status_code == 403

    product = small_catalog.products[0]
    found = await page(manager, f"/admin/catalog/?q={product.name}")
    assert found.find("tr", data_product=product.id) is not None

    # the shop harness runs no catalog worker; this test runs one, as `make run` does
    deps = Dependencies(store=orders_web.store, index=orders_web.index, client=orders_web.client)
    spec = QUEUES[CATALOG_QUEUE](deps)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(orders_web.client, task_queue=CATALOG_QUEUE, workflows=spec.workflows,
                          activities=spec.activities, activity_executor=executor):
            started = await run(manager.post, "/admin/catalog/reindex")
            assert started.status_code == 302 and started["Location"] == "/admin/catalog/"

            async def status():
                return (await run(manager.get, "/admin/catalog/reindex/status")).json()["reindex"]

            done = await eventually(status, lambda s: s and not s["running"], seconds=60)
            assert done["state"] == "completed" and done["stage"] == "done" and done["percent"] == 100
            assert done["indexed"] == done["total"] == len(small_catalog.products)
            assert done["started_by"] == f"staff:{manager.staff_email}"
            doc = await page(manager, "/admin/catalog/")
            assert doc.one(id="reindex").get("data-state") == "completed"
            assert done["generation"] in doc.one(id="reindex").text
