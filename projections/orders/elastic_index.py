"""Elasticsearch adapter of the order index.

Three concrete indices, `<prefix>-orders`, `<prefix>-supplier-orders` and `<prefix>-returns`, with explicit
settings and a strict mapping using only core features (keyword, date, long, the
`standard` analyzer; no scripts), so it runs on the stripped test distribution and on a
full server alike. The whole document is kept in `_source` (its lines as a disabled
object: stored, not indexed) next to a few derived fields the text search needs.

A stale write never wins: every write carries the document's `version` as an external
version (`external_gte`), and the version conflicts that this produces are counted as
skipped writes, not errors. Writes do not wait for a refresh by default (the admin lists
tolerate the ~1 s refresh interval); `refresh=True` makes each write wait for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import bulk

from projections.search.port import SearchUnavailable

from . import text
from .documents import (
    OrderCursor,
    OrderDocument,
    OrderPage,
    OrderQuery,
    OrderSort,
    ReturnDocument,
    ReturnPage,
    ReturnQuery,
    StatusCount,
    SupplierOrderDocument,
    SupplierOrderPage,
    SupplierOrderQuery,
)
from .port import OrderIndex

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_LONG = {"type": "long"}
_LINES = {"type": "object", "enabled": False}  # kept in _source for display, never searched

ORDER_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "order_id": _KEYWORD,
        "confirmation_code": _KEYWORD,
        "customer_id": _KEYWORD,
        "email": _KEYWORD,
        "customer_name": {"type": "text", "analyzer": "standard"},
        "status": _KEYWORD,
        "placed_at": _DATE,
        "updated_at": _DATE,
        "currency": _KEYWORD,
        "subtotal": _LONG,
        "discount": _LONG,
        "shipping": _LONG,
        "tax": _LONG,
        "total": _LONG,
        "refunded": _LONG,
        "item_count": {"type": "integer"},
        "lines": _LINES,
        "suppliers": _KEYWORD,
        "supplier_order_ids": _KEYWORD,
        "return_state": _KEYWORD,
        "version": _LONG,
        # Derived for the text search (projections.orders.text), identical on both backends.
        "code_key": _KEYWORD,
        "email_lc": _KEYWORD,
        "name_words": _KEYWORD,
    },
}

SUPPLIER_ORDER_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "supplier_order_id": _KEYWORD,
        "order_id": _KEYWORD,
        "confirmation_code": _KEYWORD,
        "email": _KEYWORD,
        "supplier": _KEYWORD,
        "strategy": _KEYWORD,
        "status": _KEYWORD,
        "waiting_on_manual": {"type": "boolean"},
        "created_at": _DATE,
        "updated_at": _DATE,
        "carrier": _KEYWORD,
        "tracking_number": _KEYWORD,
        "lines": _LINES,
        "version": _LONG,
        "lines_total": _LONG,  # derived: what the TOTAL sorts order supplier orders by
    },
}

RETURN_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "return_id": _KEYWORD,
        "order_id": _KEYWORD,
        "confirmation_code": _KEYWORD,
        "email": _KEYWORD,
        "status": _KEYWORD,
        "reasons": _KEYWORD,
        "created_at": _DATE,
        "updated_at": _DATE,
        "refund_amount": _LONG,
        "line_count": {"type": "integer"},
        "version": _LONG,
    },
}
_RETURN_SORT: list[dict[str, str]] = [{"created_at": "desc"}, {"return_id": "asc"}]

_DERIVED_ORDER_FIELDS = ["code_key", "email_lc", "name_words"]

_ORDER_SORT: dict[OrderSort, list[dict[str, str]]] = {
    OrderSort.NEWEST: [{"placed_at": "desc"}, {"order_id": "asc"}],
    OrderSort.OLDEST: [{"placed_at": "asc"}, {"order_id": "asc"}],
    OrderSort.TOTAL_DESC: [{"total": "desc"}, {"order_id": "asc"}],
    OrderSort.TOTAL_ASC: [{"total": "asc"}, {"order_id": "asc"}],
    OrderSort.UPDATED: [{"updated_at": "desc"}, {"order_id": "asc"}],
}
_SUPPLIER_SORT: dict[OrderSort, list[dict[str, str]]] = {
    OrderSort.NEWEST: [{"created_at": "desc"}, {"supplier_order_id": "asc"}],
    OrderSort.OLDEST: [{"created_at": "asc"}, {"supplier_order_id": "asc"}],
    OrderSort.TOTAL_DESC: [{"lines_total": "desc"}, {"supplier_order_id": "asc"}],
    OrderSort.TOTAL_ASC: [{"lines_total": "asc"}, {"supplier_order_id": "asc"}],
    OrderSort.UPDATED: [{"updated_at": "desc"}, {"supplier_order_id": "asc"}],
}
_STATUS_BUCKETS = 100  # far more than there are statuses


def _order_source(d: OrderDocument) -> dict[str, Any]:
    return {
        **d.model_dump(mode="json"),
        "code_key": text.code_key(d.confirmation_code),
        "email_lc": text.email_key(d.email),
        "name_words": text.words(d.customer_name),
    }


def _supplier_source(d: SupplierOrderDocument) -> dict[str, Any]:
    return {**d.model_dump(mode="json"), "lines_total": sum(li.line_total for li in d.lines)}


def _wildcard_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _millis_range(field: str, gte: datetime | None = None, lt: datetime | None = None) -> dict[str, Any]:
    bounds: dict[str, Any] = {"format": "epoch_millis"}
    if gte is not None:
        bounds["gte"] = text.to_millis(gte)
    if lt is not None:
        bounds["lt"] = text.to_millis(lt)
    return {"range": {field: bounds}}


def _order_filters(query: OrderQuery, *, statuses: bool = True) -> list[dict[str, Any]]:
    f: list[dict[str, Any]] = []
    if statuses and query.statuses:
        f.append({"terms": {"status": query.statuses}})
    if query.return_states:
        f.append({"terms": {"return_state": query.return_states}})
    if query.placed_from is not None or query.placed_to is not None:
        f.append(_millis_range("placed_at", query.placed_from, query.placed_to))
    if query.customer_id is not None:
        f.append({"term": {"customer_id": query.customer_id}})
    if query.email_key is not None:
        f.append({"term": {"email_lc": query.email_key}})
    t = text.TextQuery.parse(query.text)
    if t is not None:
        should: list[dict[str, Any]] = []
        if t.code:
            should.append({"prefix": {"code_key": t.code}})
        if t.email:
            should.append({"wildcard": {"email_lc": {"value": f"*{_wildcard_escape(t.email)}*",
                                                     "case_insensitive": True}}})
        if t.words:
            # Every word is the start of some word of the name (ours, not the analyzer's).
            should.append({"bool": {"filter": [{"prefix": {"name_words": w}} for w in t.words]}})
        f.append({"bool": {"should": should, "minimum_should_match": 1}})
    return f


def _return_filters(query: ReturnQuery) -> list[dict[str, Any]]:
    f: list[dict[str, Any]] = []
    if query.statuses:
        f.append({"terms": {"status": query.statuses}})
    if query.reason is not None:
        f.append({"term": {"reasons": query.reason}})
    if query.created_before is not None:
        f.append(_millis_range("created_at", lt=query.created_before))
    return f


def _supplier_filters(query: SupplierOrderQuery) -> list[dict[str, Any]]:
    f: list[dict[str, Any]] = []
    if query.statuses:
        f.append({"terms": {"status": query.statuses}})
    if query.supplier is not None:
        f.append({"term": {"supplier": query.supplier}})
    if query.order_id is not None:
        f.append({"term": {"order_id": query.order_id}})
    if query.waiting_on_manual is not None:
        f.append({"term": {"waiting_on_manual": query.waiting_on_manual}})
    return f


class ElasticOrderIndex(OrderIndex):
    backend = "elasticsearch"

    def __init__(self, url: str, prefix: str = "commerce", *, replicas: int = 0, shards: int = 1,
                 refresh: bool = False, client: Elasticsearch | None = None):
        self.es = client or Elasticsearch(url, request_timeout=30, retry_on_timeout=True, max_retries=3)
        self.orders_index = f"{prefix}-orders"
        self.supplier_orders_index = f"{prefix}-supplier-orders"
        self.returns_index = f"{prefix}-returns"
        self.settings = {"number_of_shards": shards, "number_of_replicas": replicas, "refresh_interval": "1s"}
        self.refresh_writes = refresh

    @contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except NotFoundError:
            raise SearchUnavailable("the order index has not been created yet (start the worker)") from None
        except TransportError as e:  # connection refused, timeouts: no HTTP answer at all
            raise SearchUnavailable(f"elasticsearch cannot be reached: {e}") from e

    # --- indices --------------------------------------------------------------------

    def _ensure_index(self, name: str, mapping: dict[str, Any]) -> None:
        if self.es.indices.exists(index=name):
            return
        try:
            self.es.indices.create(index=name, settings=self.settings, mappings=mapping)
        except BadRequestError as e:
            if e.error != "resource_already_exists_exception":  # another process created it first
                raise

    def ensure(self) -> None:
        with self._answering():
            self._ensure_index(self.orders_index, ORDER_MAPPING)
            self._ensure_index(self.supplier_orders_index, SUPPLIER_ORDER_MAPPING)
            self._ensure_index(self.returns_index, RETURN_MAPPING)
            # An index created before returns lacks the field its strict mapping now needs: adding one is allowed.
            self.es.indices.put_mapping(index=self.orders_index, properties={"return_state": _KEYWORD})

    def refresh(self) -> None:
        with self._answering():
            self.es.indices.refresh(index=[self.orders_index, self.supplier_orders_index, self.returns_index],
                                   ignore_unavailable=True)

    # --- writes ---------------------------------------------------------------------

    def _bulk(self, index: str, mapping: dict[str, Any], items: list[tuple[str, int, dict[str, Any]]]) -> int:
        if not items:
            return 0
        actions = [
            {"_op_type": "index", "_index": index, "_id": doc_id, "version": version,
             "version_type": "external_gte", "_source": source}
            for doc_id, version, source in items
        ]
        with self._answering():
            # Checked on every write: a missing index must not be auto-created with a dynamic mapping.
            self._ensure_index(index, mapping)
            ok, errors = bulk(self.es, actions, chunk_size=500, raise_on_error=False,
                              refresh="wait_for" if self.refresh_writes else False)
        if isinstance(errors, int):  # only with stats_only, which this call does not ask for
            raise TypeError("bulk returned a count where it returns the failed items")
        failed = [e for e in errors if next(iter(e.values())).get("status") != 409]  # 409: a newer version is stored
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(actions)} writes to {index} failed, first: {failed[0]}")
        return ok

    def upsert_orders(self, docs: Iterable[OrderDocument]) -> int:
        return self._bulk(self.orders_index, ORDER_MAPPING,
                          [(d.order_id, d.version, _order_source(d)) for d in docs])

    def upsert_supplier_orders(self, docs: Iterable[SupplierOrderDocument]) -> int:
        return self._bulk(self.supplier_orders_index, SUPPLIER_ORDER_MAPPING,
                          [(d.supplier_order_id, d.version, _supplier_source(d)) for d in docs])

    def upsert_returns(self, docs: Iterable[ReturnDocument]) -> int:
        return self._bulk(self.returns_index, RETURN_MAPPING,
                          [(d.return_id, d.version, d.model_dump(mode="json")) for d in docs])

    # --- reads ----------------------------------------------------------------------

    def search_returns(self, query: ReturnQuery) -> ReturnPage:
        with self._answering():
            resp = self.es.search(
                index=self.returns_index, query={"bool": {"filter": _return_filters(query)}}, sort=_RETURN_SORT,
                from_=query.offset, size=query.page_size, track_total_hits=True,
            )
        return ReturnPage(total=resp["hits"]["total"]["value"],
                          hits=[ReturnDocument.model_validate(h["_source"]) for h in resp["hits"]["hits"]])

    def get_order(self, order_id: str) -> OrderDocument | None:
        try:
            resp = self.es.get(index=self.orders_index, id=order_id, source_excludes=_DERIVED_ORDER_FIELDS)
        except NotFoundError as e:
            if isinstance(e.body, dict) and e.body.get("found") is False:
                return None  # the index is there, the order is not
            raise SearchUnavailable("the order index has not been created yet (start the worker)") from None
        except TransportError as e:
            raise SearchUnavailable(f"elasticsearch cannot be reached: {e}") from e
        return OrderDocument.model_validate(resp["_source"])

    def search_orders(self, query: OrderQuery) -> OrderPage:
        aggs: dict[str, dict[str, Any]] = {
            # Counts under every filter but the statuses: `global` escapes the query, the
            # filter puts the other filters back.
            "by_status": {"global": {}, "aggs": {"matching": {
                "filter": {"bool": {"filter": _order_filters(query, statuses=False)}},
                "aggs": {"values": {"terms": {"field": "status", "size": _STATUS_BUCKETS}}},
            }}},
            "total": {"sum": {"field": "total"}},
            "refunded": {"sum": {"field": "refunded"}},
        }
        # With a cursor, `search_after` takes the place of `from`: Elasticsearch refuses
        # from + size beyond max_result_window (10,000); a cursor has no such limit.
        paging: dict[str, Any] = ({"search_after": [query.after.value, query.after.order_id]}
                                  if query.after is not None else {"from_": (query.page - 1) * query.page_size})
        with self._answering():
            resp = self.es.search(
                index=self.orders_index, query={"bool": {"filter": _order_filters(query)}}, aggs=aggs,
                sort=_ORDER_SORT[query.sort], size=query.page_size, **paging,
                track_total_hits=True, source_excludes=_DERIVED_ORDER_FIELDS,
            )
        a = resp["aggregations"]
        counts = [(b["key"], b["doc_count"]) for b in a["by_status"]["matching"]["values"]["buckets"]]
        counts.sort(key=lambda sc: (-sc[1], sc[0]))
        hits = [OrderDocument.model_validate(h["_source"]) for h in resp["hits"]["hits"]]
        return OrderPage(
            total=resp["hits"]["total"]["value"],
            hits=hits,
            by_status=[StatusCount(status=s, count=n) for s, n in counts],
            revenue=round(a["total"]["value"]) - round(a["refunded"]["value"]),
            next_after=OrderCursor.of(hits[-1], query.sort) if hits else None,
        )

    def search_supplier_orders(self, query: SupplierOrderQuery) -> SupplierOrderPage:
        with self._answering():
            resp = self.es.search(
                index=self.supplier_orders_index, query={"bool": {"filter": _supplier_filters(query)}},
                sort=_SUPPLIER_SORT[query.sort], from_=(query.page - 1) * query.page_size, size=query.page_size,
                track_total_hits=True, source_excludes=["lines_total"],
            )
        return SupplierOrderPage(
            total=resp["hits"]["total"]["value"],
            hits=[SupplierOrderDocument.model_validate(h["_source"]) for h in resp["hits"]["hits"]],
        )

    def orders_per_hour(self, since: datetime) -> list[tuple[datetime, int]]:
        with self._answering():
            resp = self.es.search(
                index=self.orders_index, size=0, query=_millis_range("placed_at", gte=since),
                aggs={"hours": {"date_histogram": {"field": "placed_at", "calendar_interval": "hour",
                                                   "min_doc_count": 1}}},
            )
        return [(text.from_millis(b["key"]), b["doc_count"]) for b in resp["aggregations"]["hours"]["buckets"]]

    def ping(self) -> None:
        # GET / answers 405 on the test distribution; cluster health answers everywhere.
        with self._answering():
            self.es.cluster.health(timeout="5s")

    def close(self) -> None:
        self.es.close()
