"""Every domain's task queue, in the order the workers start them and the ops page lists them.

The web layer reads this (the ops page) instead of the worker registry, so `storefront/` does
not import `workers/`; `workers.registry` checks that it serves exactly these queues."""

from __future__ import annotations

from .cadences.queue import TASK_QUEUE as CADENCES
from .cart.queue import TASK_QUEUE as CART
from .catalog.queue import TASK_QUEUE as CATALOG
from .checkout.queue import TASK_QUEUE as CHECKOUT
from .fulfillment.queue import TASK_QUEUE as FULFILLMENT
from .identity.queue import TASK_QUEUE as IDENTITY
from .inventory.queue import TASK_QUEUE as INVENTORY
from .orders.queue import TASK_QUEUE as ORDERS
from .returns.queue import TASK_QUEUE as RETURNS
from .webhooks.queue import TASK_QUEUE as WEBHOOKS

ALL: tuple[str, ...] = (CATALOG, INVENTORY, CART, CHECKOUT, ORDERS, RETURNS, FULFILLMENT, IDENTITY, CADENCES,
                        WEBHOOKS)
