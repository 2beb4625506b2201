"""The order record and the order workflow's input and view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class OrderStatus(StrEnum):
    PLACED = "placed"


class OrderLine(BaseModel):
    variant_id: str
    product_id: str
    product_name: str
    options: dict[str, str]
    blank_sku: str
    quantity: int
    unit_price: int
    line_total: int


class Address(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    address1: str = Field(min_length=1, max_length=200)
    address2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=50)
    postal_code: str = Field(min_length=3, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
    phone: str | None = Field(default=None, max_length=40)


class OrderRecord(BaseModel):
    order_id: str
    confirmation_code: str
    cart_id: str
    checkout_id: str
    customer_id: str  # shopper id, or guest:<email>
    email: str
    placed_at: datetime
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    lines: list[OrderLine]
    shipping_address: Address
    payment: dict


class OrderView(BaseModel):
    order_id: str
    confirmation_code: str
    status: OrderStatus
    placed_at: datetime
    total: int
    currency: str
