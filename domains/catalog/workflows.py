"""The search reindex as a durable workflow: build a new generation aside, then switch."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from .activities import CatalogActivities
    from .messages import IndexPageInput, ReindexInput, ReindexStage, ReindexStatus

_QUICK = ActivityOptions(start_to_close_timeout=timedelta(minutes=2),
                         retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)))


@workflow.defn
class ReindexCatalog:
    def __init__(self) -> None:
        self.status = ReindexStatus(stage=ReindexStage.STARTING)

    @workflow.query
    def progress(self) -> ReindexStatus:
        return self.status

    @workflow.run
    async def run(self, params: ReindexInput) -> ReindexStatus:
        self.status.total = await workflow.execute_activity_method(CatalogActivities.count_products, **_QUICK)
        generation = await workflow.execute_activity_method(CatalogActivities.begin_rebuild, **_QUICK)
        self.status.generation = generation
        self.status.stage = ReindexStage.INDEXING
        result = await workflow.execute_activity_method(
            CatalogActivities.index_products,
            IndexPageInput(generation=generation, page_size=params.page_size,
                           page_delay_seconds=params.page_delay_seconds),
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(seconds=params.heartbeat_timeout_seconds),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)),
        )
        self.status.indexed = result.indexed
        self.status.resumed_from = result.resumed_from
        self.status.stage = ReindexStage.SWITCHING
        await workflow.execute_activity_method(CatalogActivities.finish_rebuild, generation, **_QUICK)
        self.status.stage = ReindexStage.DONE
        return self.status
