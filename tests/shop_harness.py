"""Workers for the cart, checkout, orders and inventory queues, in this test process.

The inventory service gets its own workflow id and queue per test, so tests never share
stock; carts use fresh ids. Everything else is the production wiring.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from domains.cart.queue import TASK_QUEUE as CART_QUEUE
from domains.checkout.queue import TASK_QUEUE as CHECKOUT_QUEUE
from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from domains.orders.queue import TASK_QUEUE as ORDERS_QUEUE
from workers.registry import QUEUES, Dependencies


@dataclass
class Shop:
    client: Client
    store: object
    index: object
    inventory: dict  # workflow_id / task_queue of this test's inventory service

    @staticmethod
    def new_cart_id() -> str:
        return uuid.uuid4().hex[:16]


def workers_for(client: Client, store, index, inventory: dict, executor) -> list[Worker]:
    """The production registry's queues; only the inventory service moves to its own queue."""
    deps = Dependencies(store=store, index=index, client=client, inventory=inventory)
    workers = []
    for queue in (INVENTORY_QUEUE, CART_QUEUE, CHECKOUT_QUEUE, ORDERS_QUEUE):
        spec = QUEUES[queue](deps)
        workers.append(Worker(client, task_queue=inventory["task_queue"] if queue == INVENTORY_QUEUE else queue,
                              workflows=spec.workflows, activities=spec.activities, activity_executor=executor))
    return workers


@asynccontextmanager
async def running_shop(client: Client, store, index):
    suffix = uuid.uuid4().hex[:8]
    inventory = {"workflow_id": f"inventory-{suffix}", "task_queue": f"inventory-{suffix}"}
    with ThreadPoolExecutor(8) as executor:
        async with AsyncExitStack() as stack:
            for worker in workers_for(client, store, index, inventory, executor):
                await stack.enter_async_context(worker)
            yield Shop(client=client, store=store, index=index, inventory=inventory)
