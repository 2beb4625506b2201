"""How long the shop's calls to Temporal take, and which fail: a client interceptor.

The web processes connect with it (storefront/temporal_bridge.py), so every start, update,
update-with-start, query and signal a request makes is timed in Prometheus histograms by
operation and workflow type (starts) or handler name (updates, queries, signals), and logged at
INFO with the workflow id beside the request id (infra/logs.py), so a request can be followed
into its workflow. Failures are counted by operation and status: the gRPC status name of an
`RPCError` (UNAVAILABLE, DEADLINE_EXCEEDED...), otherwise the exception's class
(`WorkflowUpdateFailedError` is a business answer from a handler, not an outage).

Label values are names from the code (operations, workflow types, handler names, status
names, exception classes), never ids: the number of series stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram
from temporalio import client as tc
from temporalio.service import RPCError

T = TypeVar("T")
log = logging.getLogger("commerce.temporal")

CALL_SECONDS = Histogram(
    "commerce_temporal_client_seconds",
    "Time the shop's calls to Temporal take, by operation and workflow type or handler name",
    ["operation", "workflow_type", "handler"],
)
CALL_ERRORS = Counter(
    "commerce_temporal_client_errors",
    "The shop's calls to Temporal that failed, by operation and gRPC status (or exception class)",
    ["operation", "status"],
)


def _status(exc: BaseException) -> str:
    if isinstance(exc, RPCError):
        return exc.status.name
    if isinstance(exc, asyncio.CancelledError):  # the web request's budget ran out while it waited
        return "CANCELLED"
    return type(exc).__name__


# Calls that change a workflow are logged at INFO; reads (queries, describes) at DEBUG: a page
# view makes several and they change nothing one would follow.
READS = {"query", "describe", "count"}


async def _timed(operation: str, call: Awaitable[T], *, workflow_id: str, workflow_type: str = "",
                 handler: str = "") -> T:
    started = time.perf_counter()
    level = logging.DEBUG if operation in READS else logging.INFO
    fields: dict[str, Any] = {"temporal_operation": operation}
    if workflow_id:
        fields["workflow_id"] = workflow_id
    if workflow_type:
        fields["workflow_type"] = workflow_type
    if handler:
        fields["handler"] = handler
    what = " ".join(part for part in (operation, workflow_id, handler) if part)
    try:
        result = await call
    except BaseException as exc:
        CALL_ERRORS.labels(operation, _status(exc)).inc()
        log.log(level, "temporal %s failed: %s", what, _status(exc), extra={**fields, "status": _status(exc)})
        raise
    finally:
        CALL_SECONDS.labels(operation, workflow_type, handler).observe(time.perf_counter() - started)
    for attr in ("result_run_id", "workflow_run_id", "run_id"):
        run_id = getattr(result, attr, None)
        if isinstance(run_id, str) and run_id:
            fields["run_id"] = run_id
            break
    log.log(level, "temporal %s", what, extra=fields)
    return result


class _Outbound(tc.OutboundInterceptor):
    async def start_workflow(self, input: tc.StartWorkflowInput) -> tc.WorkflowHandle[Any, Any]:
        return await _timed("start_workflow", super().start_workflow(input), workflow_id=input.id,
                            workflow_type=input.workflow)

    async def start_workflow_update(self, input: tc.StartWorkflowUpdateInput) -> tc.WorkflowUpdateHandle[Any]:
        return await _timed("update", super().start_workflow_update(input), workflow_id=input.id,
                            handler=input.update)

    async def start_update_with_start_workflow(
            self, input: tc.StartWorkflowUpdateWithStartInput) -> tc.WorkflowUpdateHandle[Any]:
        start, update = input.start_workflow_input, input.update_workflow_input
        return await _timed("update_with_start", super().start_update_with_start_workflow(input),
                            workflow_id=start.id, workflow_type=start.workflow, handler=update.update)

    async def query_workflow(self, input: tc.QueryWorkflowInput) -> Any:
        return await _timed("query", super().query_workflow(input), workflow_id=input.id, handler=input.query)

    async def signal_workflow(self, input: tc.SignalWorkflowInput) -> None:
        await _timed("signal", super().signal_workflow(input), workflow_id=input.id, handler=input.signal)

    async def describe_workflow(self, input: tc.DescribeWorkflowInput) -> tc.WorkflowExecutionDescription:
        return await _timed("describe", super().describe_workflow(input), workflow_id=input.id)

    async def cancel_workflow(self, input: tc.CancelWorkflowInput) -> None:
        await _timed("cancel", super().cancel_workflow(input), workflow_id=input.id)

    async def terminate_workflow(self, input: tc.TerminateWorkflowInput) -> None:
        await _timed("terminate", super().terminate_workflow(input), workflow_id=input.id)

    async def count_workflows(self, input: tc.CountWorkflowsInput) -> tc.WorkflowExecutionCount:
        return await _timed("count", super().count_workflows(input), workflow_id="")


class ClientMetrics(tc.Interceptor):
    """`Client.connect(..., interceptors=[ClientMetrics()])`."""

    def intercept_client(self, next: tc.OutboundInterceptor) -> tc.OutboundInterceptor:
        return _Outbound(next)
