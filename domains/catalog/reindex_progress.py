"""The latest catalog reindex as staff see it: state, progress and who started it.

A finished rebuild is read from its result (in the history: no worker needed); a running
one from its progress query plus the indexing activity's heartbeat (`client.reindex_status`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from .client import reindex_status
from .ids import REINDEX_WORKFLOW_ID
from .messages import ReindexStatus
from .workflows import ReindexCatalog


@dataclass(frozen=True)
class ReindexProgress:
    state: str  # running | completed | failed | terminated | cancelled | timed_out
    stage: str | None  # starting | indexing | switching | done
    indexed: int
    total: int | None
    generation: str | None
    started_at: datetime | None
    closed_at: datetime | None
    started_by: str | None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def percent(self) -> int:
        if self.stage == "done":
            return 100
        return min(99, int(100 * self.indexed / self.total)) if self.total else 0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "running": self.running, "percent": self.percent,
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "closed_at": self.closed_at.isoformat() if self.closed_at else None}


async def latest_reindex(client: Client) -> ReindexProgress | None:
    """The latest reindex, or None when there never was one."""
    # annotated: mypy cannot infer the handle's types from the SDK's union of method shapes
    handle: WorkflowHandle[ReindexCatalog, ReindexStatus] = client.get_workflow_handle_for(
        ReindexCatalog.run, REINDEX_WORKFLOW_ID)
    try:
        description = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None  # never run
        raise
    state = description.status or WorkflowExecutionStatus.RUNNING
    status: ReindexStatus | None = None
    if state == WorkflowExecutionStatus.RUNNING:
        status = await reindex_status(client, handle)
    elif state == WorkflowExecutionStatus.COMPLETED:
        status = await handle.result()
    return ReindexProgress(
        state=state.name.lower(), stage=status.stage.value if status else None,
        indexed=status.indexed if status else 0, total=status.total if status else None,
        generation=status.generation if status else None, started_at=description.start_time,
        closed_at=description.close_time, started_by=await description.memo_value("started_by", None))
