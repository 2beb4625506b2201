"""The shard workflows' own workflow type, `InventoryShard`: the inventory service's code
(`workflows.InventoryService`) under a name the previous release's workers do not know.

Why a type of its own: during and right after the rolling release that brings the shards,
workers of the release before them still poll the `inventory` queue. A shard run started as
`InventoryService` could be taken by one of them, whose code reads the shard's start input as
the singleton's (it knows no shard fields) and seeds the shard with every SKU's stock and none
of the singleton's holds: a shard with the wrong stock, which this release's code then cannot
replay. Under a type they lack, an old worker fails the task ("not registered") without running
any of it, and the task goes to a worker of this release (docs/releases.md, From bf23359).
Shards started as `InventoryService` (none outside this release's own tests and recordings)
still run and replay on `InventoryService`.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from .messages import InventoryState

from .workflows import InventoryService

SHARD_WORKFLOW_TYPE = "InventoryShard"


@workflow.defn(name=SHARD_WORKFLOW_TYPE)
class InventoryShard(InventoryService):
    @workflow.init
    def __init__(self, state: InventoryState | None = None) -> None:
        super().__init__(state)

    @workflow.run
    async def run(self, state: InventoryState | None = None) -> None:
        await super().run(state)
