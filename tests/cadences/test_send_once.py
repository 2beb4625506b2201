"""A cadence email is sent once: a worker killed between rendering and sending leaves an
email the next worker sends exactly once, with the Message-ID of the first rendering; a
send retried after it succeeded sends nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import PendingActivityState

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.activities import CadenceActivities
from domains.cadences.ids import send_key
from domains.cadences.messages import EnrollmentStatus, RenderRequest, SaveCadence
from infra.store.sqlite import SqliteStore
from infra.temporal import ensure_search_attributes
from storefront.cadence_email import DjangoEmailChannel

from ..servers import start_dev_server
from .conftest import send, until

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict, mail_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers", "--queues", "cadences", "--metrics-port", "0"], cwd=ROOT,
        env={**env, "COMMERCE_MAIL_DIR": str(mail_dir)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.fixture
async def own_server():
    """A dev server of its own: the workers here poll the production queue name "cadences"."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def test_a_worker_killed_between_render_and_send_does_not_send_twice(own_server, tmp_path):
    client = own_server.client
    await ensure_search_attributes(client)
    data = tmp_path / "data"
    data.mkdir()
    store = SqliteStore(data / "store.sqlite3")
    store.create_schema()
    # A file where the mail folder should be: Django's file backend refuses every send, after
    # the render has stored the email in the outbox.
    broken = tmp_path / "not-a-folder"
    broken.write_text("")
    mail_dir = tmp_path / "mail"
    env = {**os.environ, "COMMERCE_DATA_DIR": str(data), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "EMAIL_BACKEND": "file", "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    first, second = start_worker(env, broken), None
    try:
        saved = await cadences.save_cadence(
            client, SaveCadence(name="Welcome", steps=[send("welcome", "Welcome, {{ name }}")], actor="staff:test"))
        cadence, step = saved.definition.cadence_id, saved.definition.steps[0]
        wid = await cadences.enroll(client, store, cadence, cadences.contact_of("ann@example.com", "Ann"),
                                    actor="staff:test")
        handle = client.get_workflow_handle(wid)

        async def failed_send_in_backoff():
            for pending in (await handle.describe()).raw_description.pending_activities:
                if pending.activity_type.name == "send_email" and pending.attempt >= 2 \
                        and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED:
                    return pending
            return None

        pending = await until(failed_send_in_backoff, timeout=60, what="a failed send, waiting for its retry")
        assert "not a directory" in pending.last_failure.message
        row = reads.enrollment(store, cadence, cadences.contact_of("ann@example.com").contact_id)
        key = send_key(row["enrollment_key"], step.id, step.template, step.subject)
        rendered = reads.outbox(store, key)
        assert rendered is not None and rendered.get("sent_at") is None
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        second = start_worker(env, mail_dir)
        sent = await until(lambda: (reads.outbox(store, key) or {}).get("sent_at"), timeout=90,
                           what="the next worker to send")
        view = await until(lambda: cadences.get_enrollment(client, cadence, row["contact_id"]), what="the view")
        for _ in range(100):
            if view.status.ended:
                break
            await asyncio.sleep(0.1)
            view = await cadences.get_enrollment(client, cadence, row["contact_id"])
    finally:
        stop(first)
        stop(second)

    assert view.status == EnrollmentStatus.COMPLETED
    assert sent is not None
    messages = [message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.iterdir())]
    welcome = [m for m in messages if m["Subject"] == "Welcome, Ann"]
    assert len(welcome) == 1, [m["Subject"] for m in messages]
    assert welcome[0]["Message-ID"] == rendered["message_id"] == reads.outbox(store, key)["message_id"]
    assert welcome[0]["To"] == "ann@example.com"
    assert [e.kind for e in view.timeline].count("email_sent") == 1


def test_a_send_retried_after_it_succeeded_sends_nothing(tmp_path, mailoutbox):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    activities = CadenceActivities(store, client=None, channel=DjangoEmailChannel(store))
    contact = cadences.contact_of("bo@example.com", "Bo")
    request = RenderRequest(key="enrollment-1:s1", cadence_id="c1", cadence_name="Welcome", step_id="s1",
                            template="welcome", subject="Hi {{ name }}", contact=contact)
    rendered = activities.render_email(request)
    first = activities.send_email(request.key)
    assert not first.already_sent and first.sent_at is not None
    assert [m.subject for m in mailoutbox] == ["Hi Bo"]

    again = activities.render_email(request)  # a retried step renders again: the first rendering stays
    assert again.message_id == rendered.message_id
    retried = activities.send_email(request.key)
    assert retried.already_sent and retried.sent_at == first.sent_at
    assert len(mailoutbox) == 1
    assert mailoutbox[0].extra_headers["Message-ID"] == rendered.message_id
    store.close()
