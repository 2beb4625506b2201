"""Helpers for tests that stop or kill worker processes at chosen points: serve the stock
service from the test (so the test decides when it answers), wait until an activity is
running, and read what became of each of its attempts in the workflow's history."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.worker import Worker

from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from workers.registry import QUEUES, Dependencies

STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


@asynccontextmanager
async def inventory_worker(client, store, index):
    """The production inventory queue, served from this test process, so the test decides
    when the stock service answers."""
    spec = QUEUES[INVENTORY_QUEUE](Dependencies(store=store, index=index, client=client))
    with ThreadPoolExecutor(4) as executor:
        async with Worker(client, task_queue=INVENTORY_QUEUE, workflows=spec.workflows,
                          activities=spec.activities, activity_executor=executor):
            yield


async def started_activity(handle, name: str, timeout: float = 60):
    """The pending activity `name` once a worker has started it (and not finished it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for pending in (await handle.describe()).raw_description.pending_activities:
            if pending.activity_type.name == name and pending.state == STARTED:
                return pending
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} never started")


async def activity_events(handle, name: str) -> list[str]:
    """The history of every attempt of activity `name`: event types, with the attempt of each start."""
    scheduled, out = set(), []
    async for event in handle.fetch_history_events():
        kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        if kind == "ACTIVITY_TASK_SCHEDULED":
            if event.activity_task_scheduled_event_attributes.activity_type.name == name:
                scheduled.add(event.event_id)
                out.append(kind)
        elif kind.startswith("ACTIVITY_TASK_"):
            attrs = getattr(event, kind.lower() + "_event_attributes")
            if attrs.scheduled_event_id in scheduled:
                out.append(f"{kind} attempt {attrs.attempt}" if kind == "ACTIVITY_TASK_STARTED" else kind)
    return out


def attempts(events: list[str]) -> list[int]:
    """The attempt numbers of the starts in `activity_events`."""
    prefix = "ACTIVITY_TASK_STARTED attempt "
    return [int(e.removeprefix(prefix)) for e in events if e.startswith(prefix)]
