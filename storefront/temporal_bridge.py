"""One Temporal client per web process, on a dedicated event-loop thread.

Django views are synchronous (gunicorn gthread workers); the Temporal client is asyncio.
Rather than a connection per request, each process starts one loop thread on first use,
connects once, and views submit coroutines to it and wait for the result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from temporalio.client import Client

from domains.config import Config
from domains.temporal import connect

T = TypeVar("T")


class TemporalBridge:
    def __init__(self, config: Config):
        self._config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._lock = threading.Lock()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="temporal-loop", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _get_client(self) -> Client:
        if self._client is None:  # only ever touched on the loop thread
            try:
                self._client = await connect(self._config)
            except RuntimeError as exc:  # the SDK reports a failed connect as RuntimeError
                raise ConnectionError(f"cannot connect to Temporal at {self._config.temporal_address}: {exc}") from None
        return self._client

    def submit(self, fn: Callable[[Client], Awaitable[object]]) -> None:
        """Run `await fn(client)` on the loop thread without waiting (best-effort bookkeeping)."""

        async def call() -> None:
            try:
                await fn(await self._get_client())
            except Exception:  # noqa: BLE001 - nobody waits for it; the caller accepted losing it
                pass

        asyncio.run_coroutine_threadsafe(call(), self._ensure_loop())

    def run(self, fn: Callable[[Client], Awaitable[T]], timeout: float = 30) -> T:
        """Run `await fn(client)` on the loop thread and return its result."""

        async def call() -> T:
            return await fn(await self._get_client())

        future = asyncio.run_coroutine_threadsafe(call(), self._ensure_loop())
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"Temporal did not answer within {timeout}s") from None
