"""Update-with-start on the real cluster (`make cluster`) against the dev server, in one run:
`python -m tests.bench_cluster [samples]`. Figures in docs/cluster.md.

Each call is a bare update-with-start of the floor workflow (tests/floor_workflow.py), as the
cart's add-to-cart is: `new` starts a workflow every call (a first add to a cart), `existing`
sends the update to one running workflow (every later add). Calls alternate between the two
servers so that whatever else the machine does falls on both alike.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from contextlib import AsyncExitStack

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from .floor_workflow import Floor
from .servers import shop_converter, start_dev_server

CLUSTER = os.environ.get("CLUSTER_TEMPORAL_ADDRESS", "127.0.0.1:7933")


async def _once(client: Client, queue: str, wid: str) -> float:
    op = WithStartWorkflowOperation(Floor.run, id=wid, task_queue=queue,
                                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    started = time.perf_counter()
    await client.execute_update_with_start_workflow(Floor.bump, 1, start_workflow_operation=op)
    return (time.perf_counter() - started) * 1000


def _summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    return f"median {statistics.median(ordered):6.1f} ms   p95 {ordered[int(len(ordered) * .95) - 1]:6.1f} ms"


async def run(samples: int) -> None:
    dev = await start_dev_server()
    cluster = await Client.connect(CLUSTER, namespace="default", data_converter=shop_converter())
    queue = f"bench-cluster-{uuid.uuid4().hex[:8]}"
    clients = {"dev server": dev.client, "cluster": cluster}
    times: dict[tuple[str, str], list[float]] = {(n, k): [] for n in clients for k in ("new", "existing")}
    try:
        async with AsyncExitStack() as stack:
            for client in clients.values():
                await stack.enter_async_context(Worker(client, task_queue=queue, workflows=[Floor]))
            ids = {name: f"floor-{uuid.uuid4().hex}" for name in clients}
            for name, client in clients.items():  # warm: connections, the task queue, the workflow
                for _ in range(3):
                    await _once(client, queue, f"floor-{uuid.uuid4().hex}")
                await _once(client, queue, ids[name])
            for _ in range(samples):
                for name, client in clients.items():
                    times[name, "new"].append(await _once(client, queue, f"floor-{uuid.uuid4().hex}"))
                    times[name, "existing"].append(await _once(client, queue, ids[name]))
        print(f"\nupdate-with-start, {samples} calls each (cluster {CLUSTER}: Cassandra + Elasticsearch)")
        for (name, kind), ms in times.items():
            print(f"  {name:10s} {kind:8s} workflow   {_summary(ms)}")
    finally:
        for client in clients.values():
            async for wf in client.list_workflows(f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"):
                await client.get_workflow_handle(wf.id).terminate("bench over")
        await dev.shutdown()


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
