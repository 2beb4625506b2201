"""Small workflows the operations data tests inspect: one of each thing the page shows
(an activity done, one pending and failing, a child, a timer, a signal, an update) and one
that fails."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

DECLINED = "the gateway said no"


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@activity.defn
async def charge(amount: int) -> str:
    raise ApplicationError(DECLINED, type="Declined")


@workflow.defn
class Napping:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(hours=2))


@workflow.defn
class Busy:
    def __init__(self) -> None:
        self.total = 0

    @workflow.signal
    def nudge(self, by: int) -> None:
        self.total += by

    @workflow.update
    def bump(self, by: int) -> int:
        self.total += by
        return self.total

    @workflow.run
    async def run(self, name: str) -> None:
        await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))
        await workflow.start_child_workflow(Napping.run, id=f"{workflow.info().workflow_id}-child")
        # retried a minute later: it stays pending, with its last failure, for the test
        workflow.start_activity(charge, 1250, start_to_close_timeout=timedelta(seconds=10),
                                retry_policy=RetryPolicy(initial_interval=timedelta(minutes=1)))
        await workflow.sleep(timedelta(hours=1, minutes=30))


@workflow.defn
class Broken:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("the order book is on fire", type="Fire", non_retryable=True)
