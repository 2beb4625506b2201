"""`python -m workers [--queues a,b]`: run the workers of some or all task queues."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from infra.config import load_config
from infra.logs import configure
from infra.store import open_store
from infra.temporal import connect, ensure_search_attributes
from projections.orders import open_order_index
from projections.search import open_index

from . import release
from .registry import QUEUES, Dependencies

log = logging.getLogger("workers")
T = TypeVar("T")

# After SIGTERM, running activities get this long to finish in this process before they are
# cancelled (and retried on another worker). A process manager must wait longer than this
# before its SIGKILL (docker-compose.yml: stop_grace_period).
SHUTDOWN_GRACE = timedelta(seconds=10)
# A worker starting while Temporal or the store is down tries again, at most this many seconds apart.
START_PATIENCE_MAX = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--queues", default=",".join(QUEUES),
                        help=f"comma-separated task queues (default: all of {', '.join(QUEUES)})")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="Prometheus metrics port (default COMMERCE_METRICS_PORT or 9464; 0 disables)")
    parser.add_argument("--activity-threads", type=int, default=16)
    args = parser.parse_args(argv)
    args.queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = [q for q in args.queues if q not in QUEUES]
    if unknown:
        parser.error(f"unknown queues {unknown}; known: {', '.join(QUEUES)}")
    return args


class Stopped(Exception):
    """A stop signal came while the worker was still waiting for its dependencies."""


async def _patiently(what: str, stop: asyncio.Event, attempt: Callable[[], Awaitable[T]]) -> T:
    """`attempt()` until it succeeds, waiting 1 s and doubling to at most START_PATIENCE_MAX
    between tries; a stop signal meanwhile ends the wait (Stopped)."""
    delay = 1.0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            log.warning("waiting for %s (%s: %s); trying again in %.0f s", what, type(exc).__name__, exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            raise Stopped(what)
        delay = min(delay * 2, START_PATIENCE_MAX)


async def run(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before anything slow, so no signal kills us mid-start
        loop.add_signal_handler(sig, stop.set)
    config = load_config()
    port = config.metrics_port if args.metrics_port is None else args.metrics_port
    runtime = None
    if port:
        bind = f"{config.metrics_host}:{port}"
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))
    # A worker started while Temporal or the store is down (a restart, a whole machine coming
    # back) waits for them instead of exiting: a supervisor restarting it at once would soon
    # give up on a worker that dies over and over for a reason that is not its own.
    client = await _patiently("Temporal", stop, lambda: connect(config, runtime))
    await _patiently("Temporal's search attributes", stop,
                     lambda: ensure_search_attributes(client, config.temporal_namespace))

    async def opened() -> Dependencies:
        index = open_index(config)
        index.ensure()
        order_index = open_order_index(config)
        order_index.ensure()
        return Dependencies(store=open_store(config), index=index, client=client, order_index=order_index)

    deps = await _patiently("the store and search index", stop, opened)
    executor = ThreadPoolExecutor(max_workers=args.activity_threads, thread_name_prefix="activity")
    build = release.build_id(config)  # the release, recorded with each task this worker completes
    workers = []
    for queue in args.queues:
        spec = QUEUES[queue](deps)
        workers.append(Worker(
            client, task_queue=queue, workflows=spec.workflows, activities=spec.activities,
            activity_executor=executor, graceful_shutdown_timeout=SHUTDOWN_GRACE,
            identity=release.identity(build), deployment_config=release.deployment(build),
            patch_activation_callback=release.patch_activation(config),
        ))
    from domains.webhooks.queue import TASK_QUEUE as WEBHOOKS_QUEUE

    if WEBHOOKS_QUEUE in args.queues:  # the daily retention pass of the webhook log (created once)
        from domains.webhooks.client import ensure_prune_schedule

        await ensure_prune_schedule(client)
    log.info("polling %s on %s (metrics on %s) as build %s%s%s", ", ".join(args.queues), config.temporal_address,
             f"{config.metrics_host}:{port}" if port else "off", build,
             "" if config.codec_encrypt else ", payloads written plain",
             ", new patches held" if config.hold_new_patches else "")
    running = [asyncio.create_task(w.run()) for w in workers]
    await stop.wait()
    log.info("shutting down: letting running activities finish")
    await asyncio.gather(*(w.shutdown() for w in workers))
    await asyncio.gather(*running, return_exceptions=True)
    executor.shutdown(wait=True)
    deps.store.close()
    deps.index.close()
    if deps.order_index is not None:
        deps.order_index.close()


def main() -> None:
    # text for people, or JSON lines with the workflow and activity ids (COMMERCE_LOG_FORMAT, infra/logs.py)
    configure(load_config().log_format, os.environ.get("LOG_LEVEL", "INFO").upper())
    with contextlib.suppress(Stopped):  # stopped while still waiting for Temporal or the store
        asyncio.run(run())
    # Stopped and closed: skip the interpreter's teardown, where the Temporal SDK's native threads
    # can abort the process ("PyGILState_Release ... finalizing", SIGABRT; temporalio/sdk-python
    # issue 300, seen here on a worker of the previous release), so a graceful stop exits 0.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
