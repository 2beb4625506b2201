"""One delivery workflow per (endpoint, ordering key): it delivers that key's events one after
another, so an order's events reach a receiver in the order they happened.

Events arrive by signal (`enqueue`, sent with signal-with-start by the emitting activity); an
event already taken is dropped unless it is a redelivery. Each delivery is one activity with a
timeout per attempt and exponential backoff for up to three days; a 410 or a refused address is
not retried. The workflow continues as new every `BATCH` events (carrying what is queued and the
recent ids), and ends after `IDLE` without events: the next event starts it again."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from .activities import ATTEMPT_TIMEOUT_SECONDS, WebhookActivities
    from .errors import WebhookErrorCode
    from .messages import DeliveryInput, DeliveryRequest, Enqueued
    from .retention import PruneRequest, PruneResult

ENQUEUE = "enqueue"
BATCH = 100  # events per run before continuing as new
RECENT = 500  # event ids remembered against duplicate emissions
IDLE = timedelta(minutes=10)
DELIVERY_WINDOW = timedelta(days=3)

DELIVERY: ActivityOptions = {
    "start_to_close_timeout": timedelta(seconds=ATTEMPT_TIMEOUT_SECONDS + 5),  # a lost worker's attempt is retried
    "schedule_to_close_timeout": DELIVERY_WINDOW,
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                maximum_interval=timedelta(hours=2),
                                non_retryable_error_types=[WebhookErrorCode.ENDPOINT_GONE,
                                                           WebhookErrorCode.ADDRESS_REFUSED,
                                                           WebhookErrorCode.ENDPOINT_DISABLED,
                                                           WebhookErrorCode.EVENT_NOT_FOUND]),
}
BOOKKEEPING: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30)}


@workflow.defn
class DeliveryWorkflow:
    @workflow.init
    def __init__(self, params: DeliveryInput) -> None:
        self.queue: list[Enqueued] = list(params.pending)
        self.recent: list[str] = list(params.recent)

    @workflow.signal(name=ENQUEUE)
    def enqueue(self, item: Enqueued) -> None:
        if not item.redeliver and (item.event_id in self.recent
                                   or any(q.event_id == item.event_id for q in self.queue)):
            return  # emitted again by a retried activity
        self.queue.append(item)
        if not item.redeliver:
            self.recent = [*self.recent, item.event_id][-RECENT:]

    @workflow.query
    def pending(self) -> list[str]:
        return [item.event_id for item in self.queue]

    @workflow.run
    async def run(self, params: DeliveryInput) -> int:
        delivered = handled = 0
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self.queue), timeout=IDLE)
            except TimeoutError:
                if not self.queue:
                    return delivered
            item = self.queue.pop(0)
            request = DeliveryRequest(endpoint_id=params.endpoint_id, event_id=item.event_id,
                                      redeliver=item.redeliver)
            try:
                await workflow.execute_activity_method(WebhookActivities.deliver, request, **DELIVERY)
                delivered += 1
            except ActivityError:
                await workflow.execute_activity_method(WebhookActivities.give_up, request, **BOOKKEEPING)
            handled += 1
            if handled >= BATCH or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(DeliveryInput(endpoint_id=params.endpoint_id,
                                                       ordering_key=params.ordering_key,
                                                       pending=self.queue, recent=self.recent))


PRUNE: ActivityOptions = {"start_to_close_timeout": timedelta(hours=1),
                          "retry_policy": RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=10))}


@workflow.defn
class PruneWorkflow:
    """One retention pass, started by the `webhooks-prune` schedule (daily)."""

    @workflow.run
    async def run(self, request: PruneRequest) -> PruneResult:
        return await workflow.execute_activity_method(WebhookActivities.prune, request, **PRUNE)
