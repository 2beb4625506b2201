"""COMMERCE_LOG_FORMAT=json: one JSON object a line, carrying the ids that let one follow a
request into a workflow (infra/logs.py). Here the workers' side: a real workflow and activity
logging through temporalio's loggers and a plain module logger, formatted as the worker
process formats them."""

from __future__ import annotations

import io
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.worker import Worker

from infra import logs

from .log_workflows import Packing, pack


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]  # every line parses
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


async def test_worker_log_lines_carry_the_workflow_and_activity_ids(temporal_env, json_lines):
    queue = f"logs-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(2) as executor:
        async with Worker(temporal_env.client, task_queue=queue, workflows=[Packing], activities=[pack],
                          activity_executor=executor):
            handle = await temporal_env.client.start_workflow(Packing.run, "socks", id=f"packing-{queue}",
                                                              task_queue=queue)
            assert await handle.result() == "SOCKS"
    lines = json_lines()
    by_message = {line["message"].split(" ({")[0]: line for line in lines}  # temporalio appends its details

    asked = by_message["asked to pack socks"]
    assert (asked["workflow_id"], asked["run_id"], asked["workflow_type"]) == (
        handle.id, handle.result_run_id, "Packing")
    assert asked["logger"] == "temporalio.workflow" and asked["level"] == "INFO" and asked["task_queue"] == queue

    for message in ("packing socks", "a module logger inside the activity"):
        line = by_message[message]
        assert (line["workflow_id"], line["run_id"], line["activity_type"]) == (
            handle.id, handle.result_run_id, "pack"), message


def test_text_stays_the_default_and_json_lines_carry_the_request_id_and_extras():
    assert logs.logging_config("text")["formatters"]["shop"] == {"format": logs.TEXT_FORMAT}
    record = logging.LogRecord("commerce.x", logging.WARNING, __file__, 1, "cart %s is %s", ("c1", "full"), None)
    record.cart_id = "c1"
    token = logs.request_id.set("req-42")
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "cart c1 is full" and line["level"] == "WARNING"
    assert line["request_id"] == "req-42" and line["cart_id"] == "c1"
