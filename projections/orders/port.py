"""The order read-model port: the admin lists' index of orders and supplier orders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime

from .documents import (
    OrderDocument,
    OrderPage,
    OrderQuery,
    ReturnDocument,
    ReturnPage,
    ReturnQuery,
    SupplierOrderDocument,
    SupplierOrderPage,
    SupplierOrderQuery,
)


class OrderIndex(ABC):
    backend: str = ""

    @abstractmethod
    def ensure(self) -> None:
        """Create the indices if missing, so reads and writes work from the start."""

    @abstractmethod
    def upsert_orders(self, docs: Iterable[OrderDocument]) -> int:
        """Write documents; one whose `version` is lower than the stored one is skipped."""

    @abstractmethod
    def upsert_supplier_orders(self, docs: Iterable[SupplierOrderDocument]) -> int: ...

    @abstractmethod
    def upsert_returns(self, docs: Iterable[ReturnDocument]) -> int:
        """Write return documents; one whose `version` is lower than the stored one is skipped."""

    @abstractmethod
    def search_returns(self, query: ReturnQuery) -> ReturnPage:
        """One page of the returns matching every filter, newest first (ties by return id)."""

    @abstractmethod
    def get_order(self, order_id: str) -> OrderDocument | None: ...

    @abstractmethod
    def search_orders(self, query: OrderQuery) -> OrderPage:
        """One page of the orders matching every filter, in the query's sort: by offset
        (`page`, within MAX_WINDOW) or after a cursor (`after`, any depth). Totals, status
        counts and revenue cover every match, whichever page is asked for."""

    @abstractmethod
    def search_supplier_orders(self, query: SupplierOrderQuery) -> SupplierOrderPage: ...

    @abstractmethod
    def orders_per_hour(self, since: datetime) -> list[tuple[datetime, int]]:
        """Orders placed per hour from `since` (hour buckets in UTC, empty hours omitted)."""

    @abstractmethod
    def ping(self) -> None: ...

    def refresh(self) -> None:  # noqa: B027 (optional hook: an adapter overrides it when it needs to)
        pass

    def close(self) -> None:  # noqa: B027 (optional hook)
        pass
