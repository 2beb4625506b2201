"""Test isolation by Temporal namespace: every test leases a namespace of its own on the
shared dev server, so the shop runs with its production task queues and workflow ids.

The namespaces are created when the dev server starts (`--namespace` per name): one
registered at runtime takes seconds to become usable. A lease hands out the namespace
released longest ago (a FIFO free-list), with the shop's search attributes registered.
Release terminates every running workflow in it, so nothing a test left behind (the
inventory service under its fixed id, an order's timer, a cadence's wait) runs into the
next test, and asks the server to delete every execution. Termination is done when the call
returns and a deleted running workflow leaves the lists at once; the dev server removes a
closed one from visibility only later, which is harmless: it cannot run, fixed ids (the
inventory service, shop settings) may start again, other ids are new per test, and tests
count only their own workflows. Visibility (which finds the running ones) trails the
server, so a lease terminates what is listed as running once more: a workflow started just
before its test ended is listed by then. Reusing rather than a
namespace per test: a pool as large as the suite would give the dev server hundreds of
namespaces, each with its own system workers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domains.inventory.ids import INVENTORY_WORKFLOW_ID, shard_workflow_id
from infra.temporal import ensure_search_attributes

from .servers import shop_converter

POOL = tuple(f"test-{n}" for n in range(1, 17))
MIN_POOL = 8  # namespaces retired from the pool (an inventory singleton moved to shards) stop here


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
        self._in_pool = len(POOL)

    async def lease(self) -> Lease:
        async with self._returned:
            await self._returned.wait_for(lambda: bool(self._free))
            namespace = self._free.popleft()
        client = Client(self._client.service_client, namespace=namespace, data_converter=shop_converter())
        await ensure_search_attributes(client, namespace)
        await _end_running(client)  # what the last release could not see yet
        return Lease(namespace, client)

    async def release(self, lease: Lease) -> None:
        retire = False
        try:
            await _end_running(lease.client)
            retire = await _singleton_handed_over(lease.client)
            await _delete_all(lease.client)
        finally:
            async with self._returned:
                if retire and self._in_pool > MIN_POOL:
                    self._in_pool -= 1
                else:
                    self._free.append(lease.namespace)
                self._returned.notify()


# Workflows under fixed ids, ended by id as well: visibility may not list one started just as
# the last test ended, and a shard left running would serve the next test with stock it seeded
# from the last test's store.
FIXED_IDS = (INVENTORY_WORKFLOW_ID, *(shard_workflow_id(k) for k in range(16)))


async def _end_running(client: Client) -> None:
    """Terminate every workflow visibility lists as running, and the fixed ids by id.
    Termination is done by the time the call returns (unlike deletion), so nothing of them runs
    in the next lease."""
    running = [w async for w in client.list_workflows('ExecutionStatus="Running"')]
    # by id, not run id: a run listed just as it continued as new would leave its next run going
    ids = {w.id for w in running} | set(FIXED_IDS)
    await asyncio.gather(*(_ignoring_gone(client.get_workflow_handle(workflow_id).terminate(
        reason="the test's namespace lease ended")) for workflow_id in sorted(ids)))


async def _singleton_handed_over(client: Client) -> bool:
    """Whether the test moved an inventory singleton to the shards. Such a namespace leaves the
    pool: for an hour a new shard's first run takes its part from a singleton that completed its
    hand-over (its answer may have been lost), and the dev server deletes closed workflows only
    eventually, so a later test's shards would start with this test's stock."""
    try:
        described = await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status == WorkflowExecutionStatus.COMPLETED


async def _delete_all(client: Client) -> None:
    """Ask the server to delete every execution, so the next lease's lists stay short (a
    closed one may stay listed for a while: the dev server deletes it in the background)."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest

    executions = [w async for w in client.list_workflows()]
    await asyncio.gather(*(_ignoring_gone(client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(namespace=client.namespace, workflow_execution=WorkflowExecution(
            workflow_id=w.id, run_id=w.run_id)))) for w in executions))


async def _ignoring_gone(call: Awaitable[object]) -> None:
    try:
        await call
    except RPCError as exc:  # ended or deleted already: visibility trails the server
        if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise
