"""A keyed checkout submit whose worker is SIGKILLed mid-charge answers 503 (within the
request budget) and does not keep that 503: once a worker is back, a retry with the same
key gets the order the first submit placed, and so does a retry without a key."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.test import Client

from domains.cart.ids import cart_workflow_id
from infra.config import load_config
from infra.temporal_ops import queue_workers
from storefront import services

from ..cart.test_checkout_workflow import ADDRESS
from ..embedded import load_embedded
from ..money import taken_at_placement

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 3.0
QUEUES = ("cart", "checkout", "orders", "inventory")
KEY = "submit-7f3a"


@contextmanager
def django_on(lease, data_dir, budget: float = BUDGET):
    """Django's services on this data folder and the test's Temporal namespace (the worker is
    a real `python -m workers` process)."""
    previous = settings.COMMERCE
    settings.COMMERCE = dataclasses.replace(load_config(), data_dir=data_dir, store_backend="sqlite",
                                            search_backend="sqlite", temporal_address=lease.target,
                                            temporal_namespace=lease.namespace, request_budget_seconds=budget)
    services.reset()
    try:
        yield
    finally:
        settings.COMMERCE = previous
        services.reset()


class Api:
    """JSON calls that identify the cart by header, as API clients do (no cookies kept)."""

    def __init__(self):
        self.web = Client()
        self.cart_id = None

    def call(self, method: str, path: str, body: dict | None = None, **headers):
        self.web.cookies.clear()
        if self.cart_id:
            headers["HTTP_X_CART_ID"] = self.cart_id
        response = getattr(self.web, method)(path, json.dumps(body) if body is not None else "",
                                              content_type="application/json", **headers)
        if self.cart_id is None and response.has_header("X-Cart-Id"):
            self.cart_id = response["X-Cart-Id"]
        return response

    def submit(self, key: str | None = KEY):
        return self.call("post", "/api/checkout/submit", **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}))


def start_worker(env: dict) -> subprocess.Popen:
    """Every queue an order needs, in a process of its own (so it can be SIGKILLed)."""
    return subprocess.Popen([sys.executable, "-m", "workers", "--queues", ",".join(QUEUES), "--metrics-port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _polling(client, proc, queues=QUEUES) -> None:
    """Until the worker process polls every queue it serves (its identity starts with its pid)."""
    for _ in range(600):
        found = [await queue_workers(client, q) for q in queues]
        if all(any(p.identity.startswith(f"{proc.pid}@") for p in w.pollers) for w in found):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never polled")


async def _charge_pending(client, checkout_id: str) -> None:
    """Until the charge is scheduled and not finished (tok_flaky: failing attempts and backoff)."""
    handle = client.get_workflow_handle(checkout_id)
    for _ in range(400):
        pending = (await handle.describe()).raw_description.pending_activities
        if any(p.activity_type.name == "authorize" for p in pending):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the charge never started")


async def test_a_keyed_submit_cut_off_by_a_worker_crash_is_retried_into_its_order(temporal_env, tmp_path,
                                                                                   small_catalog):
    store, _ = load_embedded(tmp_path, small_catalog, stock=20)
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.target, "TEMPORAL_NAMESPACE": temporal_env.namespace}
    variant = next(v for v in small_catalog.variants if v.available)
    api = Api()
    workers = [start_worker(env)]
    try:
        await _polling(temporal_env.client, workers[0])
        with django_on(temporal_env, tmp_path):
            assert (await asyncio.to_thread(api.call, "post", "/api/cart/items",
                                            {"variant_id": variant.id, "quantity": 2})).status_code == 201
            assert (await asyncio.to_thread(api.call, "post", "/api/checkout")).status_code == 201
            shipping = ADDRESS.model_dump(exclude_none=True)
            assert (await asyncio.to_thread(api.call, "put", "/api/checkout/shipping", shipping)).status_code == 200
            # tok_flaky: the charge fails twice with backoff, so it is in flight long enough to kill
            payment = await asyncio.to_thread(api.call, "put", "/api/checkout/payment", {"token": "tok_flaky"})
            assert payment.status_code == 200
            checkout_id = payment.json()["id"]

            submitting = asyncio.create_task(asyncio.to_thread(api.submit))
            await _charge_pending(temporal_env.client, checkout_id)
            workers[0].send_signal(signal.SIGKILL)  # the charge activity was started and not finished
            workers[0].wait(10)
            started = time.monotonic()
            cut_off = await submitting
            assert cut_off.status_code == 503, cut_off.content
            assert cut_off.json()["code"] == "service_unavailable" and cut_off.has_header("Retry-After")
            assert time.monotonic() - started < 3 * BUDGET  # loosely: bounded, not the old 30 s
            assert taken_at_placement(store) == []  # the killed authorization never completed
            pending = (await temporal_env.client.get_workflow_handle(checkout_id).describe()
                       ).raw_description.pending_activities
            assert any(p.activity_type.name == "authorize" for p in pending)  # and waits for a worker

            workers.append(start_worker(env))
            await _polling(temporal_env.client, workers[1])
            retried = cut_off
            for _ in range(60):  # a worker picks the placement up again; until then the retry is a 503 too
                retried = await asyncio.to_thread(api.submit)
                if retried.status_code != 503:
                    break
            assert retried.status_code == 200, retried.content
            order = retried.json()
            assert order["step"] == "complete" and order["confirmation_code"]

            replayed = await asyncio.to_thread(api.submit)
            assert replayed.status_code == 200 and replayed["Idempotent-Replayed"] == "true"
            assert replayed.json()["order_id"] == order["order_id"]
            unkeyed = await asyncio.to_thread(api.submit, None)
            assert unkeyed.status_code == 200 and unkeyed.json()["order_id"] == order["order_id"]
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)

    charges = taken_at_placement(store)
    assert len(charges) == 1 and charges[0]["amount"] == order["total"]  # one authorization, of the total
    placed = store.query("orders_by_customer", {"customer_id": f"guest:{ADDRESS.email}"})
    assert [o["order_id"] for o in placed] == [order["order_id"]]
    assert (await temporal_env.client.get_workflow_handle(cart_workflow_id(api.cart_id)).describe()).status
