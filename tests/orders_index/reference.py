"""A brute-force reference of the order index semantics, over documents in memory.

Independent of both adapters (no SQL, no Elasticsearch, not even the adapters' shared
text helpers): plain Python filters, sorts and counts that every backend must equal.
Times compare at millisecond precision (UTC, naive = UTC), as both backends store them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from projections.orders import (
    OrderDocument,
    OrderQuery,
    OrderSort,
    ReturnDocument,
    ReturnQuery,
    SupplierOrderDocument,
    SupplierOrderQuery,
)

_WORD = re.compile(r"[^\W_]+")


def ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def _code(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def text_matches(doc: OrderDocument, q: str) -> bool:
    q = q.strip()
    code = _code(q)
    if code and _code(doc.confirmation_code).startswith(code):
        return True
    if q.lower() in doc.email.lower():
        return True
    query_words = [w.lower() for w in _WORD.findall(q)]
    name_words = [w.lower() for w in _WORD.findall(doc.customer_name)]
    return bool(query_words) and all(any(n.startswith(w) for n in name_words) for w in query_words)


def order_matches(doc: OrderDocument, q: OrderQuery, *, statuses: bool = True) -> bool:
    if statuses and q.statuses and doc.status not in q.statuses:
        return False
    if q.placed_from is not None and ms(doc.placed_at) < ms(q.placed_from):
        return False
    if q.placed_to is not None and ms(doc.placed_at) >= ms(q.placed_to):
        return False
    if q.customer_id is not None and doc.customer_id != q.customer_id:
        return False
    if q.email is not None and doc.email.strip().lower() != q.email.strip().lower():
        return False
    return not (q.text and q.text.strip()) or text_matches(doc, q.text)


def _order_key(sort: OrderSort):
    return {
        OrderSort.NEWEST: lambda d: (-ms(d.placed_at), d.order_id),
        OrderSort.OLDEST: lambda d: (ms(d.placed_at), d.order_id),
        OrderSort.TOTAL_DESC: lambda d: (-d.total, d.order_id),
        OrderSort.TOTAL_ASC: lambda d: (d.total, d.order_id),
        OrderSort.UPDATED: lambda d: (-ms(d.updated_at), d.order_id),
    }[sort]


def search_orders(docs: list[OrderDocument], q: OrderQuery) -> dict:
    """total, the page's order ids in order, by_status as (status, count) pairs, revenue."""
    key = _order_key(q.sort)
    matching = sorted((d for d in docs if order_matches(d, q)), key=key)
    start = (q.page - 1) * q.page_size
    if q.after is not None:
        # The cursor is the last hit of the previous page: what sorts strictly after it.
        cursor = _cursor_doc(q)
        start = sum(1 for d in matching if key(d) <= key(cursor))
    counts = Counter(d.status for d in docs if order_matches(d, q, statuses=False))
    return {
        "total": len(matching),
        "ids": [d.order_id for d in matching[start:start + q.page_size]],
        "by_status": sorted(counts.items(), key=lambda sc: (-sc[1], sc[0])),
        "revenue": sum(d.total - d.refunded for d in matching),
    }


def _cursor_doc(q: OrderQuery) -> OrderDocument:
    """A stand-in document carrying the cursor's sort value, to compare with the sort key."""
    at = datetime.fromtimestamp(0, UTC) + timedelta(milliseconds=q.after.value)
    return OrderDocument.model_construct(order_id=q.after.order_id, placed_at=at, updated_at=at, total=q.after.value)


def _supplier_key(sort: OrderSort):
    def lines_total(d: SupplierOrderDocument) -> int:
        return sum(li.line_total for li in d.lines)

    return {
        OrderSort.NEWEST: lambda d: (-ms(d.created_at), d.supplier_order_id),
        OrderSort.OLDEST: lambda d: (ms(d.created_at), d.supplier_order_id),
        OrderSort.TOTAL_DESC: lambda d: (-lines_total(d), d.supplier_order_id),
        OrderSort.TOTAL_ASC: lambda d: (lines_total(d), d.supplier_order_id),
        OrderSort.UPDATED: lambda d: (-ms(d.updated_at), d.supplier_order_id),
    }[sort]


def search_supplier_orders(docs: list[SupplierOrderDocument], q: SupplierOrderQuery) -> dict:
    matching = sorted(
        (d for d in docs
         if (not q.statuses or d.status in q.statuses)
         and (q.supplier is None or d.supplier == q.supplier)
         and (q.order_id is None or d.order_id == q.order_id)
         and (q.waiting_on_manual is None or d.waiting_on_manual == q.waiting_on_manual)),
        key=_supplier_key(q.sort),
    )
    start = (q.page - 1) * q.page_size
    return {"total": len(matching), "ids": [d.supplier_order_id for d in matching[start:start + q.page_size]]}


def orders_per_hour(docs: list[OrderDocument], since: datetime) -> list[tuple[datetime, int]]:
    hour = 3_600_000
    counts = Counter(ms(d.placed_at) // hour for d in docs if ms(d.placed_at) >= ms(since))
    return [(datetime.fromtimestamp(h * 3600, UTC), n) for h, n in sorted(counts.items())]


def search_returns(docs: list[ReturnDocument], q: ReturnQuery) -> dict:
    """Newest first (created_at desc at ms precision, then return id), every filter at once."""
    hits = [d for d in docs
            if (not q.statuses or d.status in q.statuses)
            and (q.reason is None or q.reason in d.reasons)
            and (q.created_before is None or ms(d.created_at) < ms(q.created_before))]
    hits.sort(key=lambda d: (-ms(d.created_at), d.return_id))
    return {"total": len(hits), "ids": [d.return_id for d in hits[q.offset:q.offset + q.page_size]]}
