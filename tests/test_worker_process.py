"""`python -m workers`: queue selection, Prometheus metrics, graceful stop on SIGTERM (running
activities finish in the stopping worker)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

from domains.cart import client as carts
from domains.checkout.messages import Step

from .cart.test_checkout_workflow import ADDRESS
from .embedded import load_embedded
from .money import taken_at_placement
from .worker_faults import activity_events, inventory_worker, started_activity

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unknown_queue_is_refused():
    result = subprocess.run([sys.executable, "-m", "workers", "--queues", "catalog,nonsense"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown queues ['nonsense']" in result.stderr


async def test_worker_serves_metrics_and_stops_gracefully_on_sigterm(temporal_env, tmp_path):
    port = free_port()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.target, "TEMPORAL_NAMESPACE": temporal_env.namespace}
    proc = subprocess.Popen([sys.executable, "-m", "workers", "--metrics-port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = ""
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
                if "temporal_" in body:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.2)
        assert "temporal_" in body  # the SDK runtime's own metrics (pollers, slots, requests)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "polling catalog" in output and "shutting down" in output


async def test_a_worker_started_before_temporal_waits_for_it_and_a_stop_meanwhile_is_clean(tmp_path):
    """A worker whose Temporal server is not up yet (a restart, a machine coming back) keeps
    trying instead of exiting, starts polling once the server answers, and a SIGTERM while it
    still waits ends it at once with exit 0."""
    from temporalio.testing import WorkflowEnvironment

    from .servers import DEV_SERVER_ARGS, _binary, shop_converter

    port = free_port()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "TEMPORAL_NAMESPACE": "default"}

    def start_worker() -> asyncio.subprocess.Process:
        return asyncio.create_subprocess_exec(sys.executable, "-m", "workers", "--queues", "catalog",
                                              "--metrics-port", "0", cwd=ROOT, env=env,
                                              stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)

    seen: list[str] = []
    stopped_early = await start_worker()
    await read_until(stopped_early.stdout, "waiting for Temporal", seen)
    stopped_early.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(stopped_early.wait(), 15) == 0, "".join(seen)

    seen = []
    waiting = await start_worker()
    try:
        await read_until(waiting.stdout, "waiting for Temporal", seen)
        server = await WorkflowEnvironment.start_local(
            port=port, dev_server_existing_path=_binary("temporal"), data_converter=shop_converter(),
            dev_server_extra_args=DEV_SERVER_ARGS)
        try:
            await read_until(waiting.stdout, "polling catalog", seen, timeout=90)
            waiting.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(waiting.wait(), 30) == 0, "".join(seen)
        finally:
            await server.shutdown()
    finally:
        if waiting.returncode is None:
            waiting.kill()


# --- SIGTERM lets running activities finish --------------------------------------------------

async def read_until(stream, text: str, seen: list[str], timeout: float = 60) -> None:
    async def scan():
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the worker exited before saying {text!r}:\n{''.join(seen)}")
            seen.append(line)
            if text in line:
                return
    await asyncio.wait_for(scan(), timeout)


async def test_sigterm_lets_a_running_activity_finish_instead_of_cancelling_it(temporal_env, tmp_path,
                                                                              small_catalog):
    """The checkout worker is stopped while its stock confirmation waits on the inventory
    service; the service answers only after the SIGTERM, inside the grace period. The
    activity must complete on its first attempt in the stopping worker, not be cancelled
    and run again elsewhere."""
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    client = temporal_env.client
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.target, "TEMPORAL_NAMESPACE": temporal_env.namespace}
    variant = next(v for v in small_catalog.variants if v.available)
    cart_id = uuid.uuid4().hex
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", "--queues", "cart,checkout", "--metrics-port", "0",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    second = None
    output: list[str] = []
    try:
        async with inventory_worker(client, store, index):
            await carts.add_item(client, cart_id, variant.id, 2)
            cart = await carts.begin_checkout(client, cart_id)
            await carts.set_shipping(client, cart_id, ADDRESS)
            await carts.set_payment(client, cart_id, "tok_success")
        # the stock service is not served now: the submit authorizes, then waits in confirm_stock
        placing = asyncio.create_task(carts.submit(client, cart_id))
        checkout = client.get_workflow_handle(cart.checkout_id)
        in_flight = await started_activity(checkout, "confirm_stock")
        assert in_flight.attempt == 1
        await read_until(first.stdout, "polling", output)
        first.send_signal(signal.SIGTERM)
        await read_until(first.stdout, "shutting down", output)
        async with inventory_worker(client, store, index):  # the service answers during the grace period
            output.append((await asyncio.wait_for(first.stdout.read(), 60)).decode())
            assert await asyncio.wait_for(first.wait(), 60) == 0, "".join(output)
            assert await activity_events(checkout, "confirm_stock") == [
                "ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_STARTED attempt 1", "ACTIVITY_TASK_COMPLETED"]
            # a new worker finishes the placement from there
            second = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "workers", "--queues", "cart,checkout", "--metrics-port", "0",
                cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            view = await asyncio.wait_for(placing, 120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
    assert view.step == Step.COMPLETE and view.order_id
    assert [p["amount"] for p in taken_at_placement(store)] == [view.total]  # authorized (or charged) once
    await client.get_workflow_handle(f"order-{view.order_id}").terminate("test over: no orders worker runs here")


def test_compose_waits_longer_than_the_grace_before_killing_the_workers():
    import yaml

    from workers.__main__ import SHUTDOWN_GRACE

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("worker-shop", "worker-back"):
        grace = services[name].get("stop_grace_period", "10s")  # Docker's default
        assert grace.endswith("s") and int(grace[:-1]) > SHUTDOWN_GRACE.total_seconds() + 5, name
