"""The admin order list on 10,000 orders, for `make bench`.

Loads 10,000 synthetic order documents into the order index (SQLite always;
Elasticsearch too when one is reachable, as `tests/bench_orders.py` decides), then times
the admin list view for a first page, a status filter, a text search, a date range and
the deepest page (page 400 of 25: by number, and by the cursor Next follows).

The view runs as Django runs it minus the middleware: `RequestFactory` requests with
`request.staff` set to a manager, passed to `storefront.admin_panel.orders.views.order_list`
(its permission check, parameter parsing, the index query and the template render). Signing
in for real would need the identity workflows and a Temporal server, which measure nothing
about the list. The baseline, measured in the same run, is the bare `search_orders` call
with the same query, so the ratio is what the page adds on top of the index.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from .bench_sizes import sized

ORDERS = sized(10_000, 150)
ROUNDS = sized(40, 2)  # timed requests per case (after a warm-up)
PAGE_SIZE = 25
DEEP_PAGE = ORDERS // PAGE_SIZE  # the last full page: page 400 of 10,000 orders
STATUSES = (("completed", 40), ("delivered", 18), ("shipped", 12), ("in_fulfillment", 10), ("routed", 3),
            ("placed", 2), ("partially_shipped", 3), ("cancelled", 8), ("refunded", 4))
FIRST = ["Ada", "Alan", "Grace", "Linus", "Ken", "Barbara", "Edsger", "Margaret", "Donald", "Frances", "John", "Mary"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Thompson", "Liskov", "Dijkstra", "Hamilton", "Knuth", "Allen",
        "Smith", "Jones", "Nguyen", "Garcia", "Brown"]
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 120


def synthetic_orders(count: int = ORDERS, seed: int = 7) -> list:
    """Orders over 120 days from 2,000 customers (a fifth of them guests), one to three lines each."""
    from domains.orders.ids import CONFIRMATION_ALPHABET
    from projections.orders import DocumentLine, OrderDocument

    rng = random.Random(seed)
    customers = []
    for i in range(2000):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{i}@example.com".lower()
        customers.append((f"guest:{email}" if i % 5 == 0 else f"shopper-{i:05d}", f"{first} {last}", email))
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    codes: set[str] = set()
    docs = []
    for _ in range(count):
        customer_id, name, email = rng.choice(customers)
        while (code := "".join(rng.choice(CONFIRMATION_ALPHABET) for _ in range(8))) in codes:
            pass
        codes.add(code)
        placed = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        lines = [DocumentLine(variant_id=f"var-{rng.randrange(5000):05d}", product_name=f"Product {n}",
                              blank_sku=f"BLK-{rng.randrange(300)}", options={"size": "M", "color": "Black"},
                              quantity=(q := rng.randint(1, 3)), line_total=q * rng.choice([1800, 2400, 3200, 4500]))
                 for n in range(rng.randint(1, 3))]
        subtotal = sum(li.line_total for li in lines)
        status = rng.choices(statuses, weights)[0]
        total = subtotal + (0 if subtotal >= 7500 else 599) + subtotal * 6 // 100
        order_id = str(uuid.UUID(int=rng.getrandbits(128)))
        docs.append(OrderDocument(
            order_id=order_id, confirmation_code=code, customer_id=customer_id, email=email, customer_name=name,
            status=status, placed_at=placed, updated_at=placed + timedelta(hours=rng.randrange(1, 200)),
            currency="USD", subtotal=subtotal, discount=0, shipping=total - subtotal - subtotal * 6 // 100,
            tax=subtotal * 6 // 100, total=total, refunded=total if status == "refunded" else 0,
            item_count=sum(li.quantity for li in lines), lines=lines, suppliers=["sim"],
            supplier_order_ids=[f"{code}-1"], version=1))
    return docs


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[int(len(ordered) * .95) - 1], 2),
            "n": len(ordered)}


def cases(docs: list, index) -> dict[str, list[str]]:
    """Each case's URLs (a text search rotates through several queries, so no one answer is cached)."""
    from projections.orders import OrderQuery

    rng = random.Random(3)
    sample = rng.sample(docs, 20)
    texts = [d.confirmation_code[:5] for d in sample[:10]] + [d.email.split("@")[0][:9] for d in sample[10:15]] + [
        d.customer_name.split()[1][:4].lower() for d in sample[15:]]
    week = START + timedelta(days=60)
    before_deep = index.search_orders(OrderQuery(page=DEEP_PAGE - 1, page_size=PAGE_SIZE))
    return {
        "first page": ["/admin/orders/"],
        "status filter": ["/admin/orders/?status=shipped"],
        "text search": [f"/admin/orders/?q={t}" for t in texts],
        "date range": [f"/admin/orders/?from={week.date()}&to={(week + timedelta(days=6)).date()}"],
        f"deep page {DEEP_PAGE} (number)": [f"/admin/orders/?page={DEEP_PAGE}"],
        f"deep page {DEEP_PAGE} (cursor)": [f"/admin/orders/?page={DEEP_PAGE}&after={before_deep.next_after.token()}"],
    }


