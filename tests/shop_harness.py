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

from domains.cart.activities import CartActivities
from domains.cart.queue import TASK_QUEUE as CART_QUEUE
from domains.cart.workflows import CartWorkflow
from domains.checkout.activities import CheckoutActivities
from domains.checkout.queue import TASK_QUEUE as CHECKOUT_QUEUE
from domains.checkout.workflows import CheckoutWorkflow
from domains.inventory.activities import InventoryActivities
from domains.inventory.workflows import InventoryService
from domains.orders.queue import TASK_QUEUE as ORDERS_QUEUE
from domains.orders.workflows import OrderWorkflow


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
    inv = InventoryActivities(store, index)
    cart = CartActivities(store, client, inventory)
    checkout = CheckoutActivities(store, client, inventory)
    common = {"activity_executor": executor}
    return [
        Worker(client, task_queue=inventory["task_queue"], workflows=[InventoryService],
               activities=[inv.load_stock, inv.project_stock], **common),
        Worker(client, task_queue=CART_QUEUE, workflows=[CartWorkflow], activities=[
            cart.variant_info, cart.find_coupon, cart.hold_stock, cart.transfer_stock, cart.renew_stock,
            cart.release_stock, cart.record_event], **common),
        Worker(client, task_queue=CHECKOUT_QUEUE, workflows=[CheckoutWorkflow], activities=[
            checkout.quote, checkout.charge, checkout.refund, checkout.confirm_stock, checkout.cancel_stock,
            checkout.release_stock, checkout.create_order, checkout.start_order], **common),
        Worker(client, task_queue=ORDERS_QUEUE, workflows=[OrderWorkflow], activities=[], **common),
    ]


@asynccontextmanager
async def running_shop(client: Client, store, index):
    suffix = uuid.uuid4().hex[:8]
    inventory = {"workflow_id": f"inventory-{suffix}", "task_queue": f"inventory-{suffix}"}
    with ThreadPoolExecutor(8) as executor:
        async with AsyncExitStack() as stack:
            for worker in workers_for(client, store, index, inventory, executor):
                await stack.enter_async_context(worker)
            yield Shop(client=client, store=store, index=index, inventory=inventory)
