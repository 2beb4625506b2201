"""The cheapest entity workflow (one update returning a number): the bench's floor."""

from temporalio import workflow


@workflow.defn
class Floor:
    def __init__(self) -> None:
        self.n = 0

    @workflow.update
    def bump(self, by: int) -> int:
        self.n += by
        return self.n

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)
