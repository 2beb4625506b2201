"""Faults on the production topology, measured (issue 19).

The shop runs as `make run-cluster` runs it (ops/devstack.py, cluster topology): two worker
processes split by task queue and two gunicorn processes, on the real Temporal cluster
(`make cluster`, 127.0.0.1:7933), with the Cassandra store and the Elasticsearch index. Each
run has its own Temporal namespace, keyspace, index prefix and data folder. Eight shoppers
buy through the JSON API, alternating between the two web processes, retrying a 503 as a
browser does (a submit with its Idempotency-Key). Meanwhile one fault at a time:

1. SIGKILL of the worker process serving inventory, cart and checkout (the devstack starts
   it again, as a process manager would);
2. a restart of the Temporal server (`ops/cluster/cluster.sh restart`);
3. a restart of Cassandra (`ops/engines/engines.sh restart cassandra`): the shop's store and
   the Temporal cluster's persistence go down together.

Then: every accepted order is delivered, once; one authorization per order and its captures
add up to the order, nothing voided or refunded; stock on hand is the seeded stock less what
the orders say, nothing held or committed; each cart's items reached its order; every error a
shopper saw was a 503 with a stable code and Retry-After (or a 409 `request_in_progress`, a
key whose release waits for the store: retried the same way), each answered within the
client's timeout (no 500, no hang). The time each fault took to recover is printed.

Not part of `make test`: marked `faults` (pyproject's addopts deselect it); CI runs it in a
step of its own after `make cluster` (.ci/run). Skipped unless the cluster answers on
127.0.0.1:7933; with COMMERCE_REQUIRE_CLUSTER=1 that skip is a failure. Run it alone:

    make cluster && .venv/bin/python -m pytest -m faults tests/test_cluster_faults.py -s
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests

from domains.catalog.loader import index_catalog, mark_loaded, seed_stock, write_catalog
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders.messages import OrderSettings
from domains.queues import ALL as ALL_QUEUES
from domains.queues import CART
from infra.config import load_config
from infra.store import schema
from infra.temporal import connect

from . import engines
from .cart.test_checkout_workflow import ADDRESS as SHIPPING_ADDRESS
from .money import given_back

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = os.environ.get("CLUSTER_TEMPORAL_ADDRESS", "127.0.0.1:7933")
REQUIRED = os.environ.get("COMMERCE_REQUIRE_CLUSTER") == "1"
SHOPPERS = 8
STOCK = 500
POOL = 24  # variants the shoppers choose from: several shoppers hold the same SKU at once
BUDGET = 5.0  # COMMERCE_REQUEST_BUDGET_SECONDS of the web processes
CLIENT_TIMEOUT = BUDGET + 10  # a request not answered by then is a hang
THINK_SECONDS = (2.0, 5.0)  # between a shopper's orders
STEADY_SECONDS = 15  # normal shopping before the first fault and after each recovery
STABLE_503_CODES = {"service_unavailable", "search_unavailable"}
TEMPORAL_CLI = str(Path(sys.executable).parent / "temporal")


# --- the environment: the cluster, the engines, this run's namespace and data -------------------


def _skip(message: str) -> None:
    if REQUIRED:
        pytest.fail(f"COMMERCE_REQUIRE_CLUSTER=1 but {message}")
    pytest.skip(message)


def _free_port_pair() -> int:
    """A port p with p and p + 1 free (the devstack's second web process and worker take p + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise AssertionError("no two free ports in a row")


def engines_dir() -> Path:
    """The folder of the running Cassandra's engines (ENGINES_DIR): read from its command line, so
    the restart reaches the Cassandra that runs, whichever checkout started it (CI: this one)."""
    listening = subprocess.run(["ss", "-Htlnp", "sport = :9042"], capture_output=True, text=True).stdout
    for pid in re.findall(r"pid=(\d+)", listening):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in args:
            found = re.match(rb"-Dcassandra\.config=file://(/.+)/cassandra/run/conf/cassandra\.yaml$", arg)
            if found:
                return Path(found.group(1).decode())
    return ROOT / "var" / "engines"


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([TEMPORAL_CLI, *args, "--address", ADDRESS], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(autouse=True)
def sigterm_cleans_up():
    """CI's `timeout` ends the run with SIGTERM: raise KeyboardInterrupt instead of dying on the
    spot, so the shoppers, the devstack, the namespace and the keyspace are still cleaned up."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def namespace():
    """A namespace of this run on the cluster (the one inventory service, the schedules and the
    workflow ids are per namespace), deleted afterwards."""
    if not engines.listening(ADDRESS):
        _skip(f"no Temporal cluster on {ADDRESS}: run `make cluster` to enable it")
    name = f"faults-{uuid.uuid4().hex[:8]}"
    created = _cli("operator", "namespace", "create", "--namespace", name, "--retention", "24h")
    assert created.returncode == 0, created.stderr
    deadline = time.monotonic() + 60
    while _cli("workflow", "list", "--namespace", name, "--limit", "1").returncode != 0:
        assert time.monotonic() < deadline, f"namespace {name} not served after 60 s"
        time.sleep(1)
    yield name
    _cli("operator", "namespace", "delete", "--namespace", name, "--yes", timeout=60)


@pytest.fixture
def cluster_shop(namespace, small_catalog, tmp_path):
    """The small catalog in a keyspace and index prefix of this run, every supplier simulated
    with 1 s stages; yields (config, store, the catalog's variants the shoppers buy)."""
    hosts = engines.need("cassandra", engines.cassandra_hosts())
    es_url = engines.need("elasticsearch", engines.elasticsearch_url())
    from infra.store.cassandra import CassandraStore
    from projections.search.elastic import ElasticProductIndex

    tag = uuid.uuid4().hex[:10]
    config = dataclasses.replace(
        load_config(), temporal_address=ADDRESS, temporal_namespace=namespace, store_backend="cassandra",
        cassandra_hosts=tuple(hosts.split(",")), cassandra_keyspace=f"faults_{tag}", search_backend="elasticsearch",
        elasticsearch_url=es_url, search_index_prefix=f"faults{tag}", data_dir=tmp_path / "data")
    config.data_dir.mkdir()
    store = CassandraStore(config.cassandra_hosts, keyspace=config.cassandra_keyspace)
    store.create_schema()
    index = ElasticProductIndex(es_url, prefix=config.search_index_prefix)
    try:
        write_catalog(small_catalog, store)
        seed_stock(store, small_catalog, STOCK)
        index_catalog(small_catalog, index)
        mark_loaded(store, small_catalog)
        store.put(schema.SETTINGS.name, {"name": "fulfillment",
                                         "value": FulfillmentSettings(stage_seconds=1).model_dump()})
        store.put(schema.SETTINGS.name, {"name": "orders",
                                         "value": OrderSettings(flush_delay_seconds=0.2).model_dump()})
        variants = [v for v in small_catalog.variants if v.available]
        rng = random.Random(19)
        yield config, store, rng.sample(variants, POOL)
    finally:
        try:
            store._session.execute(f"DROP KEYSPACE IF EXISTS {config.cassandra_keyspace}", timeout=60)
        except Exception as exc:  # the keyspace is left behind; the run's result stands
            print(f"could not drop {config.cassandra_keyspace}: {exc}")
        store.close()
        index.es.indices.delete(index=f"{config.search_index_prefix}*", expand_wildcards="all",
                                ignore_unavailable=True)
        index.close()


class Devstack:
    """`ops/devstack.py` in the cluster topology on this run's data; SIGTERM stops it and its
    children (it stops each of them itself)."""

    def __init__(self, config, log: Path):
        self.web_port, self.metrics_port = _free_port_pair(), _free_port_pair()
        # as `make run-cluster` starts it: an external Temporal means the cluster topology
        env = {**{k: v for k, v in os.environ.items() if k != "COMMERCE_TOPOLOGY"}, "COMMERCE_EXTERNAL_TEMPORAL": "1",
               "TEMPORAL_ADDRESS": ADDRESS, "TEMPORAL_NAMESPACE": config.temporal_namespace,
               "COMMERCE_STORE": "cassandra", "CASSANDRA_HOSTS": ",".join(config.cassandra_hosts),
               "CASSANDRA_KEYSPACE": config.cassandra_keyspace, "COMMERCE_SEARCH": "elasticsearch",
               "ELASTICSEARCH_URL": config.elasticsearch_url, "COMMERCE_INDEX_PREFIX": config.search_index_prefix,
               "COMMERCE_DATA_DIR": str(config.data_dir), "COMMERCE_WEB_PORT": str(self.web_port),
               "COMMERCE_METRICS_PORT": str(self.metrics_port), "COMMERCE_PAYMENTS": "simulated",
               "COMMERCE_PAYMENT_FLOW": "authorize",
               "COMMERCE_REQUEST_BUDGET_SECONDS": str(BUDGET), "DJANGO_SECRET_KEY": "faults-" + "x" * 50,
               "COMMERCE_PUBLIC_URL": f"http://127.0.0.1:{self.web_port}"}
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "ops/devstack.py"], cwd=ROOT, env=env,
                                     stdout=log.open("ab"), stderr=subprocess.STDOUT)
        self.bases = [f"http://127.0.0.1:{self.web_port}", f"http://127.0.0.1:{self.web_port + 1}"]

    def wait_ready(self, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        for base in self.bases:
            while True:
                assert self.proc.poll() is None, f"the devstack exited:\n{self.log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"{base} never answered:\n{self.log.read_text()[-3000:]}"
                try:
                    if requests.get(f"{base}/api/cart", timeout=CLIENT_TIMEOUT).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.5)

    def topology(self) -> tuple[list[str], list[str]]:
        """(the queues of each worker process, the port each gunicorn process binds)."""
        commands = list(self.children().values())
        queues = sorted(re.search(r"--queues (\S+)", c).group(1) for c in commands if " -m workers " in c)
        binds = sorted(re.search(r"--bind \S+:(\d+)", c).group(1) for c in commands if " -m gunicorn " in c)
        return queues, binds

    def metrics(self, port: int, seconds: float = 60) -> str:
        """The Prometheus page on `port`, once it answers with the SDK's metrics."""
        deadline, body = time.monotonic() + seconds, ""
        while time.monotonic() < deadline and "temporal_" not in body:
            try:
                body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except requests.RequestException:
                pass
            time.sleep(0.2)
        return body

    def children(self) -> dict[int, str]:
        """pid -> command line of each process the devstack runs now."""
        out = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    pid = int(stat.parent.name)
                    out[pid] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError, IndexError):
                continue
        return out

    def worker_serving(self, queue: str) -> int:
        for pid, cmdline in self.children().items():
            if " -m workers " in cmdline and re.search(rf"--queues \S*\b{queue}\b", cmdline):
                return pid
        raise AssertionError(f"no worker process serves {queue}: {self.children()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the shoppers --------------------------------------------------------------------------

@dataclasses.dataclass
class Answer:
    started: float
    ended: float
    method: str
    path: str
    status: int | None  # None: no answer within the client's timeout, or no connection
    code: str | None
    note: str = ""


@dataclasses.dataclass
class Placed:
    cart_id: str
    order_id: str
    added: dict[str, int]  # variant id -> quantity the shopper added
    submitted: float  # when the submit that placed it was first sent
    placed: float  # when its 200 arrived


class Unexpected(Exception):
    pass


class Shop:
    """What every shopper saw: each answer, each order placed."""

    def __init__(self, bases: list[str], variants):
        self.bases = bases
        self.variants = variants
        self.answers: list[Answer] = []
        self.placed: list[Placed] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def note(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


class Shopper(threading.Thread):
    def __init__(self, shop: Shop, number: int):
        super().__init__(name=f"shopper-{number}", daemon=True)
        self.shop, self.number = shop, number
        self.rng = random.Random(number)
        self.http = requests.Session()
        self.turn = number

    def call(self, method: str, path: str, cart_id: str, body: dict | None = None, key: str | None = None,
             give_up_after: float = 240) -> dict:
        """One shopper action, sent again after a 503 (after its Retry-After, at most 2 s) or a
        409 request_in_progress, alternating web processes as a load balancer would. Any other
        error is Unexpected."""
        headers = {"X-Cart-Id": cart_id, **({"Idempotency-Key": key} if key else {})}
        deadline = time.monotonic() + give_up_after
        while True:
            base = self.shop.bases[self.turn % 2]
            self.turn += 1
            self.http.cookies.clear()  # the cart travels in the header, as API clients send it
            started = time.monotonic()
            try:
                response = self.http.request(method, base + path, json=body, headers=headers, timeout=CLIENT_TIMEOUT)
            except requests.Timeout:
                self.shop.note(Answer(started, time.monotonic(), method, path, None, None, "timeout"))
                raise Unexpected(f"{method} {path}: no answer within {CLIENT_TIMEOUT} s") from None
            except requests.ConnectionError as exc:
                self.shop.note(Answer(started, time.monotonic(), method, path, None, None, f"connection: {exc}"))
                raise Unexpected(f"{method} {path} to {base}: {exc}") from None
            ended = time.monotonic()
            try:
                data = response.json()
            except ValueError:
                data = {}
            code = data.get("code") if isinstance(data, dict) and response.status_code >= 400 else None
            self.shop.note(Answer(started, ended, method, path, response.status_code, code))
            if response.status_code < 300:
                return data
            retry = (response.status_code == 503 and code in STABLE_503_CODES
                     and response.headers.get("Retry-After")) or (
                response.status_code == 409 and code == "request_in_progress")
            if not retry:
                raise Unexpected(f"{method} {path}: {response.status_code} {response.text[:300]}")
            if ended > deadline:
                raise Unexpected(f"{method} {path}: still {response.status_code} after {give_up_after} s")
            time.sleep(min(float(response.headers.get("Retry-After") or 1), 2.0) * self.rng.uniform(0.5, 1.0))

    def order(self) -> None:
        cart_id = uuid.uuid4().hex  # chosen here, so a retried first add cannot start a second cart
        added: dict[str, int] = {}
        for variant in self.rng.sample(self.shop.variants, self.rng.randint(1, 2)):
            quantity = self.rng.randint(1, 2)
            self.call("POST", "/api/cart/items", cart_id, {"variant_id": variant.id, "quantity": quantity},
                      key=uuid.uuid4().hex)
            added[variant.id] = quantity
        cart = self.call("GET", "/api/cart", cart_id)
        in_cart = {line["variant_id"]: line["quantity"] for line in cart["lines"]}
        if any(in_cart.get(v, 0) < q for v, q in added.items()):
            raise Unexpected(f"cart {cart_id} lost items: added {added}, holds {in_cart}")
        self.call("POST", "/api/checkout", cart_id, key=uuid.uuid4().hex)
        self.call("PUT", "/api/checkout/shipping", cart_id,
                  SHIPPING_ADDRESS.model_copy(update={"email": f"shopper{self.number}@example.com"})
                  .model_dump(exclude_none=True))
        self.call("PUT", "/api/checkout/payment", cart_id, {"token": "tok_success"})
        submitted = time.monotonic()
        view = self.call("POST", "/api/checkout/submit", cart_id, key=f"submit-{cart_id}")
        if not view.get("order_id"):
            raise Unexpected(f"submit of {cart_id} answered without an order: {view}")
        with self.shop.lock:
            self.shop.placed.append(Placed(cart_id, view["order_id"], added, submitted, time.monotonic()))

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, THINK_SECONDS[1]))
        while not self.shop.stopping.is_set():
            try:
                self.order()
            except Unexpected as exc:
                with self.shop.lock:
                    self.shop.problems.append(f"{self.name}: {exc}")
                return
            except Exception as exc:  # a bug in the shopper itself: reported, not hidden
                with self.shop.lock:
                    self.shop.problems.append(f"{self.name}: {type(exc).__name__}: {exc}")
                return
            self.shop.stopping.wait(self.rng.uniform(*THINK_SECONDS))


