"""Cart and checkout figures for `make bench`: add-to-cart through HTTP against two floors on
the same Temporal server, and a whole checkout. A new cart's first add is an update-with-start
(floor: a bare update-with-start of the cheapest workflow, tests/floor_workflow.py); an add to
an existing cart is an update (floor: a bare update on that workflow, already running). The
issue's targets: the first within 2x its floor, the second within 1.5x.

Everything runs on this machine: a dev server, the shop's workers in this process, and
the real WSGI application on a loopback port, called over HTTP from client threads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from .bench_sizes import sized
from .floor_workflow import Floor
from .servers import TEST_CODEC_KEYS

SAMPLES = sized(120, 3)
CHECKOUTS = sized(15, 1)
WARM_UP = sized(10, 1)
NEW_CART_TARGET = 2.0  # a new cart's first add against a bare update-with-start (issue 18)
EXISTING_CART_TARGET = 1.5  # an add to an existing cart against a bare update on a running workflow


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[int(len(ordered) * .95) - 1], 1)}


def _http(base: str, method: str, path: str, body: dict | None = None, cart: str | None = None) -> tuple[int, dict,
                                                                                                         dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **({"X-Cart-Id": cart} if cart else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


async def run_bench() -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from domains.catalog.importer import parse_catalog
    from domains.catalog.loader import seed_stock, write_catalog
    from fixtures.generator import generate_catalog
    from infra.config import load_config
    from infra.store.sqlite import SqliteStore
    from projections.search.sqlite_fts import SqliteProductIndex
    from storefront import services

    from .servers import start_dev_server
    from .shop_harness import running_shop

    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    try:
        catalog = parse_catalog(generate_catalog(seed=9, product_count=200))
        store = SqliteStore(tmp / "store.sqlite3")
        store.create_schema()
        write_catalog(catalog, store)
        seed_stock(store, catalog, 100_000)
        index = SqliteProductIndex(tmp / "search.sqlite3")
        index.ensure()
        settings.COMMERCE = dataclasses.replace(load_config(), data_dir=tmp, store_backend="sqlite",
                                                search_backend="sqlite", codec_keys=TEST_CODEC_KEYS,
                                                temporal_address=env.client.service_client.config.target_host)
        services.reset()
        server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Server, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        variants = [v.id for v in catalog.variants if v.available]

        async with running_shop(env.client, store, index), Worker(env.client, task_queue="floor", workflows=[Floor]):
            running = await env.client.start_workflow(Floor.run, id=f"floor-running-{uuid.uuid4().hex}",
                                                      task_queue="floor")

            async def floor_update_once() -> float:
                started = time.perf_counter()
                await running.execute_update(Floor.bump, 1)
                return (time.perf_counter() - started) * 1000

            async def floor_once() -> float:
                op = WithStartWorkflowOperation(Floor.run, id=f"floor-{uuid.uuid4().hex}", task_queue="floor",
                                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
                started = time.perf_counter()
                await env.client.execute_update_with_start_workflow(Floor.bump, 1, start_workflow_operation=op)
                return (time.perf_counter() - started) * 1000

            def add_once(i: int) -> tuple[float, float]:
                """A new cart's first add, then an add of another variant to that cart."""
                started = time.perf_counter()
                status, _, headers = _http(base, "POST", "/api/cart/items", {"variant_id": variants[i % len(variants)]})
                assert status == 201, status
                first = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                status, _, _ = _http(base, "POST", "/api/cart/items",
                                     {"variant_id": variants[(i + 1) % len(variants)]}, cart=headers["X-Cart-Id"])
                assert status == 200, status
                return first, (time.perf_counter() - started) * 1000

            def checkout_once(i: int) -> float:
                _, _, headers = _http(base, "POST", "/api/cart/items", {"variant_id": variants[i % len(variants)]})
                cart = headers["X-Cart-Id"]
                started = time.perf_counter()
                _http(base, "POST", "/api/checkout", cart=cart)
                _http(base, "PUT", "/api/checkout/shipping", {
                    "email": "b@example.com", "first_name": "B", "last_name": "Ench", "address1": "1 Loop",
                    "city": "Austin", "state": "TX", "postal_code": "73301", "country": "US"}, cart=cart)
                _http(base, "PUT", "/api/checkout/payment", {"token": "tok_success"}, cart=cart)
                status, body, _ = _http(base, "POST", "/api/checkout/submit", cart=cart)
                assert status == 200 and body["confirmation_code"], body
                return (time.perf_counter() - started) * 1000

            for i in range(WARM_UP):  # warm up every path
                await floor_once()
                await floor_update_once()
                await asyncio.to_thread(add_once, i)
            floor, floor_update, adds, more = [], [], [], []
            for i in range(SAMPLES):  # interleaved, so all see the same machine
                floor.append(await floor_once())
                floor_update.append(await floor_update_once())
                first, then = await asyncio.to_thread(add_once, i)
                adds.append(first)
                more.append(then)
            checkouts = [await asyncio.to_thread(checkout_once, i) for i in range(CHECKOUTS)]
        server.shutdown()
        f, a = _summary(floor), _summary(adds)
        u, m = _summary(floor_update), _summary(more)
        return {"floor_update_with_start": f, "add_to_cart_http": a,
                "ratio_median": round(a["median_ms"] / f["median_ms"], 2),
                "floor_update_running": u, "add_to_existing_cart_http": m,
                "ratio_existing_median": round(m["median_ms"] / u["median_ms"], 2),
                "checkout_begin_to_placed": _summary(checkouts),
                "samples": SAMPLES, "checkouts": CHECKOUTS}
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> dict:
    result = asyncio.run(run_bench())
    f, a, c = result["floor_update_with_start"], result["add_to_cart_http"], result["checkout_begin_to_placed"]
    print(f"\ncart ({result['samples']} samples each, interleaved; {result['checkouts']} checkouts)")
    print(f"  bare update-with-start (floor)   median {f['median_ms']:7.1f} ms   p95 {f['p95_ms']:7.1f} ms")
    u, m = result["floor_update_running"], result["add_to_existing_cart_http"]
    print(f"  add-to-cart over HTTP, new cart  median {a['median_ms']:7.1f} ms   p95 {a['p95_ms']:7.1f} ms"
          f"   {result['ratio_median']:.2f}x the floor (target {NEW_CART_TARGET}x)")
    print(f"  bare update, running (floor)     median {u['median_ms']:7.1f} ms   p95 {u['p95_ms']:7.1f} ms")
    print(f"  add-to-cart over HTTP, existing  median {m['median_ms']:7.1f} ms   p95 {m['p95_ms']:7.1f} ms"
          f"   {result['ratio_existing_median']:.2f}x the floor (target {EXISTING_CART_TARGET}x)")
    print(f"  checkout, begin to placed        median {c['median_ms']:7.1f} ms   p95 {c['p95_ms']:7.1f} ms")
    return result


if __name__ == "__main__":
    main()
