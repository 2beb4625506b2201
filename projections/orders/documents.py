"""Read models of orders for the admin lists: one document per order, one per supplier order.

Written by the order workflow's projection activity (batched), read by the admin order
list, the dashboard and the fulfillment CLI's listing. Amounts are integer cents.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from .text import email_key, to_millis

# Elasticsearch's default `index.max_result_window`: offset paging (page x page_size) stops
# here on both backends; past it, pages continue from an `OrderCursor` (keyset paging).
MAX_WINDOW = 10_000


class DocumentLine(BaseModel):
    variant_id: str
    product_name: str
    blank_sku: str
    options: dict[str, str] = Field(default_factory=dict)
    quantity: int
    line_total: int


class OrderDocument(BaseModel):
    order_id: str
    confirmation_code: str
    customer_id: str  # shopper id, or guest:<email>
    email: str
    customer_name: str
    status: str  # domains.orders.messages.OrderStatus value
    placed_at: datetime
    updated_at: datetime
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    refunded: int = 0
    item_count: int
    lines: list[DocumentLine]
    suppliers: list[str] = Field(default_factory=list)
    supplier_order_ids: list[str] = Field(default_factory=list)
    return_state: str = ""  # "" | partially_returned | returned (domains.orders: OrderView.return_state)
    version: int = 0  # rises with every projection; a stale write never overwrites a newer one


class SupplierOrderDocument(BaseModel):
    supplier_order_id: str
    order_id: str
    confirmation_code: str
    email: str
    supplier: str
    strategy: str  # simulated | dropship | manual
    status: str  # domains.fulfillment.messages.SupplierOrderStatus value
    waiting_on_manual: bool = False  # a manual stage waits for a person (the CLI's `list`)
    created_at: datetime
    updated_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None
    lines: list[DocumentLine]
    version: int = 0


class OrderSort(StrEnum):
    NEWEST = "newest"  # placed_at desc (default)
    OLDEST = "oldest"
    TOTAL_DESC = "total_desc"
    TOTAL_ASC = "total_asc"
    UPDATED = "updated"  # updated_at desc


class OrderCursor(BaseModel):
    """Where a page of orders ends in one sort: the last hit's sort value and its id.

    A query with `after=cursor` returns the hits that follow that one (keyset paging: the
    same cost on page 1 and page 4,000, and no offset limit), on both backends.
    """

    sort: OrderSort
    value: int  # epoch milliseconds (placed_at / updated_at) or the total in cents
    order_id: str = Field(min_length=1)

    @classmethod
    def of(cls, doc: OrderDocument, sort: OrderSort) -> OrderCursor:
        if sort in (OrderSort.TOTAL_DESC, OrderSort.TOTAL_ASC):
            value = doc.total
        elif sort == OrderSort.UPDATED:
            value = to_millis(doc.updated_at)
        else:
            value = to_millis(doc.placed_at)
        return cls(sort=sort, value=value, order_id=doc.order_id)

    def token(self) -> str:
        """A compact, URL-safe form (`newest.1740812400000.<order id>`)."""
        return f"{self.sort.value}.{self.value}.{self.order_id}"

    @classmethod
    def parse(cls, token: str) -> OrderCursor:
        """The cursor a `token()` spelled; ValueError for anything else."""
        sort, value, order_id = token.split(".", 2)
        number = int(value)
        if not -(2**63) <= number < 2**63:  # what both indexes store
            raise ValueError("cursor value out of range")
        return cls(sort=OrderSort(sort), value=number, order_id=order_id)


class OrderQuery(BaseModel):
    statuses: list[str] = Field(default_factory=list)  # any of
    return_states: list[str] = Field(default_factory=list)  # any of (partially_returned, returned; "" for none)
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    customer_id: str | None = None
    email: str | None = None  # the order's email, ignoring case and surrounding spaces
    text: str | None = None  # confirmation code (prefix, case-insensitive) or email (substring) or name words
    sort: OrderSort = OrderSort.NEWEST
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=200)
    after: OrderCursor | None = None  # the hits after this one (then `page` must be 1)

    @model_validator(mode="after")
    def _paging(self) -> OrderQuery:
        if self.after is not None:
            if self.page != 1:
                raise ValueError("a query from a cursor (after) starts there: page must be 1")
            if self.after.sort != self.sort:
                raise ValueError(f"the cursor belongs to sort {self.after.sort.value}, not {self.sort.value}")
        elif self.page * self.page_size > MAX_WINDOW:
            raise ValueError(f"pages by number reach the first {MAX_WINDOW:,} orders; "
                             "continue from a cursor (after) or narrow the filters")
        return self

    @property
    def email_key(self) -> str | None:
        return email_key(self.email) if self.email is not None else None


class StatusCount(BaseModel):
    status: str
    count: int


class OrderPage(BaseModel):
    total: int  # orders matching every filter
    hits: list[OrderDocument]
    by_status: list[StatusCount]  # counts under every filter except `statuses`, most first
    revenue: int  # sum of `total - refunded` over the orders matching every filter
    next_after: OrderCursor | None = None  # the last hit's cursor: where the next page starts


class SupplierOrderQuery(BaseModel):
    statuses: list[str] = Field(default_factory=list)
    supplier: str | None = None
    order_id: str | None = None
    waiting_on_manual: bool | None = None
    sort: OrderSort = OrderSort.UPDATED  # NEWEST/OLDEST order by created_at
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class SupplierOrderPage(BaseModel):
    total: int
    hits: list[SupplierOrderDocument]


class ReturnDocument(BaseModel):
    """One return (domains.returns), for the admin's returns list. Written by the return
    workflow's save activity beside the store rows; `version` guards it like an order's."""

    return_id: str  # `{code}-R{n}`
    order_id: str
    confirmation_code: str
    email: str
    status: str  # domains.returns.messages.ReturnStatus value
    reasons: list[str] = Field(default_factory=list)  # the reasons of its lines, sorted, distinct
    created_at: datetime
    updated_at: datetime
    refund_amount: int = 0
    line_count: int = 0
    version: int = 0


class ReturnQuery(BaseModel):
    """Newest first (created_at desc, return_id asc), `page_size` from `offset`."""

    statuses: list[str] = Field(default_factory=list)  # any of
    reason: str | None = None  # one of the return's line reasons
    created_before: datetime | None = None  # exclusive: the minimum-age filter (now - days)
    offset: int = Field(default=0, ge=0)
    page_size: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _window(self) -> ReturnQuery:
        if self.offset + self.page_size > MAX_WINDOW:
            raise ValueError(f"pages reach the first {MAX_WINDOW:,} returns; narrow the filters")
        return self


class ReturnPage(BaseModel):
    total: int  # returns matching every filter
    hits: list[ReturnDocument]