def bench_backend(name: str, index, docs: list) -> dict:
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.test import RequestFactory

    from storefront import services
    from storefront.accounts.principals import StaffUser
    from storefront.admin_panel.orders import filters as orders_filters
    from storefront.admin_panel.orders import views as admin_orders

    index.ensure()
    started = time.perf_counter()
    for i in range(0, len(docs), 1000):
        index.upsert_orders(docs[i:i + 1000])
    index.refresh()
    load_s = time.perf_counter() - started
    staff = StaffUser(staff_id="bench", email="bench@example.com", name="Bench", role="manager")
    factory = RequestFactory()

    def view(url: str) -> float:
        request = factory.get(url)
        request.staff, request.session = staff, SessionStore()
        t = time.perf_counter()
        response = admin_orders.order_list(request)
        elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200 and b'id="order-list"' in response.content, (url, response.status_code)
        return elapsed

    def bare(url: str) -> float:
        request = factory.get(url)
        _, query = orders_filters.parse(request.GET)
        t = time.perf_counter()
        index.search_orders(query)
        return (time.perf_counter() - t) * 1000

    out: dict = {"backend": name, "orders": len(docs), "load_s": round(load_s, 2), "cases": {}}
    with mock.patch.object(services, "order_index", lambda: index):
        for case, urls in cases(docs, index).items():
            for url in urls[:5]:  # warm up connections, caches, templates
                view(url)
                bare(url)
            page, base = [], []
            for i in range(ROUNDS):  # interleaved, so both see the same machine
                url = urls[i % len(urls)]
                page.append(view(url))
                base.append(bare(url))
            p, b = _summary(page), _summary(base)
            out["cases"][case] = {"page": p, "search_orders": b, "ratio_median": round(p["median_ms"] / b["median_ms"],
                                                                                       2)}
    return out


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    import django

    django.setup()
    import storefront.urls  # noqa: F401 - import the views the way a request would (DRF settings first)
    from projections.orders.sqlite_index import SqliteOrderIndex

    from . import engines

    logging.getLogger("elastic_transport").setLevel(logging.WARNING)  # one line per request otherwise
    docs = synthetic_orders()
    results = []
    tmp = Path(tempfile.mkdtemp())
    try:
        results.append(bench_backend("sqlite", SqliteOrderIndex(tmp / "orders_index.sqlite3"), docs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if engines.elasticsearch_url():
        from projections.orders.elastic_index import ElasticOrderIndex

        es = ElasticOrderIndex(engines.elasticsearch_url(), f"bench{uuid.uuid4().hex[:6]}")
        try:
            results.append(bench_backend("elasticsearch", es, docs))
        finally:
            es.es.indices.delete(index=[es.orders_index, es.supplier_orders_index], ignore_unavailable=True)
            es.close()
    else:
        print(f"(Elasticsearch not running: {engines.HOW})")
    print(f"\nadmin order list on {ORDERS:,} orders: the view through RequestFactory with request.staff set "
          f"(no middleware, no sign-in), {ROUNDS} requests per case; baseline: the bare search_orders call")
    print(f"  {'backend':13} {'case':24} {'page median':>12} {'p95':>9} {'search_orders':>14} {'p95':>9} {'ratio':>6}")
    for r in results:
        for case, c in r["cases"].items():
            print(f"  {r['backend']:13} {case:24} {c['page']['median_ms']:>9.2f} ms {c['page']['p95_ms']:>6.2f} ms "
                  f"{c['search_orders']['median_ms']:>11.2f} ms {c['search_orders']['p95_ms']:>6.2f} ms "
                  f"{c['ratio_median']:>5.2f}x")
        print(f"  {r['backend']:13} {'(load ' + format(r['orders'], ',') + ' orders)':24} {r['load_s']:>9.2f} s")
    return {"orders": ORDERS, "rounds": ROUNDS, "method": "RequestFactory + request.staff, view function called "
            "directly (no middleware)", "results": results}


if __name__ == "__main__":
    main()
