"""The shop's client on the real Temporal cluster (`make cluster`: Cassandra history, Elasticsearch
visibility): an update-with-start runs, the workflow keeps its state, and list queries find it by
id and by one of the shop's own search attributes.

Skipped unless the cluster answers on 127.0.0.1:7933 (or CLUSTER_TEMPORAL_ADDRESS); with
COMMERCE_REQUIRE_CLUSTER=1 that skip is a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Callable

import pytest
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.worker import Worker

from infra.config import load_config
from infra.temporal import connect, ensure_search_attributes

from .engines import listening
from .floor_workflow import Floor

ADDRESS = os.environ.get("CLUSTER_TEMPORAL_ADDRESS", "127.0.0.1:7933")
REQUIRED = os.environ.get("COMMERCE_REQUIRE_CLUSTER") == "1"
HOW = "run `make cluster` to enable it"
CADENCE_STATE = SearchAttributeKey.for_keyword("CadenceState")



@pytest.fixture
async def cluster_client() -> Client:
    if not listening(ADDRESS):
        message = f"no Temporal cluster on {ADDRESS}: {HOW}"
        if REQUIRED:
            pytest.fail(f"COMMERCE_REQUIRE_CLUSTER=1 but {message}")
        pytest.skip(message)
    client = await connect(dataclasses.replace(load_config(), temporal_address=ADDRESS, temporal_namespace="default"))
    await ensure_search_attributes(client)
    return client


async def _listed(client: Client, query: str, settled: Callable[[list[str]], bool]) -> list[str]:
    """The ids a list query returns once `settled` holds (Elasticsearch refreshes about every second),
    or what it returns after 30 s."""
    ids: list[str] = []
    for _ in range(60):
        ids = [w.id async for w in client.list_workflows(query)]
        if settled(ids):
            break
        await asyncio.sleep(0.5)
    return ids


async def test_update_with_start_and_list_queries_on_the_cluster(cluster_client):
    client = cluster_client
    queue, wid, mark = f"cluster-{uuid.uuid4().hex[:8]}", f"cluster-floor-{uuid.uuid4().hex}", uuid.uuid4().hex
    running = f"CadenceState = '{mark}' AND ExecutionStatus = 'Running'"
    async with Worker(client, task_queue=queue, workflows=[Floor]):
        def start() -> WithStartWorkflowOperation:
            return WithStartWorkflowOperation(
                Floor.run, id=wid, task_queue=queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=TypedSearchAttributes([SearchAttributePair(CADENCE_STATE, mark)]))

        try:
            assert await client.execute_update_with_start_workflow(Floor.bump, 2, start_workflow_operation=start()) == 2
            # the second call finds the running workflow: its state came back from Cassandra
            assert await client.execute_update_with_start_workflow(Floor.bump, 3, start_workflow_operation=start()) == 5

            assert await _listed(client, f"WorkflowId = '{wid}'", bool) == [wid]
            assert await _listed(client, running, bool) == [wid]
        finally:
            await client.get_workflow_handle(wid).terminate("test over")
    # the close reaches Elasticsearch too: no longer running, listed as terminated
    assert await _listed(client, running, lambda ids: not ids) == []
    assert await _listed(client, f"CadenceState = '{mark}' AND ExecutionStatus = 'Terminated'", bool) == [wid]
