"""A stand-in for the order workflow in inventory tests: it keeps every `stock_allocated` signal
the inventory sends it (the payload as received), for a query."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domains.inventory.messages import StockAllocated


@workflow.defn
class AllocationListener:
    def __init__(self) -> None:
        self.received: list[StockAllocated] = []

    @workflow.signal
    def stock_allocated(self, allocated: StockAllocated) -> None:
        self.received.append(allocated)

    @workflow.query
    def signals(self) -> list[StockAllocated]:
        return self.received

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)
