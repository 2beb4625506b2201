"""Task queues as Temporal describes them: pollers, backlog, recent counts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import (
    TaskQueueKind,
    TaskQueueType,
)
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, DescribeTaskQueueResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from .common import (
    STALE_AFTER,
    STATUSES,
    WINDOW,
    _quoted,
    _rfc3339,
    _time,
    age_text,
)

# --- task queues ----------------------------------------------------------------------

@dataclass(frozen=True)
class Poller:
    kind: str  # "workflow" or "activity"
    identity: str
    last_access: datetime | None
    stale: bool = False  # not seen for STALE_AFTER: probably stopped
    seconds_ago: int | None = None  # since its last poll, when the page was read

    @property
    def ago(self) -> str:
        return "never" if self.seconds_ago is None else f"{age_text(timedelta(seconds=self.seconds_ago))} ago"


@dataclass
class QueueHealth:
    name: str
    running: int
    completed: int  # closed within the window
    failed: int  # failed or timed out within the window
    other_closed: int  # cancelled, terminated, continued as new within the window
    pollers: list[Poller] = field(default_factory=list)
    backlog: int = 0  # tasks waiting for a worker (workflow and activity tasks, approximate)
    backlog_age: timedelta = timedelta(0)  # how long the oldest of them has waited

    @property
    def backlog_waited(self) -> str:
        return age_text(self.backlog_age)

    def pollers_of(self, kind: str) -> list[Poller]:
        return [p for p in self.pollers if p.kind == kind]

    @property
    def live_pollers(self) -> list[Poller]:
        return [p for p in self.pollers if not p.stale]

    @property
    def workflow_pollers(self) -> list[Poller]:
        return self.pollers_of("workflow")

    @property
    def activity_pollers(self) -> list[Poller]:
        return self.pollers_of("activity")

    @property
    def no_worker(self) -> bool:
        """No live worker polls this queue: its workflows and activities cannot progress."""
        return not self.live_pollers

    @property
    def missing(self) -> list[str]:
        """Which kinds of task no live worker polls for (a worker polls both, so one alone is odd)."""
        return [kind for kind in ("workflow", "activity") if not any(p.kind == kind for p in self.live_pollers)]


_QUEUE_TYPES = {"workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}


@dataclass
class QueueWorkers:
    pollers: list[Poller]
    backlog: int
    backlog_age: timedelta


async def queue_workers(client: Client, queue: str, *, now: datetime | None = None) -> QueueWorkers:
    """Workers that polled `queue` recently (the server keeps a few minutes), both task types,
    and the tasks waiting for them."""
    now = now or datetime.now(UTC)

    def poller(kind: str, info: PollerInfo) -> Poller:
        seen = _time(info.last_access_time)
        return Poller(kind, info.identity, seen, stale=seen is None or now - seen > STALE_AFTER,
                      seconds_ago=max(0, int((now - seen).total_seconds())) if seen else None)

    async def of(kind: str) -> tuple[str, DescribeTaskQueueResponse]:
        return kind, await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue_type=_QUEUE_TYPES[kind], report_stats=True,
            task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL)))

    described = await asyncio.gather(of("workflow"), of("activity"))
    return QueueWorkers(
        pollers=[poller(kind, p) for kind, response in described for p in response.pollers],
        backlog=sum(r.stats.approximate_backlog_count for _, r in described),
        backlog_age=max(r.stats.approximate_backlog_age.ToTimedelta() for _, r in described))


async def closed_counts(client: Client, queue: str, since: datetime) -> dict[str, int]:
    """Status -> how many of the queue's workflows closed after `since`.

    One GROUP BY query when the visibility store supports it (the dev server's SQLite and
    Elasticsearch both do); otherwise one count per status.
    """
    base = f"TaskQueue={_quoted('queue', queue)} AND CloseTime > '{_rfc3339(since)}'"
    try:
        result = await client.count_workflows(f"{base} GROUP BY ExecutionStatus")
        return {str(g.group_values[0]): g.count for g in result.groups}
    except RPCError as exc:
        if exc.status not in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.UNIMPLEMENTED):
            raise
    closed = [s for s in STATUSES if s != "Running"]
    counts = await asyncio.gather(*(client.count_workflows(f"{base} AND ExecutionStatus='{s}'") for s in closed))
    return {s: c.count for s, c in zip(closed, counts, strict=True)}


async def queue_health(client: Client, queue: str, *, now: datetime | None = None,
                       window: timedelta = WINDOW) -> QueueHealth:
    now = now or datetime.now(UTC)
    running, closed, workers = await asyncio.gather(
        client.count_workflows(f"TaskQueue={_quoted('queue', queue)} AND ExecutionStatus='Running'"),
        closed_counts(client, queue, now - window),
        queue_workers(client, queue, now=now))
    return QueueHealth(
        name=queue, running=running.count, completed=closed.get("Completed", 0),
        failed=closed.get("Failed", 0) + closed.get("TimedOut", 0),
        other_closed=sum(n for s, n in closed.items() if s not in ("Completed", "Failed", "TimedOut")),
        pollers=workers.pollers, backlog=workers.backlog, backlog_age=workers.backlog_age)


async def queues_health(client: Client, queues: Iterable[str], *, now: datetime | None = None,
                        window: timedelta = WINDOW) -> list[QueueHealth]:
    """Every queue at once (each is a few RPCs; they run concurrently)."""
    now = now or datetime.now(UTC)
    return list(await asyncio.gather(*(queue_health(client, q, now=now, window=window) for q in queues)))


