"""Which workflows and activities each task queue runs.

A domain contributes one entry; `python -m workers --queues a,b` runs a subset so queues
can be scaled apart. Dependencies (store, index) are opened once per process and shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from domains.store import Store
from projections.search import ProductIndex


@dataclass(frozen=True)
class Dependencies:
    store: Store
    index: ProductIndex
    client: Client  # activities that talk to other workflows (inventory, orders) use it


@dataclass(frozen=True)
class QueueSpec:
    workflows: list[type]
    activities: list[Callable[..., Any]]


def _catalog(deps: Dependencies) -> QueueSpec:
    from domains.catalog.activities import CatalogActivities
    from domains.catalog.workflows import ReindexCatalog

    acts = CatalogActivities(deps.store, deps.index)
    return QueueSpec(
        workflows=[ReindexCatalog],
        activities=[acts.count_products, acts.begin_rebuild, acts.index_products, acts.finish_rebuild],
    )


def _inventory(deps: Dependencies) -> QueueSpec:
    from domains.inventory.activities import InventoryActivities
    from domains.inventory.workflows import InventoryService

    acts = InventoryActivities(deps.store, deps.index)
    return QueueSpec(workflows=[InventoryService], activities=[acts.load_stock, acts.project_stock])


def _cart(deps: Dependencies) -> QueueSpec:
    from domains.cart.activities import CartActivities
    from domains.cart.workflows import CartWorkflow

    acts = CartActivities(deps.store, deps.client)
    return QueueSpec(workflows=[CartWorkflow], activities=[
        acts.variant_info, acts.find_coupon, acts.hold_stock, acts.transfer_stock, acts.renew_stock,
        acts.release_stock, acts.record_event])


def _checkout(deps: Dependencies) -> QueueSpec:
    from domains.checkout.activities import CheckoutActivities
    from domains.checkout.workflows import CheckoutWorkflow

    acts = CheckoutActivities(deps.store, deps.client)
    return QueueSpec(workflows=[CheckoutWorkflow], activities=[
        acts.quote, acts.charge, acts.refund, acts.confirm_stock, acts.cancel_stock, acts.release_stock,
        acts.create_order, acts.start_order])


def _orders(deps: Dependencies) -> QueueSpec:
    from domains.orders.workflows import OrderWorkflow

    return QueueSpec(workflows=[OrderWorkflow], activities=[])


def _queue_name(module: str) -> str:
    from importlib import import_module

    return import_module(f"domains.{module}.queue").TASK_QUEUE


# task queue -> how to build what runs on it
QUEUES: dict[str, Callable[[Dependencies], QueueSpec]] = {
    _queue_name("catalog"): _catalog,
    _queue_name("inventory"): _inventory,
    _queue_name("cart"): _cart,
    _queue_name("checkout"): _checkout,
    _queue_name("orders"): _orders,
}
