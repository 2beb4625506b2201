"""What Django and the CLI call to run and watch a reindex (Temporal only, no store access)."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from .ids import REINDEX_WORKFLOW_ID
from .messages import IndexProgress, ReindexInput, ReindexStatus
from .queue import TASK_QUEUE
from .workflows import ReindexCatalog


async def start_reindex(client: Client, params: ReindexInput | None = None, *,
                        started_by: str | None = None) -> WorkflowHandle:
    """Starts a rebuild, or attaches to the one already running. `started_by` (an actor) goes in
    the workflow's memo, so whoever looks at the rebuild sees who asked for it."""
    return await client.start_workflow(
        ReindexCatalog.run,
        params or ReindexInput(),
        id=REINDEX_WORKFLOW_ID,
        task_queue=TASK_QUEUE,
        memo={"started_by": started_by} if started_by else None,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )


async def reindex_status(client: Client, handle: WorkflowHandle | None = None) -> ReindexStatus | None:
    """The workflow's own status, with the live count from the indexing activity's heartbeat."""
    handle = handle or client.get_workflow_handle(REINDEX_WORKFLOW_ID)
    try:
        status = await handle.query(ReindexCatalog.progress)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.heartbeat_details.payloads:
            (details,) = await client.data_converter.decode(pending.heartbeat_details.payloads, [IndexProgress])
            status.indexed = max(status.indexed, details.indexed)
    return status
