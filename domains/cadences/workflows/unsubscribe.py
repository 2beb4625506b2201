"""One workflow per contact that unsubscribes: ends every enrollment of the contact."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ..activities import CadenceActivities
    from ..messages import (
        Unsubscribe,
        UnsubscribeResult,
    )

from .common import PROPAGATE, SETTLE, STORE


@workflow.defn
class UnsubscribeWorkflow:
    """Started with update-with-start: the update returns once the unsubscribe is recorded
    (every later send checks it), and the run then ends the contact's running enrollments,
    twice, because an enrollment started just before may not be listed yet."""

    @workflow.init
    def __init__(self, request: Unsubscribe) -> None:
        self.request = request
        self.result: UnsubscribeResult | None = None

    @workflow.update
    async def record(self, request: Unsubscribe) -> UnsubscribeResult:
        if self.result is None:
            self.result = await workflow.execute_activity_method(
                CadenceActivities.record_unsubscribe, request, **STORE)
        return self.result

    @workflow.run
    async def run(self, request: Unsubscribe) -> UnsubscribeResult:
        await workflow.wait_condition(lambda: self.result is not None)
        assert self.result is not None
        for sweep in range(2):
            if sweep:
                await workflow.sleep(SETTLE)
            self.result.enrollments_ended += await workflow.execute_activity_method(
                CadenceActivities.end_enrollments, args=[self.result.contact_id, f"unsubscribe:{request.source}"],
                **PROPAGATE)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.result
