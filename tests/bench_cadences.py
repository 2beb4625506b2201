"""Cadence figures for `make bench`, on a dev server with the real worker and Django's file
email backend: how long enrolling a contact takes, the lag from enrolling to the first email
being sent (one contact at a time, and for a burst of contacts enrolled back to back), and
how long an edit takes to reach running enrollments. The baseline, measured
in the same run, is the cheapest workflow round trip (update-with-start of `Floor`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from .bench_sizes import sized
from .floor_workflow import Floor

CONTACTS = sized(100, 3)
SOLO = sized(20, 2)


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
            "n": len(ordered)}


async def run_bench() -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    django.setup()
    from django.conf import settings

    from domains.cadences import client as cadences
    from domains.cadences import reads
    from domains.cadences.ids import send_key
    from domains.cadences.messages import ApplyTo, SaveCadence
    from domains.cadences.queue import TASK_QUEUE as CADENCES_QUEUE
    from domains.cadences.steps import Step, StepType
    from infra.store.sqlite import SqliteStore
    from infra.temporal import ensure_search_attributes
    from workers.registry import QUEUES, Dependencies

    from .servers import start_dev_server

    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp / "mail")  # never the shop's own var/mail
    store = SqliteStore(tmp / "store.sqlite3")
    store.create_schema()
    client = env.client
    queue = CADENCES_QUEUE  # the floor workflow runs beside the cadences (the server is the bench's own)
    try:
        await ensure_search_attributes(client)
        spec = QUEUES["cadences"](Dependencies(store=store, index=None, client=client))
        with ThreadPoolExecutor(8) as executor:
            async with Worker(client, task_queue=queue, workflows=[*spec.workflows, Floor],
                              activities=spec.activities, activity_executor=executor):
                floor = []
                for _ in range(CONTACTS):
                    started = time.perf_counter()
                    await client.execute_update_with_start_workflow(Floor.bump, 1, start_workflow_operation=(
                        WithStartWorkflowOperation(Floor.run, id=f"floor-{uuid.uuid4().hex}", task_queue=queue,
                                                   id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)))
                    floor.append(time.perf_counter() - started)

                one_email = await cadences.save_cadence(client, SaveCadence(
                    name="Bench", actor="bench", steps=[Step(type=StepType.SEND_EMAIL, template="welcome",
                                                             subject="Hi {{ name }}")]))
                cadence = one_email.definition
                enroll, enrolled_at = [], {}
                for n in range(CONTACTS):
                    contact = cadences.contact_of(f"bench{n}@example.com", f"Bench {n}")
                    enrolled_at[contact.contact_id] = datetime.now(UTC)
                    started = time.perf_counter()
                    await cadences.enroll(client, store, cadence.cadence_id, contact, actor="bench")
                    enroll.append(time.perf_counter() - started)
                burst_started = time.perf_counter()
                lags = await _first_email_lags(store, reads, send_key, cadence, enrolled_at)
                burst = time.perf_counter() - burst_started + sum(enroll)

                alone = []  # one contact at a time: the lag without a queue of others ahead of it
                for n in range(SOLO):
                    contact = cadences.contact_of(f"solo{n}@example.com")
                    at = {contact.contact_id: datetime.now(UTC)}
                    await cadences.enroll(client, store, cadence.cadence_id, contact, actor="bench")
                    alone += await _first_email_lags(store, reads, send_key, cadence, at, poll=0.01)

                waiting = await cadences.save_cadence(client, SaveCadence(name="Bench wait", actor="bench", steps=[
                    Step(type=StepType.WAIT, seconds=3600),
                    Step(type=StepType.SEND_EMAIL, template="welcome", subject="Later")]))
                running = []
                for n in range(CONTACTS):
                    contact = cadences.contact_of(f"waiting{n}@example.com")
                    await cadences.enroll(client, store, waiting.definition.cadence_id, contact, actor="bench")
                    running.append(contact.contact_id)
                await _until(lambda: all((reads.enrollment(store, waiting.definition.cadence_id, c) or {}).get(
                    "status") == "waiting" for c in running))
                steps = waiting.definition.steps
                started = time.perf_counter()
                await cadences.save_cadence(client, SaveCadence(
                    name="Bench wait", actor="bench", apply_to=ApplyTo.RUNNING,
                    steps=[steps[0].model_copy(update={"seconds": 1800}), steps[1]]),
                    cadence_id=waiting.definition.cadence_id)
                await _until(lambda: all((reads.enrollment(store, waiting.definition.cadence_id, c) or {}).get(
                    "steps_version") == 2 for c in running), seconds=120)
                propagation = time.perf_counter() - started
        return {"contacts": CONTACTS, "floor_update_with_start": _ms(floor), "enroll": _ms(enroll),
                "first_email_one_at_a_time": _ms(alone), "first_email_in_a_burst": _ms(lags),
                "burst_emails_per_s": CONTACTS / burst, "edit_reaches_all_running_s": propagation}
    finally:
        await env.shutdown()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def _first_email_lags(store, reads, send_key, cadence, enrolled_at: dict, poll: float = 0.2) -> list[float]:
    step = cadence.steps[0]
    lags: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while len(lags) < len(enrolled_at) and time.monotonic() < deadline:
        for contact, at in enrolled_at.items():
            row = reads.enrollment(store, cadence.cadence_id, contact) if contact not in lags else None
            if row and row.get("enrollment_key"):
                sent = (reads.outbox(store, send_key(row["enrollment_key"], step.id, step.template, step.subject))
                        or {}).get("sent_at")
                if sent is not None:
                    lags[contact] = (sent - at).total_seconds()
        await asyncio.sleep(poll)
    assert len(lags) == len(enrolled_at), f"only {len(lags)} of {len(enrolled_at)} first emails were sent"
    return list(lags.values())


async def _until(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the bench timed out waiting")
        await asyncio.sleep(0.2)


def main() -> dict:
    result = asyncio.run(run_bench())
    floor = result["floor_update_with_start"]["median_ms"]
    print(f"\ncadences ({result['contacts']} contacts, dev server, file email backend)")
    print(f"{'case':34} {'median':>10} {'p95':>10} {'x floor':>8}")
    for name in ("floor_update_with_start", "enroll", "first_email_one_at_a_time", "first_email_in_a_burst"):
        r = result[name]
        print(f"{name:34} {r['median_ms']:>7.1f} ms {r['p95_ms']:>7.1f} ms {r['median_ms'] / floor:>7.1f}x")
    print(f"a burst of {result['contacts']} enrollments: {result['burst_emails_per_s']:.1f} first emails per second")
    reached = result["edit_reaches_all_running_s"]
    print(f"an edit reached all {result['contacts']} running enrollments in {reached:.2f} s")
    return result


if __name__ == "__main__":
    main()
