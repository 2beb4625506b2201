"""The reindex workflow on a real Temporal server: rebuild aside, switch, survive a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.worker import Worker

from domains.catalog.client import reindex_status, start_reindex
from domains.catalog.messages import ReindexInput, ReindexStage
from domains.catalog.queue import TASK_QUEUE
from projections.search import SearchQuery
from workers.registry import QUEUES, Dependencies

from ..embedded import load_embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded(tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog)
    return tmp_path, store, index


def in_process_worker(client, store, index, executor):
    spec = QUEUES[TASK_QUEUE](Dependencies(store=store, index=index, client=client))
    return Worker(client, task_queue=TASK_QUEUE, workflows=spec.workflows, activities=spec.activities,
                  activity_executor=executor)


async def test_reindex_rebuilds_from_the_store_and_switches_readers(temporal_env, embedded, small_catalog):
    _, store, index = embedded
    before = index.live_generation()
    renamed = small_catalog.products[0]
    store.put("products", {"id": renamed.id, "name": "Quokka Quest Tee"})  # the index does not know yet
    assert index.search(SearchQuery(q="quokka")).total == 0

    with ThreadPoolExecutor(4) as executor:
        async with in_process_worker(temporal_env.client, store, index, executor):
            handle = await start_reindex(temporal_env.client, ReindexInput(page_size=50))
            result = await handle.result()

    assert result.stage == ReindexStage.DONE
    assert result.indexed == result.total == len(small_catalog.products)
    assert index.live_generation() not in (None, before)
    assert [h.id for h in index.search(SearchQuery(q="quokka")).hits] == [renamed.id]
    assert index.count() == len(small_catalog.products)


async def test_a_second_request_attaches_to_the_running_reindex(temporal_env, embedded):
    _, store, index = embedded
    with ThreadPoolExecutor(4) as executor:
        async with in_process_worker(temporal_env.client, store, index, executor):
            slow = ReindexInput(page_size=20, page_delay_seconds=0.05)
            first = await start_reindex(temporal_env.client, slow)
            second = await start_reindex(temporal_env.client, slow)
            assert second.result_run_id == first.result_run_id
            await first.result()


async def test_reindex_resumes_from_its_heartbeat_after_the_worker_is_killed(temporal_env, embedded, small_catalog):
    data_dir, store, index = embedded
    env = {**os.environ, "COMMERCE_DATA_DIR": str(data_dir), "COMMERCE_STORE": "sqlite",
           "COMMERCE_SEARCH": "sqlite", "TEMPORAL_ADDRESS": temporal_env.target,
           "TEMPORAL_NAMESPACE": temporal_env.namespace}
    worker = subprocess.Popen([sys.executable, "-m", "workers", "--queues", TASK_QUEUE, "--metrics-port", "0"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        handle = await start_reindex(temporal_env.client, ReindexInput(
            page_size=10, page_delay_seconds=0.2, heartbeat_timeout_seconds=2))
        for _ in range(300):  # wait until part of the catalog is indexed
            status = await reindex_status(temporal_env.client, handle)
            if status and status.indexed >= 40:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the reindex made no progress")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()

    with ThreadPoolExecutor(4) as executor:
        async with in_process_worker(temporal_env.client, store, index, executor):
            result = await asyncio.wait_for(handle.result(), 120)

    assert result.stage == ReindexStage.DONE
    assert result.resumed_from >= 40  # the retry started where the dead worker's last heartbeat was
    assert result.indexed == len(small_catalog.products)
    assert index.count() == len(small_catalog.products)
    attempts = [e.activity_task_started_event_attributes.attempt async for e in handle.fetch_history_events()
                if e.HasField("activity_task_started_event_attributes")]
    assert max(attempts) >= 2  # the indexing activity really was retried after the kill
