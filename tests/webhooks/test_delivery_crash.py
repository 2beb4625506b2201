"""The production worker (`python -m workers --queues webhooks`) SIGKILLed while a delivery is
in flight (the receiver has the request, the activity has not finished), and started again:
every event still arrives, in order, and the one interrupted arrives again with the same
`webhook-id`, so a receiver that deduplicates on it processes each event once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from domains.webhooks import client as webhooks
from infra.store.sqlite import SqliteStore
from infra.temporal import ensure_search_attributes

from . import samples
from .test_delivery import until

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workers", "--queues", "webhooks", "--metrics-port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_worker_killed_mid_delivery_loses_no_event_and_keeps_the_order(allow_private, temporal_env, tmp_path,
                                                                               receiver):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    await ensure_search_attributes(temporal_env.client, temporal_env.namespace)
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.target, "TEMPORAL_NAMESPACE": temporal_env.namespace,
           "COMMERCE_WEBHOOKS_ALLOW_PRIVATE": "1"}
    made = webhooks.register_endpoint(store, receiver.url, ["order.refunded"], created_by="staff:o@shop.test")
    receiver.secret, receiver.slow_first = made.secret, 3.0
    now = datetime.now(UTC)
    events = [samples.refunded("o-c", n, now) for n in range(1, 5)]
    procs = [start_worker(env)]
    try:
        await webhooks.emit(temporal_env.client, store, events)
        await until(lambda: receiver.requests >= 1, seconds=60, what="the first request in flight")
        procs[0].send_signal(signal.SIGKILL)  # the receiver holds the request; the activity has not finished
        procs[0].wait(10)
        procs.append(start_worker(env))

        wanted = [e.envelope.id for e in events]
        await until(lambda: set(wanted) <= {r.webhook_id for r in receiver.accepted}, seconds=90,
                    what="every event after the restart")
        await asyncio.sleep(1)
        ids = [r.webhook_id for r in receiver.accepted]
        assert list(dict.fromkeys(ids)) == wanted  # first arrivals in order
        assert ids.count(wanted[0]) == 2 and len(ids) == len(wanted) + 1  # only the interrupted one again
        assert receiver.bad_signatures == 0
        assert {d["status"] for d in webhooks.deliveries(store, made.endpoint.endpoint_id)} == {"delivered"}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        store.close()
