"""One Temporal client per web process, on a dedicated event-loop thread.

Django views are synchronous (gunicorn gthread workers); the Temporal client is asyncio.
Rather than a connection per request, each process starts one loop thread on first use,
connects once, and views submit coroutines to it and wait for the result.

Every wait is bounded: a request has a budget (`COMMERCE_REQUEST_BUDGET_SECONDS`, see
`request_budget`), and a call waits at most what is left of it, connect included. While
Temporal restarts a call would otherwise retry for tens of seconds; the user gets a 503
with Retry-After instead, and a page that combines several sources shows the rest.

The client is connected with `infra.temporal_metrics.ClientMetrics` (each call timed for
/metrics and logged with its workflow id), and each call carries the request id of the view that
made it onto the loop thread, so those log lines name the request (docs/observability.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from temporalio.client import Client

from infra import logs
from infra.config import Config
from infra.temporal import connect
from infra.temporal_metrics import ClientMetrics

from . import request_budget

T = TypeVar("T")
OUTSIDE_REQUEST_SECONDS = 30.0


class TemporalBridge:
    def __init__(self, config: Config):
        self._config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._connecting: asyncio.Task | None = None  # one connect at a time, shared by every caller
        self._lock = threading.Lock()

    @property
    def budget(self) -> float:
        return self._config.request_budget_seconds

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="temporal-loop", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _connect(self) -> Client:
        try:  # bounded: a server that accepts the socket but does not answer must not hold the connect
            return await asyncio.wait_for(connect(self._config, interceptors=[ClientMetrics()]), self.budget)
        except (RuntimeError, TimeoutError) as exc:  # the SDK reports a failed connect as RuntimeError
            raise ConnectionError(f"cannot connect to Temporal at {self._config.temporal_address}: {exc}") from None

    async def _get_client(self) -> Client:
        # only ever touched on the loop thread
        if self._client is None:
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._connect())
                self._connecting.add_done_callback(lambda t: t.cancelled() or t.exception())  # never "unretrieved"
            # shielded: one caller giving up (its budget spent) does not cancel the others' connect
            self._client = await asyncio.shield(self._connecting)
        return self._client

    def submit(self, fn: Callable[[Client], Awaitable[object]]) -> None:
        """Run `await fn(client)` on the loop thread without waiting (best-effort bookkeeping)."""

        request_id = logs.request_id.get()

        async def call() -> None:
            logs.request_id.set(request_id)  # this task's own context: the view's request id
            with contextlib.suppress(Exception):  # nobody waits for it; the caller accepted losing it
                await fn(await self._get_client())

        asyncio.run_coroutine_threadsafe(call(), self._ensure_loop())

    def run(self, fn: Callable[[Client], Awaitable[T]], timeout: float | None = None, *,
            within_budget: bool = True) -> T:
        """Run `await fn(client)` on the loop thread and return its result.

        Waits at most `timeout` (default: the request budget), and never past what is left of
        the current request's budget unless `within_budget=False` (a staff action that is
        known to take long, e.g. starting hundreds of workflows). Raises TimeoutError."""
        if timeout is None:  # outside a request (commands, bookkeeping) the old generous default
            timeout = self.budget if request_budget.active() else OUTSIDE_REQUEST_SECONDS
        wait = timeout
        if within_budget:
            wait = min(wait, request_budget.remaining(default=wait))
        if wait <= 0:
            raise TimeoutError("the request's time budget is spent; Temporal was not asked")

        request_id = logs.request_id.get()

        async def call() -> T:
            logs.request_id.set(request_id)  # this task's own context: the view's request id
            return await fn(await self._get_client())

        future = asyncio.run_coroutine_threadsafe(call(), self._ensure_loop())
        try:
            return future.result(wait)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"Temporal did not answer within {wait:.1f}s") from None
