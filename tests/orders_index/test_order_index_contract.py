"""One contract for every order index: SQLite always, Elasticsearch when running.

Each backend must return exactly what the brute-force reference computes over the same
~300 generated orders: the same orders in the same order, the same status counts and
revenue, under every filter, text query, sort and page. Long because it is one contract run
against both backends: splitting it would let the backends drift apart.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domains.orders.ids import CONFIRMATION_ALPHABET
from infra.config import load_config
from projections.orders import (
    MAX_WINDOW,
    DocumentLine,
    OrderCursor,
    OrderDocument,
    OrderQuery,
    OrderSort,
    ReturnDocument,
    ReturnQuery,
    SupplierOrderDocument,
    SupplierOrderQuery,
    open_order_index,
)
from projections.orders.sqlite_index import SqliteOrderIndex
from projections.search import SearchUnavailable

from .. import engines
from . import reference

STATUSES = ["placed", "routed", "in_fulfillment", "partially_shipped", "shipped", "delivered", "completed",
            "cancelled", "refunded"]
SUPPLIER_STATUSES = ["pending", "accepted", "in_production", "shipped", "delivered", "rejected", "cancelled"]
SUPPLIERS = {"printful": "dropship", "gelato": "dropship", "atelier": "manual", "sim": "simulated"}
FIRST = ["John", "Joan", "Johanna", "Anne-Marie", "Sean", "Siobhan", "José", "Mary", "Maryam", "Liam", "Olivia", "Noah"]
LAST = ["Smith", "Smithers", "O'Neil", "Nguyen", "García", "Johnson", "Jones", "Brown", "van der Berg", "Lee"]
PRICES = [1500, 2200, 2500, 3200]  # few prices, so totals tie often and the order_id tie-break matters
START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
ORDER_COUNT = 300


# --- data -----------------------------------------------------------------------------

def _customers(rng: random.Random) -> list[tuple[str, str, str]]:
    """(customer_id, name, email); a quarter are guests, identified by their email."""
    out = []
    for i in range(90):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".replace(" ", "").replace("'", "").replace("é", "e").replace("í", "i")
        email = f"{local}{i}@{rng.choice(['example.com', 'Mail.Example.org', 'shop-test.net'])}"
        if rng.random() < 0.3:
            email = email.lower()
        customer_id = f"guest:{email.lower()}" if i % 4 == 3 else f"cust-{rng.getrandbits(40):010x}"
        out.append((customer_id, f"{first} {last}", email))
    return out


def make_orders(seed: int = 11, count: int = ORDER_COUNT) -> list[OrderDocument]:
    rng = random.Random(seed)
    customers = _customers(rng)
    regulars = customers[:12]  # these place several orders each
    codes: set[str] = set()
    docs: list[OrderDocument] = []
    for i in range(count):
        customer_id, name, email = rng.choice(regulars) if rng.random() < 0.35 else rng.choice(customers)
        while (code := "".join(rng.choice(CONFIRMATION_ALPHABET) for _ in range(8))) in codes:
            pass
        codes.add(code)
        placed = START + timedelta(seconds=rng.randrange(3 * 86400), milliseconds=rng.randrange(1000))
        if i % 23 == 22:
            placed = docs[-1].placed_at  # same instant: the tie-break decides
        updated = placed + timedelta(minutes=rng.randrange(0, 2 * 24 * 60))
        if i % 31 == 30:
            updated = docs[-1].updated_at
        lines = []
        for n in range(rng.randint(1, 3)):
            qty, price = rng.randint(1, 3), rng.choice(PRICES)
            lines.append(DocumentLine(
                variant_id=f"var-{rng.randrange(1000):04d}", product_name=f"Product {n}", blank_sku=f"BLK-{n}",
                options={"size": rng.choice(["S", "M", "L"]), "color": rng.choice(["Black", "White"])},
                quantity=qty, line_total=qty * price,
            ))
        subtotal = sum(li.line_total for li in lines)
        discount = rng.choice([0, 0, 0, 500])
        shipping = rng.choice([0, 499])
        tax = subtotal * 8 // 100
        total = subtotal - discount + shipping + tax
        status = rng.choice(STATUSES)
        refunded = total if status == "refunded" else (rng.choice([0, 0, 0, 0, 1000]) if status != "placed" else 0)
        suppliers = sorted(rng.sample(sorted(SUPPLIERS), rng.randint(1, 2)))
        order_id = f"ord-{rng.getrandbits(48):012x}"
        docs.append(OrderDocument(
            order_id=order_id, confirmation_code=code, customer_id=customer_id, email=email, customer_name=name,
            status=status, placed_at=placed, updated_at=updated, currency="USD", subtotal=subtotal,
            discount=discount, shipping=shipping, tax=tax, total=total, refunded=refunded,
            item_count=sum(li.quantity for li in lines), lines=lines, suppliers=suppliers,
            supplier_order_ids=[f"{order_id}-{s}" for s in suppliers], version=rng.randint(1, 5),
        ))
    return docs


def make_supplier_orders(orders: list[OrderDocument], seed: int = 12) -> list[SupplierOrderDocument]:
    rng = random.Random(seed)
    out = []
    for o in orders:
        for supplier, so_id in zip(o.suppliers, o.supplier_order_ids, strict=True):
            created = o.placed_at + timedelta(seconds=rng.randrange(1, 600))
            status = rng.choice(SUPPLIER_STATUSES)
            strategy = SUPPLIERS[supplier]
            shipped = status in ("shipped", "delivered")
            out.append(SupplierOrderDocument(
                supplier_order_id=so_id, order_id=o.order_id, confirmation_code=o.confirmation_code,
                email=o.email, supplier=supplier, strategy=strategy, status=status,
                waiting_on_manual=strategy == "manual" and status in ("accepted", "in_production"),
                created_at=created, updated_at=created + timedelta(minutes=rng.randrange(0, 3000)),
                carrier="UPS" if shipped else None,
                tracking_number=f"1Z{rng.getrandbits(40):010X}" if shipped else None,
                lines=o.lines[: rng.randint(1, len(o.lines))], version=rng.randint(1, 3),
            ))
    return out


@pytest.fixture(scope="module")
def orders() -> list[OrderDocument]:
    return make_orders()


@pytest.fixture(scope="module")
def supplier_orders(orders) -> list[SupplierOrderDocument]:
    return make_supplier_orders(orders)


RETURN_STATUSES = ["requested", "approved", "rejected", "label_issued", "in_transit", "received", "refunded",
                   "closed", "expired"]
REASONS = ["too_small", "too_large", "damaged", "wrong_item", "not_as_described", "changed_mind", "other"]


def make_returns(orders: list[OrderDocument], seed: int = 13) -> list[ReturnDocument]:
    rng = random.Random(seed)
    docs: list[ReturnDocument] = []
    for i, order in enumerate(rng.sample(orders, 120)):
        created = order.placed_at + timedelta(days=rng.randrange(1, 40), milliseconds=rng.randrange(1000))
        if i % 17 == 16:
            created = docs[-1].created_at  # same instant: the return id decides
        docs.append(ReturnDocument(
            return_id=f"{order.confirmation_code}-R{rng.randrange(1, 3)}", order_id=order.order_id,
            confirmation_code=order.confirmation_code, email=order.email, status=rng.choice(RETURN_STATUSES),
            reasons=sorted(set(rng.sample(REASONS, rng.randrange(1, 3)))), created_at=created,
            updated_at=created + timedelta(hours=rng.randrange(100)), refund_amount=rng.choice([0, 1500, 2200]),
            line_count=rng.randrange(1, 4), version=rng.randrange(1, 9)))
    return docs


@pytest.fixture(scope="module")
def returns(orders) -> list[ReturnDocument]:
    return make_returns(orders)


# --- backends -------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "elasticsearch"])
def order_index(request, tmp_path):
    if request.param == "sqlite":
        ix = SqliteOrderIndex(tmp_path / "orders_index.sqlite3")
    else:
        from projections.orders.elastic_index import ElasticOrderIndex

        url = engines.need("elasticsearch", engines.elasticsearch_url())
        ix = ElasticOrderIndex(url, prefix=f"test{uuid.uuid4().hex[:10]}")
    ix.ensure()
    yield ix
    if ix.backend == "elasticsearch":
        ix.es.indices.delete(index=[ix.orders_index, ix.supplier_orders_index, ix.returns_index],
                             ignore_unavailable=True)
    ix.close()


@pytest.fixture
def loaded(order_index, orders, supplier_orders):
    shuffled = list(orders)
    random.Random(3).shuffle(shuffled)  # insertion order must not leak into results
    assert order_index.upsert_orders(shuffled[:120]) == 120
    assert order_index.upsert_orders(shuffled[120:]) == len(orders) - 120
    assert order_index.upsert_supplier_orders(supplier_orders) == len(supplier_orders)
    order_index.refresh()
    return order_index


def actual(index, q: OrderQuery) -> dict:
    page = index.search_orders(q)
    return {
        "total": page.total,
        "ids": [h.order_id for h in page.hits],
        "by_status": [(c.status, c.count) for c in page.by_status],
        "revenue": page.revenue,
    }


def check_orders(index, docs: list[OrderDocument], queries: list[dict]) -> None:
    for params in queries:
        q = OrderQuery(**params)
        assert actual(index, q) == reference.search_orders(docs, q), params


def check_supplier_orders(index, docs: list[SupplierOrderDocument], queries: list[dict]) -> None:
    for params in queries:
        q = SupplierOrderQuery(**params)
        page = index.search_supplier_orders(q)
        got = {"total": page.total, "ids": [h.supplier_order_id for h in page.hits]}
        assert got == reference.search_supplier_orders(docs, q), params


def regular_customer(docs: list[OrderDocument], guest: bool = False) -> str:
    counts: dict[str, int] = {}
    for d in docs:
        if d.customer_id.startswith("guest:") == guest:
            counts[d.customer_id] = counts.get(d.customer_id, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c])


# --- orders ---------------------------------------------------------------------------

def test_generated_data_exercises_the_contract(orders, supplier_orders):
    assert len({d.order_id for d in orders}) == ORDER_COUNT
    assert {d.status for d in orders} == set(STATUSES)
    assert len({d.placed_at for d in orders}) < ORDER_COUNT  # equal instants exist
    assert len({d.total for d in orders}) < ORDER_COUNT * 3 / 4  # equal totals exist
    assert max(sum(d.customer_id == c for d in orders) for c in {d.customer_id for d in orders}) >= 5
    assert any(s.waiting_on_manual for s in supplier_orders)
    assert max(d.placed_at for d in orders) - min(d.placed_at for d in orders) > timedelta(days=2, hours=12)


def test_hits_are_the_stored_documents(loaded, orders):
    page = loaded.search_orders(OrderQuery(page_size=200))
    by_id = {d.order_id: d for d in orders}
    assert page.total == len(orders)
    assert all(h == by_id[h.order_id] for h in page.hits)


def test_get_order(loaded, orders):
    for d in orders[:5]:
        assert loaded.get_order(d.order_id) == d
    assert loaded.get_order("ord-missing") is None


def test_no_filter_and_status_filters(loaded, orders):
    check_orders(loaded, orders, [
        {},
        *({"statuses": [s]} for s in STATUSES),
        {"statuses": ["shipped", "delivered"]},
        {"statuses": ["cancelled", "refunded", "placed"]},
        {"statuses": ["no-such-status"]},
    ])


def test_date_ranges(loaded, orders):
    by_time = sorted(orders, key=lambda d: (d.placed_at, d.order_id))
    a, b = by_time[40].placed_at, by_time[200].placed_at  # exact instants: from is inclusive, to exclusive
    check_orders(loaded, orders, [
        {"placed_from": a},
        {"placed_to": b},
        {"placed_from": a, "placed_to": b},
        {"placed_from": a, "placed_to": a},  # empty
        {"placed_from": START + timedelta(days=1), "placed_to": START + timedelta(days=2)},
        {"placed_from": (START + timedelta(hours=30)).replace(tzinfo=None)},  # naive = UTC
        {"placed_from": datetime(2025, 3, 2, 14, 0, tzinfo=timezone(timedelta(hours=2)))},  # = 12:00 UTC
        {"placed_from": a, "placed_to": b, "statuses": ["shipped", "completed"]},
    ])


def test_customer_filter(loaded, orders):
    regular, guest = regular_customer(orders), regular_customer(orders, guest=True)
    assert sum(d.customer_id == regular for d in orders) >= 3
    check_orders(loaded, orders, [
        {"customer_id": regular},
        {"customer_id": guest},
        {"customer_id": regular, "statuses": ["delivered", "completed", "shipped"]},
        {"customer_id": regular, "sort": OrderSort.TOTAL_DESC},
        {"customer_id": "cust-nobody"},
    ])


def test_email_filter(loaded, orders):
    regular = next(d for d in orders if d.customer_id == regular_customer(orders))
    mixed_case = next(d for d in orders if d.email != d.email.lower())
    check_orders(loaded, orders, [
        {"email": regular.email},
        {"email": f"  {mixed_case.email.lower()} "},  # case and surrounding spaces do not matter
        {"email": regular.email.upper(), "statuses": ["delivered", "completed", "shipped"]},
        {"email": regular.email[:-3]},  # whole addresses only: a prefix is no match
        {"email": "nobody@example.com"},
    ])
    assert reference.search_orders(orders, OrderQuery(email=regular.email))["total"] >= 3
    assert reference.search_orders(orders, OrderQuery(email=f" {mixed_case.email.lower()}"))["total"] >= 1


def test_text_search(loaded, orders):
    code = orders[17].confirmation_code
    email = orders[42].email
    regular = next(d for d in orders if d.customer_id == regular_customer(orders))
    queries = [
        {"text": f"{code[:4].lower()}-{code[4:6].lower()}"},  # code prefix, lowercase, with a dash
        {"text": f" {code[:2]} {code[2:5].lower()} "},
        {"text": code},
        {"text": email[3:10].upper()},  # email substring, other case
        {"text": "mail.example"},
        {"text": email},
        {"text": "smith"},  # name word: Smith and Smithers
        {"text": "Smi"},
        {"text": "jo smi"},  # every word a prefix of some name word
        {"text": "smith john"},
        {"text": "o'neil"},
        {"text": "anne-marie"},
        {"text": "berg"},
        {"text": "jose"},  # the name's José, the email's jose
        {"text": "José"},
        {"text": "zzzqx"},
        {"text": "*"},  # wildcard characters are literal
        {"text": "?"},
        {"text": "a*b?"},
        {"text": "%"},
        {"text": "   "},  # blank: no text filter
        {"text": regular.customer_name.split()[0], "customer_id": regular.customer_id},
        {"text": "smith", "statuses": ["shipped", "delivered"]},
        {"text": "example.com", "sort": OrderSort.TOTAL_ASC, "page": 2, "page_size": 10},
    ]
    check_orders(loaded, orders, queries)
    # The cases above really hit each reading of the query (and the literal ones nothing).
    def total(t: str) -> int:
        return reference.search_orders(orders, OrderQuery(text=t))["total"]

    assert total(f"{code[:4].lower()}-{code[4:6].lower()}") == 1
    assert total(email[3:10].upper()) >= 1
    assert total("jo smi") >= 1
    assert total("zzzqx") == total("*") == total("?") == 0


def test_every_sort_and_page(loaded, orders):
    queries = []
    for sort in OrderSort:
        last_page = -(-len(orders) // 25)
        queries += [
            {"sort": sort},
            {"sort": sort, "page": 2},
            {"sort": sort, "page": last_page},
            {"sort": sort, "page": last_page + 1},  # past the end: no hits, same counts
            {"sort": sort, "page_size": 200},
            {"sort": sort, "page": 2, "page_size": 200},
            {"sort": sort, "statuses": ["shipped"], "page": 2, "page_size": 7},
        ]
    check_orders(loaded, orders, queries)


def test_cursor_pages_walk_every_sort(loaded, orders):
    """Keyset pages (after the previous page's last hit) give the same sequence as the
    reference, page by page, and together every match exactly once."""
    for sort in OrderSort:
        for filters in ({}, {"statuses": ["shipped", "delivered", "refunded"]}, {"text": "example.com"}):
            everything = reference.search_orders(orders, OrderQuery(sort=sort, page_size=200, **filters))
            if everything["total"] > 200:
                everything["ids"] += reference.search_orders(
                    orders, OrderQuery(sort=sort, page=2, page_size=200, **filters))["ids"]
            walked, after, pages = [], None, 0
            while True:
                q = OrderQuery(sort=sort, page_size=23, after=after, **filters)
                page = loaded.search_orders(q)
                assert actual(loaded, q) == reference.search_orders(orders, q), (sort, filters, pages)
                assert page.total == everything["total"]
                walked += [h.order_id for h in page.hits]
                pages += 1
                if not page.hits:
                    break
                assert page.next_after == OrderCursor.of(page.hits[-1], sort)
                after = page.next_after
            assert walked == everything["ids"], (sort, filters)
            assert pages == -(-everything["total"] // 23) + 1  # full pages, then one empty page


def test_offset_pages_stop_at_the_window_and_cursors_are_checked():
    assert OrderQuery(page=MAX_WINDOW // 25, page_size=25)
    with pytest.raises(ValidationError, match="10,000"):
        OrderQuery(page=MAX_WINDOW // 25 + 1, page_size=25)
    cursor = OrderCursor(sort=OrderSort.TOTAL_DESC, value=4599, order_id="ord-1.2")
    assert OrderCursor.parse(cursor.token()) == cursor
    assert OrderQuery(sort=OrderSort.TOTAL_DESC, after=cursor, page_size=200).after == cursor
    with pytest.raises(ValidationError, match="page must be 1"):
        OrderQuery(sort=OrderSort.TOTAL_DESC, after=cursor, page=2)
    with pytest.raises(ValidationError, match="sort"):
        OrderQuery(sort=OrderSort.NEWEST, after=cursor)
    for bad in ("", "newest", "newest.12", "sideways.1.ord", "newest.x.ord", "newest.1."):
        with pytest.raises(ValueError):
            OrderCursor.parse(bad)


def test_status_counts_and_revenue(loaded, orders):
    q = OrderQuery(statuses=["refunded", "delivered"], placed_from=START + timedelta(hours=12))
    page = loaded.search_orders(q)
    expected = reference.search_orders(orders, q)
    # Counts ignore the status filter, so every status shows; revenue follows every filter.
    assert {c.status for c in page.by_status} == set(STATUSES)
    counts = [c.count for c in page.by_status]
    assert counts == sorted(counts, reverse=True)
    assert page.revenue == expected["revenue"] > 0
    assert sum(c.count for c in page.by_status if c.status in q.statuses) == page.total


def test_orders_per_hour(loaded, orders):
    for since in (START - timedelta(days=1), START + timedelta(hours=30, minutes=17, seconds=5),
                  sorted(d.placed_at for d in orders)[150], START + timedelta(days=4)):
        got = loaded.orders_per_hour(since)
        assert got == reference.orders_per_hour(orders, since), since
    buckets = loaded.orders_per_hour(START - timedelta(days=1))
    assert sum(n for _, n in buckets) == len(orders)
    assert all(h.minute == h.second == h.microsecond == 0 and h.utcoffset() == timedelta(0) for h, _ in buckets)


# --- versions -------------------------------------------------------------------------

def test_a_stale_order_write_is_skipped(order_index, orders):
    a, b = orders[0], orders[1]
    v2 = a.model_copy(update={"version": 2, "status": "shipped"})
    v1 = a.model_copy(update={"version": 1, "status": "routed"})
    assert order_index.upsert_orders([v2, b]) == 2
    assert order_index.upsert_orders([v1]) == 0
    order_index.refresh()
    assert order_index.get_order(a.order_id) == v2
    page = order_index.search_orders(OrderQuery(statuses=["routed"]))
    assert a.order_id not in [h.order_id for h in page.hits]
    # An equal version overwrites (a re-projection of the same state), a higher one too.
    v2b = v2.model_copy(update={"email": "changed@example.com"})
    v3 = v2.model_copy(update={"version": 3, "status": "delivered"})
    stale_b = b.model_copy(update={"version": b.version - 1, "status": "cancelled"})
    assert order_index.upsert_orders([v2b]) == 1
    assert order_index.get_order(a.order_id) == v2b
    assert order_index.upsert_orders([v3, stale_b]) == 1
    order_index.refresh()
    assert order_index.get_order(a.order_id) == v3
    assert order_index.get_order(b.order_id) == b
    page = order_index.search_orders(OrderQuery(statuses=["delivered"]))
    assert [h.order_id for h in page.hits] == [a.order_id]


def test_a_stale_supplier_order_write_is_skipped(order_index, supplier_orders):
    s = supplier_orders[0]
    v2 = s.model_copy(update={"version": 2, "status": "shipped", "carrier": "UPS", "tracking_number": "1Z1"})
    v1 = s.model_copy(update={"version": 1, "status": "accepted"})
    assert order_index.upsert_supplier_orders([v2]) == 1
    assert order_index.upsert_supplier_orders([v1]) == 0
    order_index.refresh()
    page = order_index.search_supplier_orders(SupplierOrderQuery(order_id=s.order_id))
    assert [h for h in page.hits if h.supplier_order_id == s.supplier_order_id] == [v2]
    assert order_index.search_supplier_orders(SupplierOrderQuery(statuses=["accepted"])).total == 0
    v2b = v2.model_copy(update={"waiting_on_manual": True})
    assert order_index.upsert_supplier_orders([v2b]) == 1
    order_index.refresh()
    assert order_index.search_supplier_orders(SupplierOrderQuery(waiting_on_manual=True)).hits == [v2b]


def test_a_stale_return_write_is_skipped(order_index, returns):
    r = returns[0]
    v2 = r.model_copy(update={"version": 2, "status": "received", "refund_amount": 0})
    v1 = r.model_copy(update={"version": 1, "status": "requested"})
    assert order_index.upsert_returns([v2]) == 1
    assert order_index.upsert_returns([v1]) == 0
    order_index.refresh()
    assert order_index.search_returns(ReturnQuery(statuses=["requested"])).total == 0
    assert order_index.search_returns(ReturnQuery(statuses=["received"])).hits == [v2]
    v3 = v2.model_copy(update={"version": 3, "status": "refunded", "refund_amount": 2200})
    assert order_index.upsert_returns([v3]) == 1
    order_index.refresh()
    assert order_index.search_returns(ReturnQuery()).hits == [v3]


# --- returns --------------------------------------------------------------------------

def test_return_filters_sorts_and_pages(order_index, returns):
    shuffled = list(returns)
    random.Random(5).shuffle(shuffled)
    assert order_index.upsert_returns(shuffled) == len(returns)
    order_index.refresh()
    page = order_index.search_returns(ReturnQuery(page_size=500))
    assert sorted(page.hits, key=lambda d: d.return_id) == sorted(returns, key=lambda d: d.return_id)
    middle = sorted(d.created_at for d in returns)[len(returns) // 2]
    queries: list[dict] = [
        {}, {"statuses": ["requested"]}, {"statuses": ["approved", "label_issued", "in_transit"]},
        {"reason": "damaged"}, {"reason": "changed_mind", "statuses": ["requested", "refunded"]},
        {"created_before": middle}, {"created_before": middle, "reason": "too_small"},
        {"created_before": START}, {"statuses": ["no_such_status"]},
        {"offset": 10, "page_size": 7}, {"offset": 115, "page_size": 10}, {"offset": 200},
        {"reason": "other", "offset": 3, "page_size": 4},
    ]
    for params in queries:
        q = ReturnQuery(**params)
        got = order_index.search_returns(q)
        assert {"total": got.total, "ids": [h.return_id for h in got.hits]} == reference.search_returns(returns, q), \
            params
    assert all(order_index.search_returns(ReturnQuery(statuses=[s])).total for s in ["requested", "refunded"])
    assert order_index.search_returns(ReturnQuery(reason="damaged")).total > 0


def test_return_pages_stop_at_the_window():
    with pytest.raises(ValidationError):
        ReturnQuery(offset=MAX_WINDOW, page_size=1)


# --- supplier orders ------------------------------------------------------------------

def test_supplier_order_filters(loaded, supplier_orders):
    some = supplier_orders[10]
    check_supplier_orders(loaded, supplier_orders, [
        {},
        *({"statuses": [s]} for s in SUPPLIER_STATUSES),
        {"statuses": ["accepted", "in_production"]},
        *({"supplier": s} for s in SUPPLIERS),
        {"supplier": "atelier", "statuses": ["in_production"]},
        {"order_id": some.order_id},
        {"order_id": "ord-missing"},
        {"waiting_on_manual": True},
        {"waiting_on_manual": False},
        {"waiting_on_manual": True, "supplier": "atelier", "sort": OrderSort.OLDEST},
    ])


def test_supplier_order_sorts_and_pages(loaded, supplier_orders):
    queries = []
    for sort in OrderSort:
        last_page = -(-len(supplier_orders) // 50)
        queries += [
            {"sort": sort},
            {"sort": sort, "page": 2},
            {"sort": sort, "page": last_page},
            {"sort": sort, "page_size": 500},
            {"sort": sort, "supplier": "printful", "page": 2, "page_size": 9},
        ]
    check_supplier_orders(loaded, supplier_orders, queries)
    page = loaded.search_supplier_orders(SupplierOrderQuery(page_size=500))
    by_id = {s.supplier_order_id: s for s in supplier_orders}
    assert page.total == len(supplier_orders)
    assert all(h == by_id[h.supplier_order_id] for h in page.hits)


# --- wiring ---------------------------------------------------------------------------

def test_open_order_index_follows_the_search_backend(tmp_path):
    from projections.orders.elastic_index import ElasticOrderIndex

    config = dataclasses.replace(load_config(), data_dir=tmp_path, search_backend="sqlite")
    ix = open_order_index(config)
    assert isinstance(ix, SqliteOrderIndex) and ix.path == tmp_path / "orders_index.sqlite3"
    config = dataclasses.replace(config, search_backend="elasticsearch", search_index_prefix="shop1",
                                 elasticsearch_url="http://127.0.0.1:1")
    ix = open_order_index(config)
    assert isinstance(ix, ElasticOrderIndex)
    assert (ix.orders_index, ix.supplier_orders_index) == ("shop1-orders", "shop1-supplier-orders")
    ix.close()


def test_elasticsearch_without_indices_is_unavailable():
    from projections.orders.elastic_index import ElasticOrderIndex

    url = engines.need("elasticsearch", engines.elasticsearch_url())
    ix = ElasticOrderIndex(url, prefix=f"test{uuid.uuid4().hex[:10]}")
    try:
        ix.ping()
        with pytest.raises(SearchUnavailable):
            ix.search_orders(OrderQuery())
        with pytest.raises(SearchUnavailable):
            ix.get_order("ord-1")
    finally:
        ix.close()
