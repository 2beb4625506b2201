"""Which workflows and activities each task queue runs.

A domain contributes one entry; `python -m workers --queues a,b` runs a subset so queues
can be scaled apart. Dependencies (store, index) are opened once per process and shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domains.store import Store
from projections.search import ProductIndex


@dataclass(frozen=True)
class Dependencies:
    store: Store
    index: ProductIndex


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


def _queue_name(module: str) -> str:
    from importlib import import_module

    return import_module(f"domains.{module}.queue").TASK_QUEUE


# task queue -> how to build what runs on it
QUEUES: dict[str, Callable[[Dependencies], QueueSpec]] = {
    _queue_name("catalog"): _catalog,
    _queue_name("inventory"): _inventory,
}
