"""Temporal operations reads for the ops pages: plain async functions over a `temporalio.client.Client`,
returning dataclasses, no Django (they were storefront/admin_panel/ops_data.py).

`common` (status names, time helpers), `queues` (pollers, backlog), `workflows` (visibility lists),
`history` (one workflow in depth), `cluster` (the server's own health), `overview` (the first screen:
queues and recent workflows at once)."""

from __future__ import annotations

from .cluster import ClusterHealth, cluster_health
from .common import MAX_EVENTS, PAYLOAD_CHARS, STALE_AFTER, STATUSES, WINDOW, BadFilter, age_text
from .history import (
    SECRET_KEYS,
    EventRow,
    PendingActivity,
    PendingChild,
    PendingTimer,
    WorkflowDetail,
    event_kind,
    failure_text,
    history_events,
    payload_text,
    payloads_text,
    pending_timers,
    readable_history,
    redacted,
    workflow_detail,
)
from .overview import overview
from .queues import Poller, QueueHealth, QueueWorkers, closed_counts, queue_health, queue_workers, queues_health
from .workflows import WorkflowFilter, WorkflowPage, WorkflowRow, recent_workflows

__all__ = [
    "MAX_EVENTS",
    "PAYLOAD_CHARS",
    "SECRET_KEYS",
    "STALE_AFTER",
    "STATUSES",
    "WINDOW",
    "BadFilter",
    "ClusterHealth",
    "EventRow",
    "PendingActivity",
    "PendingChild",
    "PendingTimer",
    "Poller",
    "QueueHealth",
    "QueueWorkers",
    "WorkflowDetail",
    "WorkflowFilter",
    "WorkflowPage",
    "WorkflowRow",
    "age_text",
    "closed_counts",
    "cluster_health",
    "event_kind",
    "failure_text",
    "history_events",
    "overview",
    "payload_text",
    "payloads_text",
    "pending_timers",
    "queue_health",
    "queue_workers",
    "queues_health",
    "readable_history",
    "recent_workflows",
    "redacted",
    "workflow_detail",
]
