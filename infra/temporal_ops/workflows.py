"""Workflow lists from Temporal visibility, filtered and paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from .common import (
    STATUSES,
    BadFilter,
    _quoted,
    _status_name,
)

# --- the list of workflows ------------------------------------------------------------

@dataclass(frozen=True)
class WorkflowFilter:
    queues: Sequence[str] = ()
    status: str = ""
    workflow_type: str = ""
    id_prefix: str = ""

    def query(self) -> str:
        """The visibility query for these filters; BadFilter for a value it cannot hold."""
        parts = []
        if self.queues:
            parts.append("(" + " OR ".join(f"TaskQueue={_quoted('queue', q)}" for q in self.queues) + ")")
        if self.status:
            if self.status not in STATUSES:
                raise BadFilter(f"status must be one of {', '.join(STATUSES)} (got {self.status!r})")
            parts.append(f"ExecutionStatus='{self.status}'")
        if self.workflow_type:
            parts.append(f"WorkflowType={_quoted('workflow type', self.workflow_type)}")
        if self.id_prefix:
            parts.append(f"WorkflowId STARTS_WITH {_quoted('workflow id', self.id_prefix)}")
        return " AND ".join(parts)


@dataclass(frozen=True)
class WorkflowRow:
    id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: str
    start_time: datetime | None
    close_time: datetime | None
    history_length: int


@dataclass
class WorkflowPage:
    rows: list[WorkflowRow]
    next_page_token: bytes | None  # for the next (older) page, when there is one


async def recent_workflows(client: Client, filters: WorkflowFilter = WorkflowFilter(), *, limit: int = 50,
                           page_token: bytes | None = None) -> WorkflowPage:
    """One page of workflows matching `filters`: running ones first, then the most recently closed
    (visibility's own order)."""
    pages = client.list_workflows(filters.query() or None, page_size=limit, next_page_token=page_token)
    try:
        await pages.fetch_next_page()
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:  # e.g. a page token from another query
            raise BadFilter(exc.message) from None
        raise
    rows = [WorkflowRow(
        id=w.id, run_id=w.run_id, workflow_type=w.workflow_type, task_queue=w.task_queue,
        status=_status_name(w.status) if w.status else "Unknown", start_time=w.start_time,
        close_time=w.close_time, history_length=w.history_length) for w in pages.current_page or []]
    return WorkflowPage(rows, pages.next_page_token)