# --- faults --------------------------------------------------------------------------------

def _run(argv: list[str], timeout: float, **env: str) -> None:
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **env})
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


def cluster_ours() -> bool:
    """Whether this checkout's cluster.sh runs the server (and so can restart it)."""
    status = subprocess.run(["bash", "ops/cluster/cluster.sh", "status"], cwd=ROOT, capture_output=True, text=True)
    return "server   running" in status.stdout


def recovery(shop: Shop, fault_at: float) -> tuple[float | None, float | None, int]:
    """(seconds from the fault to the first successful answer to a request sent after it, to the
    first order placed by a submit sent after it, errors answered meanwhile)."""
    with shop.lock:
        answers, placed = list(shop.answers), list(shop.placed)
    ok = [a.ended for a in answers if a.started >= fault_at and a.status is not None and a.status < 300]
    orders = [p.placed for p in placed if p.submitted >= fault_at]
    errors = sum(1 for a in answers if a.started >= fault_at and (a.status is None or a.status >= 400))
    return (min(ok) - fault_at if ok else None, min(orders) - fault_at if orders else None, errors)


def wait_recovered(shop: Shop, fault_at: float, seconds: float = 180) -> tuple[float, float, int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        first_ok, first_order, errors = recovery(shop, fault_at)
        if first_order is not None:
            return first_ok, first_order, errors
        if shop.problems:
            break
        time.sleep(0.5)
    raise AssertionError(f"no order placed within {seconds} s; problems: {shop.problems}")


# --- the test ------------------------------------------------------------------------------

def test_shoppers_ride_out_a_worker_kill_a_temporal_restart_and_a_cassandra_restart(cluster_shop, tmp_path):
    config, store, variants = cluster_shop
    if not cluster_ours():
        _skip("the cluster on 7933 was not started from this checkout: its restart cannot be tested here")
    engines_at = engines_dir()
    stack = Devstack(config, tmp_path / "devstack.log")
    shop = Shop(stack.bases, variants)
    shoppers = [Shopper(shop, i) for i in range(SHOPPERS)]
    figures: list[tuple[str, float, float, int]] = []
    try:
        stack.wait_ready()
        # the cluster topology: two workers splitting the queues between them, two web processes
        queues, binds = stack.topology()
        assert len(queues) == 2 and sorted(q for w in queues for q in w.split(",")) == sorted(ALL_QUEUES), queues
        assert binds == sorted([str(stack.web_port), str(stack.web_port + 1)]), binds
        for port in (stack.metrics_port, stack.metrics_port + 1):
            assert "temporal_" in stack.metrics(port)  # each worker's own Prometheus endpoint
        shopping_started = time.monotonic()
        for shopper in shoppers:
            shopper.start()
        wait_recovered(shop, shopping_started)  # the first order (fresh workflows; a busy machine is slow)
        time.sleep(STEADY_SECONDS)
        assert not shop.problems, shop.problems

        faults = [
            ("SIGKILL of the inventory/cart/checkout worker",
             lambda: os.kill(stack.worker_serving(CART), signal.SIGKILL)),
            ("Temporal server restart (cluster.sh restart)",
             lambda: _run(["bash", "ops/cluster/cluster.sh", "restart"], 240)),
            ("Cassandra restart (engines.sh restart cassandra)",
             lambda: _run(["bash", "ops/engines/engines.sh", "restart", "cassandra"], 300,
                          ENGINES_DIR=str(engines_at))),
        ]
        for name, inject in faults:
            fault_at = time.monotonic()
            inject()
            done = time.monotonic() - fault_at
            first_ok, first_order, errors = wait_recovered(shop, fault_at)
            figures.append((name, done, first_order, errors))
            print(f"\n{name}: the fault itself took {done:.1f} s; first success {first_ok:.1f} s, "
                  f"first order {first_order:.1f} s after it began; {errors} error answers", flush=True)
            time.sleep(STEADY_SECONDS)
            assert not shop.problems, shop.problems

        stop_shopping(shop, shoppers)
        print_figures(shop, figures, time.monotonic() - shopping_started)
        assert not shop.problems, shop.problems
        # every error a shopper saw: a 503 with a stable code and Retry-After (the shopper refuses
        # anything else), answered within the client's timeout
        errors = [a for a in shop.answers if a.status is None or a.status >= 400]
        assert all(a.status in (503, 409) for a in errors), [a for a in errors if a.status not in (503, 409)]
        assert all(a.ended - a.started < CLIENT_TIMEOUT for a in shop.answers)
        verify_orders(config, store, shop)  # while the shop runs: its workers deliver the last orders
    finally:
        stop_shopping(shop, shoppers)
        stack.stop()
        print(f"\ndevstack log (tail):\n{stack.log.read_text()[-1500:]}")


def stop_shopping(shop: Shop, shoppers: list[Shopper]) -> None:
    """No new orders; each shopper finishes the one it is placing."""
    shop.stopping.set()
    for shopper in shoppers:
        if shopper.is_alive():
            shopper.join(CLIENT_TIMEOUT * 20)


def verify_orders(config, store, shop: Shop) -> None:
    placed = shop.placed
    order_ids = [p.order_id for p in placed]
    assert len(set(order_ids)) == len(order_ids), "two carts answered with one order"
    assert len({p.cart_id for p in placed}) == len(placed)

    # every accepted order delivered (its supplier orders took 1 s stages)
    deadline = time.monotonic() + 180
    rows: dict[str, dict] = {}
    while time.monotonic() < deadline:
        rows = {oid: store.get(schema.ORDERS.name, {"order_id": oid}) for oid in order_ids}
        if all(r and r["status"] == "delivered" for r in rows.values()):
            break
        time.sleep(1)
    stuck = Counter(r["status"] if r else "missing" for r in rows.values() if not r or r["status"] != "delivered")
    assert not stuck, f"orders not delivered: {stuck}"

    # no order beyond the accepted ones; each delivered once
    stored, cursor = [], None
    while True:
        page, cursor = store.scan(schema.ORDERS.name, cursor=cursor)
        stored += page
        if cursor is None:
            break
    assert sorted(r["order_id"] for r in stored) == sorted(order_ids)
    for oid in order_ids:
        history = store.query(schema.ORDER_HISTORY.name, {"order_id": oid})
        moves = [(h["kind"], h["to_status"]) for h in history if h["kind"] == "status"]
        assert moves.count(("status", "delivered")) == 1, (oid, moves)
        assert len(moves) == len(set(moves)), (oid, moves)

    # money: one authorization per order, captured to the order's total, nothing given back
    for placed_order in placed:
        row = rows[placed_order.order_id]
        payment_id = row["payment"].get("payment_id")
        assert payment_id, row["payment"]
        operations = store.query(schema.PAYMENT_OPERATIONS.name, {"payment_id": payment_id})
        kinds = Counter(op["kind"] for op in operations)
        assert kinds["authorize"] == 1, (placed_order.order_id, operations)
        captures = [op for op in operations if op["kind"] == "capture" and op["status"] == "succeeded"]
        keys = [op["idempotency_key"] for op in operations]
        assert len(keys) == len(set(keys)), f"an operation ran twice: {operations}"
        assert sum(op["amount"] for op in captures) == row["total"], (placed_order.order_id, operations)
        assert given_back(store, payment_id) == [], operations
    intents, cursor = [], None
    while True:
        page, cursor = store.scan(schema.PAYMENT_INTENTS.name, cursor=cursor)
        intents += page
        if cursor is None:
            break
    assert len(intents) == len(placed), "an authorization without an order (or two for one)"

    # no cart lost: each order holds what its shopper added; stock: seeded less the orders
    sold: Counter[str] = Counter()
    for placed_order in placed:
        lines = rows[placed_order.order_id]["lines"]
        got: dict[str, int] = defaultdict(int)
        for line in lines:
            got[line["variant_id"]] += line["quantity"]
            sold[line["blank_sku"]] += line["quantity"]
        assert all(got.get(v, 0) >= q for v, q in placed_order.added.items()), (placed_order, lines)
    skus = sorted({v.blank_sku for v in shop.variants})

    async def settled_levels():
        client = await connect(config)
        for _ in range(120):
            levels = await inventory.levels(client, skus)
            if all(level.reserved == 0 and level.committed == 0 for level in levels):
                break
            await asyncio.sleep(0.5)
        return levels, await inventory.all_reservations(client)

    levels, reservations = asyncio.run(settled_levels())
    assert [level.on_hand for level in levels] == [STOCK - sold[level.sku] for level in levels], levels
    # no hold leaked: nothing reserved or committed once every order is delivered (the holds
    # left, with their owners, say which cart or checkout kept them)
    assert [(level.reserved, level.committed) for level in levels] == [(0, 0)] * len(levels), (
        [level for level in levels if level.reserved or level.committed], reservations)


def print_figures(shop: Shop, figures, seconds: float) -> None:
    answers = shop.answers
    by_status = Counter(a.status if a.status is not None else a.note.split(":")[0] for a in answers)
    print(f"\n{SHOPPERS} shoppers, {seconds:.0f} s: {len(shop.placed)} orders placed "
          f"({len(shop.placed) / seconds * 60:.0f}/min), {len(answers)} requests, answers {dict(by_status)}")
    print("| fault | fault took | first order placed after | error answers |")
    print("| --- | --- | --- | --- |")
    for name, took, first_order, errors in figures:
        print(f"| {name} | {took:.1f} s | {first_order:.1f} s | {errors} |")
