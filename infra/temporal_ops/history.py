"""One workflow in depth: its history made readable, pending work, describe."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import (
    EventType,
    PendingActivityState,
    RetryState,
    StartChildWorkflowExecutionFailedCause,
    TimeoutType,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from ..payload_codec import decode_in_place
from .common import (
    MAX_EVENTS,
    PAYLOAD_CHARS,
    BadFilter,
    _rfc3339,
    _status_name,
    _time,
)

# --- payloads and failures, readably --------------------------------------------------

def _shorten(text: str, limit: int = PAYLOAD_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Keys whose values never leave the workflow on this page: identity's updates carry password
# hashes, token hashes and reset-link hashes, and an operator of the shop needs none of them.
SECRET_KEYS = re.compile(r"password|secret|credentials|token_sha256|reset_token", re.I)


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "[redacted]" if SECRET_KEYS.search(str(k)) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def payload_text(payload: Payload, limit: int = PAYLOAD_CHARS) -> str:
    """One payload as short text: JSON compacted (secrets redacted), null as null, anything
    else by encoding and size."""
    encoding = payload.metadata.get("encoding", b"").decode(errors="replace")
    if encoding == "binary/null":
        return "null"
    if encoding.startswith("json/"):
        try:
            return _shorten(json.dumps(redacted(json.loads(payload.data)), separators=(",", ":"),
                                       ensure_ascii=False), limit)
        except ValueError:
            pass
    if encoding == "binary/plain":
        return f"<{len(payload.data)} bytes>"
    return f"<{encoding or 'unknown encoding'}, {len(payload.data)} bytes>"


def payloads_text(payloads: Payloads | None, limit: int = PAYLOAD_CHARS) -> str:
    items = list(payloads.payloads) if payloads is not None else []
    return _shorten(", ".join(payload_text(p, limit) for p in items), limit)


def failure_text(failure: Failure | None) -> str:
    """The failure's message with its type, then each cause's ("a → b")."""
    parts: list[str] = []
    seen = 0
    while failure is not None and failure.ByteSize() and seen < 5:
        kind = failure.application_failure_info.type if failure.HasField("application_failure_info") else ""
        parts.append(f"{failure.message} ({kind})" if kind else failure.message)
        failure, seen = (failure.cause if failure.HasField("cause") else None), seen + 1
    return _shorten(" → ".join(p for p in parts if p), 400)


def _duration(d: Duration) -> str:
    """A protobuf Duration as "1h 30m", "15s", "0.5s"."""
    seconds = d.seconds + d.nanos / 1e9
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        whole, seconds = divmod(seconds, size)
        if whole:
            parts.append(f"{int(whole)}{unit}")
    if seconds or not parts:
        parts.append(f"{round(seconds, 3):g}s")
    return " ".join(parts)


def _enum_words(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).replace("_", " ").lower()


# --- history, readably ----------------------------------------------------------------

@dataclass(frozen=True)
class EventRow:
    id: int
    time: datetime | None
    kind: str  # the event type in words: "Activity task scheduled"
    category: str  # workflow, task, activity, timer, signal, update, child, marker, other
    summary: str  # the important attribute: activity type, timer duration, signal name, ...
    detail: str  # decoded payload or failure message, shortened
    failed: bool  # a failure, time-out or termination


def event_kind(event_type: EventType.ValueType) -> str:
    """EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> "Activity task scheduled"."""
    return _enum_words(EventType.Name(event_type), "EVENT_TYPE_").capitalize()


_FAILED = re.compile(r"_(FAILED|TIMED_OUT|TERMINATED)$")


def _category(event_type: EventType.ValueType) -> str:
    name = EventType.Name(event_type)
    for needle, category in (("WORKFLOW_TASK", "task"), ("ACTIVITY", "activity"), ("TIMER", "timer"),
                             ("SIGNAL", "signal"), ("UPDATE", "update"), ("CHILD", "child"),
                             ("MARKER", "marker"), ("WORKFLOW_EXECUTION", "workflow")):
        if needle in name:
            return category
    return "other"


class _Names:
    """What later events refer back to by event id (a completion names only its scheduled event)."""

    def __init__(self) -> None:
        self.activities: dict[int, str] = {}  # scheduled event id -> activity type
        self.updates: dict[int, str] = {}  # accepted event id -> update name
        self.children: dict[int, str] = {}  # initiated event id -> child workflow id

    def activity(self, scheduled_event_id: int) -> str:
        return self.activities.get(scheduled_event_id, f"event {scheduled_event_id}")


def _describe(event: HistoryEvent, names: _Names) -> tuple[str, str]:
    """(summary, detail) for one event."""
    which = event.WhichOneof("attributes")
    if which is None:
        return "", ""
    # the oneof member's message type depends on `which`; each case below reads its own fields
    a: Any = getattr(event, which)
    match which:
        case "workflow_execution_started_event_attributes":
            parent_id = a.parent_workflow_execution.workflow_id
            parent = f", child of {parent_id}" if parent_id else ""
            again = " (continued as new)" if a.continued_execution_run_id else ""
            return f"{a.workflow_type.name} on {a.task_queue.name}{parent}{again}", payloads_text(a.input)
        case "workflow_execution_completed_event_attributes":
            return "result", payloads_text(a.result)
        case "workflow_execution_failed_event_attributes":
            return "", failure_text(a.failure)
        case "workflow_execution_timed_out_event_attributes":
            return _enum_words(RetryState.Name(a.retry_state), "RETRY_STATE_"), ""
        case "workflow_execution_terminated_event_attributes":
            return f"by {a.identity}" if a.identity else "", a.reason
        case "workflow_execution_cancel_requested_event_attributes":
            return f"by {a.identity}" if a.identity else "", a.cause
        case "workflow_execution_continued_as_new_event_attributes":
            return f"new run {a.new_execution_run_id}", payloads_text(a.input)
        case "workflow_task_scheduled_event_attributes":
            return (f"attempt {a.attempt}" if a.attempt > 1 else ""), ""
        case "workflow_task_started_event_attributes":
            return a.identity, ""
        case "workflow_task_failed_event_attributes":
            cause = _enum_words(WorkflowTaskFailedCause.Name(a.cause), "WORKFLOW_TASK_FAILED_CAUSE_")
            return cause, failure_text(a.failure)
        case "workflow_task_timed_out_event_attributes":
            return _enum_words(TimeoutType.Name(a.timeout_type), "TIMEOUT_TYPE_"), ""
        case "activity_task_scheduled_event_attributes":
            names.activities[event.event_id] = a.activity_type.name
            return f"{a.activity_type.name} (id {a.activity_id})", payloads_text(a.input)
        case "activity_task_started_event_attributes":
            retry = f", last failure: {failure_text(a.last_failure)}" if a.last_failure.ByteSize() else ""
            return f"{names.activity(a.scheduled_event_id)}, attempt {a.attempt}", f"{a.identity}{retry}"
        case "activity_task_completed_event_attributes":
            return names.activity(a.scheduled_event_id), payloads_text(a.result)
        case "activity_task_failed_event_attributes" | "activity_task_timed_out_event_attributes":
            return names.activity(a.scheduled_event_id), failure_text(a.failure)
        case "activity_task_cancel_requested_event_attributes" | "activity_task_canceled_event_attributes":
            return names.activity(a.scheduled_event_id), ""
        case "timer_started_event_attributes":
            fires = _time(event.event_time) + a.start_to_fire_timeout.ToTimedelta() if _time(event.event_time) else None
            at = f", fires {_rfc3339(fires)}" if fires else ""
            return f"timer {a.timer_id}: {_duration(a.start_to_fire_timeout)}{at}", ""
        case "timer_fired_event_attributes" | "timer_canceled_event_attributes":
            return f"timer {a.timer_id}", ""
        case "workflow_execution_signaled_event_attributes":
            return a.signal_name, payloads_text(a.input)
        case "workflow_execution_update_admitted_event_attributes":
            return a.request.input.name, payloads_text(a.request.input.args)
        case "workflow_execution_update_accepted_event_attributes":
            names.updates[event.event_id] = a.accepted_request.input.name
            return a.accepted_request.input.name, payloads_text(a.accepted_request.input.args)
        case "workflow_execution_update_rejected_event_attributes":
            return a.rejected_request.input.name, failure_text(a.failure)
        case "workflow_execution_update_completed_event_attributes":
            name = names.updates.get(a.accepted_event_id, a.meta.update_id)
            if a.outcome.HasField("failure"):
                return f"{name}: failed", failure_text(a.outcome.failure)
            return name, payloads_text(a.outcome.success)
        case "start_child_workflow_execution_initiated_event_attributes":
            names.children[event.event_id] = a.workflow_id
            return f"{a.workflow_type.name} {a.workflow_id} on {a.task_queue.name}", payloads_text(a.input)
        case "start_child_workflow_execution_failed_event_attributes":
            return f"{a.workflow_type.name} {a.workflow_id}", _enum_words(
                StartChildWorkflowExecutionFailedCause.Name(a.cause), "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_")
        case ("child_workflow_execution_started_event_attributes"
              | "child_workflow_execution_timed_out_event_attributes"
              | "child_workflow_execution_terminated_event_attributes"):
            return f"{a.workflow_type.name} {a.workflow_execution.workflow_id}", ""
        case "child_workflow_execution_completed_event_attributes":
            return f"{a.workflow_type.name} {a.workflow_execution.workflow_id}", payloads_text(a.result)
        case "child_workflow_execution_failed_event_attributes":
            return f"{a.workflow_type.name} {a.workflow_execution.workflow_id}", failure_text(a.failure)
        case "child_workflow_execution_canceled_event_attributes":
            return f"{a.workflow_type.name} {a.workflow_execution.workflow_id}", payloads_text(a.details)
        case "signal_external_workflow_execution_initiated_event_attributes":
            return f"{a.signal_name} → {a.workflow_execution.workflow_id}", payloads_text(a.input)
        case ("external_workflow_execution_signaled_event_attributes"
              | "request_cancel_external_workflow_execution_initiated_event_attributes"
              | "external_workflow_execution_cancel_requested_event_attributes"):
            return a.workflow_execution.workflow_id, ""
        case "marker_recorded_event_attributes":
            return a.marker_name, failure_text(a.failure)
        case "upsert_workflow_search_attributes_event_attributes":
            return ", ".join(sorted(a.search_attributes.indexed_fields)), ""
        case "workflow_properties_modified_event_attributes":
            return ", ".join(sorted(a.upserted_memo.fields)), ""
    return "", ""


def readable_history(events: Iterable[HistoryEvent]) -> list[EventRow]:
    """One row per event, in order (later rows name what earlier ones scheduled)."""
    names = _Names()
    rows: list[EventRow] = []
    for event in events:
        summary, detail = _describe(event, names)
        rows.append(EventRow(id=event.event_id, time=_time(event.event_time), kind=event_kind(event.event_type),
                             category=_category(event.event_type), summary=summary, detail=detail,
                             failed=bool(_FAILED.search(EventType.Name(event.event_type)))))
    return rows


@dataclass(frozen=True)
class PendingTimer:
    timer_id: str
    started_event_id: int
    duration: str
    fires_at: datetime | None


def pending_timers(events: Iterable[HistoryEvent]) -> list[PendingTimer]:
    """Timers started and neither fired nor cancelled (the history is the only place they live)."""
    started: dict[int, PendingTimer] = {}
    for event in events:
        which = event.WhichOneof("attributes")
        if which == "timer_started_event_attributes":
            a, at = event.timer_started_event_attributes, _time(event.event_time)
            started[event.event_id] = PendingTimer(a.timer_id, event.event_id, _duration(a.start_to_fire_timeout),
                                                   at + a.start_to_fire_timeout.ToTimedelta() if at else None)
        elif which in ("timer_fired_event_attributes", "timer_canceled_event_attributes"):
            started.pop(getattr(event, which).started_event_id, None)
    return list(started.values())


# --- one workflow ---------------------------------------------------------------------

@dataclass(frozen=True)
class PendingActivity:
    activity_id: str
    activity_type: str
    state: str  # scheduled, started, cancel requested, paused
    attempt: int
    maximum_attempts: int  # 0: unlimited
    last_failure: str
    scheduled_time: datetime | None
    last_started_time: datetime | None
    last_heartbeat_time: datetime | None
    next_attempt_time: datetime | None
    last_worker: str


@dataclass(frozen=True)
class PendingChild:
    workflow_id: str
    run_id: str
    workflow_type: str


@dataclass
class WorkflowDetail:
    id: str
    run_id: str
    namespace: str
    workflow_type: str
    task_queue: str
    status: str
    start_time: datetime | None
    close_time: datetime | None
    history_length: int
    parent_id: str | None
    pending_activities: list[PendingActivity]
    pending_children: list[PendingChild]
    pending_timers: list[PendingTimer]
    events: list[EventRow]
    history_truncated: bool  # more than MAX_EVENTS events; only the first were read

    @property
    def running(self) -> bool:
        return self.status == "Running"


async def history_events(client: Client, workflow_id: str, run_id: str, max_events: int = MAX_EVENTS
                         ) -> tuple[list[HistoryEvent], bool]:
    """Up to `max_events` events of one run, and whether there were more."""
    events: list[HistoryEvent] = []
    async for event in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events(
            page_size=min(max_events, 1000)):
        if len(events) >= max_events:
            return events, True
        events.append(event)
    return events, False


def _pending_activity(p: PendingActivityInfo) -> PendingActivity:
    return PendingActivity(
        activity_id=p.activity_id, activity_type=p.activity_type.name,
        state=_enum_words(PendingActivityState.Name(p.state), "PENDING_ACTIVITY_STATE_"),
        attempt=p.attempt, maximum_attempts=p.maximum_attempts, last_failure=failure_text(p.last_failure),
        scheduled_time=_time(p.scheduled_time), last_started_time=_time(p.last_started_time),
        last_heartbeat_time=_time(p.last_heartbeat_time), next_attempt_time=_time(p.next_attempt_schedule_time),
        last_worker=p.last_worker_identity)


async def workflow_detail(client: Client, workflow_id: str, run_id: str | None = None, *,
                          max_events: int = MAX_EVENTS) -> WorkflowDetail | None:
    """Everything the workflow page shows; None when no such workflow (or run) exists.

    Without `run_id`, the latest run. BadFilter for a run id the server cannot parse.
    """
    try:
        described = await client.get_workflow_handle(workflow_id, run_id=run_id or None).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise BadFilter(exc.message) from None
        raise
    raw = described.raw_description
    events, truncated = await history_events(client, workflow_id, described.run_id, max_events)
    await decode_in_place(client.data_converter.payload_codec, events)  # sealed inputs and results, readable
    status = _status_name(described.status) if described.status else "Unknown"
    return WorkflowDetail(
        id=workflow_id, run_id=described.run_id, namespace=client.namespace,
        workflow_type=described.workflow_type, task_queue=described.task_queue, status=status,
        start_time=described.start_time, close_time=described.close_time, history_length=described.history_length,
        parent_id=described.parent_id,
        pending_activities=[_pending_activity(p) for p in raw.pending_activities],
        pending_children=[PendingChild(c.workflow_id, c.run_id, c.workflow_type_name) for c in raw.pending_children],
        # a closed run has no live timers, whatever its history left unfired
        pending_timers=pending_timers(events) if status == "Running" and not truncated else [],
        events=readable_history(events), history_truncated=truncated)
