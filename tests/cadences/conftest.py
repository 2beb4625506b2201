"""Cadence workers on a Temporal server, a real SQLite store, and Django's email framework
(pytest-django gives it the in-memory backend: `mail.outbox` holds what was sent).

On the time-skipping server, time moves only with `await skipping.sleep(timedelta(...))`;
what the workers do after that is awaited with `until` (a short real-time poll)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from domains.cadences import client as cadences
from domains.cadences.messages import ApplyTo, CadenceView, EnrollmentView, SaveCadence, Trigger
from domains.cadences.queue import TASK_QUEUE as CADENCES_QUEUE
from domains.cadences.steps import Step, StepType
from domains.cadences.workflows import EnrollmentWorkflow
from infra.store.sqlite import SqliteStore
from infra.temporal import ensure_search_attributes
from storefront.cadence_email import DjangoEmailChannel
from workers.registry import QUEUES, Dependencies

DAY = 86400
HOUR = 3600


async def until(check: Callable, timeout: float = 20, what: str = "the condition"):
    """Poll `check` (sync or async) in real time until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def settle(seconds: float = 0.5) -> None:
    """Give the workers a moment of real time, to show that something does NOT happen."""
    await asyncio.sleep(seconds)


class GatedChannel:
    """The shop's Django channel, whose sends can be made to fail (a mail server that is down)."""

    def __init__(self, inner: DjangoEmailChannel):
        self.inner = inner
        self.failing = False
        self.failures = 0
        self.sending = threading.Event()  # a send is under way
        self.release = threading.Event()  # cleared: sends wait for it (a slow mail server)
        self.release.set()

    def template_names(self):
        return self.inner.template_names()

    def render(self, request):
        return self.inner.render(request)

    def send(self, email) -> None:
        self.sending.set()
        self.release.wait(30)
        if self.failing:
            self.failures += 1
            raise ConnectionError("the mail server is down")
        self.inner.send(email)


@dataclass
class CadenceShop:
    client: Client
    store: SqliteStore
    worker: Worker
    channel: GatedChannel

    async def create(self, steps: list[Step], *, name: str = "Welcome", trigger: Trigger = Trigger.MANUAL,
                     active: bool = True, templates=None) -> str:
        view = await cadences.save_cadence(
            self.client, SaveCadence(name=name, trigger=trigger, active=active, steps=steps, actor="staff:test"),
            templates=templates)
        return view.definition.cadence_id

    async def save(self, cadence_id: str, steps: list[Step], *, name: str = "Welcome",
                   apply_to: ApplyTo = ApplyTo.RUNNING, expected_version: int | None = None) -> CadenceView:
        return await cadences.save_cadence(
            self.client, SaveCadence(name=name, steps=steps, apply_to=apply_to, expected_version=expected_version,
                                     actor="staff:editor"),
            cadence_id=cadence_id)

    def steps(self, cadence_id: str) -> list[Step]:
        """The saved steps, with the ids the cadence workflow gave them."""
        return cadences.get_cadence(self.store, cadence_id).steps

    async def enroll(self, cadence_id: str, email: str, name: str = "", **kw) -> str:
        return await cadences.enroll(self.client, self.store, cadence_id, cadences.contact_of(email, name),
                                     actor="staff:test", **kw)

    async def view(self, workflow_id: str) -> EnrollmentView:
        return await self.client.get_workflow_handle(workflow_id).query(EnrollmentWorkflow.view)

    async def until_view(self, workflow_id: str, check: Callable[[EnrollmentView], bool], what: str = "the view",
                         timeout: float = 20) -> EnrollmentView:
        async def probe():
            view = await self.view(workflow_id)
            return view if check(view) else None
        return await until(probe, timeout, what)

    async def closed(self, workflow_id: str) -> None:
        """Until the enrollment's workflow has closed (its last save done)."""
        async def probe():
            return (await self.client.get_workflow_handle(workflow_id).describe()).status \
                != WorkflowExecutionStatus.RUNNING
        await until(probe, what=f"{workflow_id} to close")


async def wait_left(env, view: EnrollmentView) -> float | None:
    """Seconds left of the running WAIT by the server's clock (what client.get_enrollment shows)."""
    if view.wait_ends_at is None:
        return view.wait_seconds_left
    return (view.wait_ends_at - await env.get_current_time()).total_seconds()


def send(template: str, subject: str) -> Step:
    return Step(type=StepType.SEND_EMAIL, template=template, subject=subject)


def wait(seconds: int) -> Step:
    return Step(type=StepType.WAIT, seconds=seconds)


def subjects(outbox) -> list[str]:
    return [m.subject for m in outbox]


@pytest.fixture
async def cadence_shop(skipping, tmp_path, mailoutbox):
    """Cadences on the time-skipping server; `mailoutbox` is emptied for each test."""
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    await ensure_search_attributes(skipping.client)
    channel = GatedChannel(DjangoEmailChannel(store))
    spec = QUEUES[CADENCES_QUEUE](Dependencies(store=store, index=None, client=skipping.client, email_channel=channel))
    with ThreadPoolExecutor(4) as executor:
        worker = Worker(skipping.client, task_queue=CADENCES_QUEUE, workflows=spec.workflows,
                        activities=spec.activities, activity_executor=executor)
        async with worker:
            try:
                yield CadenceShop(client=skipping.client, store=store, worker=worker,
                                  channel=channel)
            finally:
                channel.release.set()
    store.close()
