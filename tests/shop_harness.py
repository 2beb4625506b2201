"""Workers for every domain queue, in this test process, with the production wiring.

Tests keep apart by Temporal namespace (the client's, leased per test: tests/namespaces.py),
not by renamed queues or workflow ids; carts use fresh ids.
"""

from __future__ import annotations

import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from domains.cadences.queue import TASK_QUEUE as CADENCES_QUEUE
from domains.cart.queue import TASK_QUEUE as CART_QUEUE
from domains.checkout.queue import TASK_QUEUE as CHECKOUT_QUEUE
from domains.fulfillment.queue import TASK_QUEUE as FULFILLMENT_QUEUE
from domains.identity.queue import TASK_QUEUE as IDENTITY_QUEUE
from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from domains.orders.queue import TASK_QUEUE as ORDERS_QUEUE
from domains.returns.queue import TASK_QUEUE as RETURNS_QUEUE
from domains.webhooks.queue import TASK_QUEUE as WEBHOOKS_QUEUE
from infra.temporal import ensure_search_attributes
from projections.orders import OrderIndex
from projections.orders.sqlite_index import SqliteOrderIndex
from workers.registry import QUEUES, Dependencies


@dataclass
class Shop:
    client: Client
    store: object
    index: object
    order_index: OrderIndex

    @staticmethod
    def new_cart_id() -> str:
        return uuid.uuid4().hex[:16]


def workers_for(deps: Dependencies, executor) -> list[Worker]:
    """The production registry's queues (all but the catalog's)."""
    return [Worker(deps.client, task_queue=queue, workflows=spec.workflows,
                   activities=spec.activities, activity_executor=executor)
            for queue in (INVENTORY_QUEUE, CART_QUEUE, CHECKOUT_QUEUE, ORDERS_QUEUE, RETURNS_QUEUE, FULFILLMENT_QUEUE,
                          IDENTITY_QUEUE, CADENCES_QUEUE, WEBHOOKS_QUEUE)
            for spec in [QUEUES[queue](deps)]]


@asynccontextmanager
async def running_shop(client: Client, store, index, order_index: OrderIndex | None = None, *,
                       order_email_channel=None):
    if order_index is None:
        folder = Path(store.path).parent if hasattr(store, "path") else Path(tempfile.mkdtemp())
        order_index = SqliteOrderIndex(folder / f"orders-{uuid.uuid4().hex[:8]}.sqlite3")
    order_index.ensure()
    await ensure_search_attributes(client, client.namespace)
    deps = Dependencies(store=store, index=index, client=client, order_index=order_index,
                        order_email_channel=order_email_channel)
    with ThreadPoolExecutor(8) as executor:
        async with AsyncExitStack() as stack:
            for worker in workers_for(deps, executor):
                await stack.enter_async_context(worker)
            yield Shop(client=client, store=store, index=index, order_index=order_index)
