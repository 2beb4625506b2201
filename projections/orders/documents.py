"""Read models of orders for the admin lists: one document per order, one per supplier order.

Written by the order workflow's projection activity (batched), read by the admin order
list, the dashboard and the fulfillment CLI's listing. Amounts are integer cents.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


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


class OrderQuery(BaseModel):
    statuses: list[str] = Field(default_factory=list)  # any of
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    customer_id: str | None = None
    text: str | None = None  # confirmation code (prefix, case-insensitive) or email (substring) or name words
    sort: OrderSort = OrderSort.NEWEST
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=200)


class StatusCount(BaseModel):
    status: str
    count: int


class OrderPage(BaseModel):
    total: int  # orders matching every filter
    hits: list[OrderDocument]
    by_status: list[StatusCount]  # counts under every filter except `statuses`, most first
    revenue: int  # sum of `total - refunded` over the orders matching every filter


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
