"""Webhook figures for `make bench`, on a dev server with the real delivery workflow and a real
receiver (http.server on loopback, verifying every signature): the lag from an event being
saved (`emit` called) to the receiver having it, one event at a time and for a burst spread
over several orders (each order's events in order), and deliveries per second in that burst."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.worker import Worker

from .bench_sizes import sized
from .webhooks import samples
from .webhooks.receiver import Receiver

ORDERS = sized(20, 2)
EVENTS_PER_ORDER = sized(5, 2)
SOLO = sized(20, 2)


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[math.ceil(len(ordered) * 0.95) - 1] * 1000, "n": len(ordered)}


class TimedReceiver(Receiver):
    """Also notes when each event id first arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    def _handle(self, headers: dict[str, str], body: bytes) -> int:
        code = super()._handle(headers, body)
        if code == 200:
            self.arrived.setdefault(headers["webhook-id"], time.perf_counter())
        return code


async def run_bench() -> dict:
    from domains.webhooks import client as webhooks
    from domains.webhooks.queue import TASK_QUEUE
    from infra.store.sqlite import SqliteStore
    from workers.registry import QUEUES, Dependencies

    from .servers import start_dev_server

    os.environ["COMMERCE_WEBHOOKS_ALLOW_PRIVATE"] = "1"  # the receiver is on loopback
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    store = SqliteStore(tmp / "store.sqlite3")
    store.create_schema()
    receiver = TimedReceiver().start()
    client = env.client
    try:
        made = webhooks.register_endpoint(store, receiver.url, ["order.status_changed"], created_by="bench")
        receiver.secret = made.secret
        spec = QUEUES[TASK_QUEUE](Dependencies(store=store, index=None, client=client))  # type: ignore[arg-type]
        with ThreadPoolExecutor(16) as executor:
            async with Worker(client, task_queue=TASK_QUEUE, workflows=spec.workflows, activities=spec.activities,
                              activity_executor=executor):

                def event(key: str, n: int):
                    return samples.status_changed(key, n, f"bench:{key}:{n}")

                alone = []
                for n in range(SOLO):
                    item = event(f"solo-{n}", 1)
                    started = time.perf_counter()
                    await webhooks.emit(client, store, [item])
                    await _until(lambda i=item: i.envelope.id in receiver.arrived)
                    alone.append(receiver.arrived[item.envelope.id] - started)

                burst = [event(f"order-{o}", n) for n in range(EVENTS_PER_ORDER) for o in range(ORDERS)]
                saved_at: dict[str, float] = {}
                started = time.perf_counter()
                for item in burst:
                    saved_at[item.envelope.id] = time.perf_counter()
                    await webhooks.emit(client, store, [item])
                await _until(lambda: all(i.envelope.id in receiver.arrived for i in burst), seconds=300)
                took = max(receiver.arrived[i.envelope.id] for i in burst) - started
                lags = [receiver.arrived[i.envelope.id] - saved_at[i.envelope.id] for i in burst]
                in_order = all(
                    [int(r.body["data"]["note"]) for r in receiver.accepted
                     if r.body["data"]["order_id"] == f"order-{o}"]
                    == list(range(EVENTS_PER_ORDER)) for o in range(ORDERS))
        assert receiver.bad_signatures == 0 and in_order
        return {"orders": ORDERS, "events": len(burst), "lag_one_at_a_time": _ms(alone), "lag_in_a_burst": _ms(lags),
                "burst_deliveries_per_s": len(burst) / took, "each_order_in_order": in_order}
    finally:
        receiver.stop()
        await env.shutdown()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def _until(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the bench timed out waiting")
        await asyncio.sleep(0.005)


def main() -> dict:
    result = asyncio.run(run_bench())
    print(f"\nwebhooks ({result['events']} events over {result['orders']} orders, dev server, loopback receiver)")
    print(f"{'case':34} {'median':>10} {'p95':>10}")
    for name in ("lag_one_at_a_time", "lag_in_a_burst"):
        r = result[name]
        print(f"{name:34} {r['median_ms']:>7.1f} ms {r['p95_ms']:>7.1f} ms")
    print(f"a burst of {result['events']} events: {result['burst_deliveries_per_s']:.1f} deliveries per second, "
          f"each order's events in order: {result['each_order_in_order']}")
    return result


if __name__ == "__main__":
    main()
