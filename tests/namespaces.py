"""Test isolation by Temporal namespace: every test leases a namespace of its own on the
shared dev server, so the shop runs with its production task queues and workflow ids.

The namespaces are created when the dev server starts (`--namespace` per name): one
registered at runtime takes seconds to become usable. A lease hands out the namespace
released longest ago (a FIFO free-list), with the shop's search attributes registered.
Release deletes every workflow execution in it (deleting a running one terminates it
first), so nothing a test left behind - a running inventory service under its fixed id,
an order's timer, a closed workflow the admin lists would count - reaches the next test;
the lease sweeps once more before handing the namespace out, since visibility (which
finds the executions) trails the server by a moment. Deleting rather than never reusing:
a pool as large as the number of tests would give the dev server hundreds of namespaces,
each with its own system workers.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from infra.temporal import ensure_search_attributes

POOL = tuple(f"test-{n}" for n in range(1, 17))
SWEEP_SECONDS = 30.0  # how long a lease waits for a namespace's deleted workflows to leave visibility


@dataclass(frozen=True)
class Lease:
    namespace: str
    client: Client  # connected to `namespace`, with the shop's data converter

    @property
    def target(self) -> str:
        return self.client.service_client.config.target_host


def dev_server_args() -> list[str]:
    return [arg for namespace in POOL for arg in ("--namespace", namespace)]


class NamespacePool:
    def __init__(self, client: Client):
        self._client = client  # any client of the dev server: leases share its connection
        self._free: deque[str] = deque(POOL)
        self._returned = asyncio.Condition()

    async def lease(self) -> Lease:
        async with self._returned:
            await self._returned.wait_for(lambda: bool(self._free))
            namespace = self._free.popleft()
        client = Client(self._client.service_client, namespace=namespace, data_converter=pydantic_data_converter)
        await ensure_search_attributes(client, namespace)
        await _sweep(client, wait=True)
        return Lease(namespace, client)

    async def release(self, lease: Lease) -> None:
        try:
            await _sweep(lease.client, wait=False)
        finally:
            async with self._returned:
                self._free.append(lease.namespace)
                self._returned.notify()


async def _sweep(client: Client, *, wait: bool) -> None:
    """Delete every workflow execution in the client's namespace; with `wait`, until none is listed."""
    deadline = time.monotonic() + SWEEP_SECONDS
    while True:
        executions = [w async for w in client.list_workflows()]
        if not executions:
            return
        await asyncio.gather(*(_delete(client, w.id, w.run_id) for w in executions))
        if not wait:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"namespace {client.namespace}: {len(executions)} workflows still listed after deletion")
        await asyncio.sleep(0.2)


async def _delete(client: Client, workflow_id: str, run_id: str | None) -> None:
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest

    try:
        await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
            namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id)))
    except RPCError:
        pass  # already gone (deleted by an earlier sweep whose deletion visibility has not caught up with)
