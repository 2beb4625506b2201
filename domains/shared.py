"""Types more than one domain uses: addresses, shipments, order and cart lines, the actor
pattern, money arithmetic, and the base of every domain's client exception. Nothing here
imports a domain."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field


def round_half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (denominator * 2)


def tax_of(amount: int, basis_points: int) -> int:
    return round_half_up(amount * basis_points, 10_000)


class CartStatus(StrEnum):
    ACTIVE = "active"
    CHECKING_OUT = "checking_out"
    COMPLETED = "completed"  # its order was placed
    ABANDONED = "abandoned"  # idle too long; holds released


class CartLineView(BaseModel):
    id: str
    variant_id: str
    product_id: str
    product_name: str
    options: dict[str, str]
    image_url: str
    blank_sku: str
    quantity: int
    unit_price: int
    line_total: int


class CartView(BaseModel):
    id: str
    version: int
    status: CartStatus
    currency: str
    lines: list[CartLineView]
    item_count: int
    subtotal: int
    discount: int
    tax_estimate: int
    total: int
    coupon: str | None = None
    shopper_id: str | None = None
    checkout_id: str | None = None
    order_id: str | None = None
    notice: str | None = None  # why the cart changed on its own (a line cut to the stock held)


class OrderLine(BaseModel):
    variant_id: str
    product_id: str
    product_name: str
    options: dict[str, str]
    blank_sku: str
    quantity: int
    unit_price: int
    line_total: int
    line_id: str | None = None  # stable within the order: L1..Ln by position at placement (with_line_ids)


def with_line_ids(lines: list[OrderLine]) -> list[OrderLine]:
    """The lines, each with its `line_id` (`L{position}` where it has none): deterministic, so an
    order placed before lines had ids gets the same ones on every read."""
    taken = {li.line_id for li in lines if li.line_id}
    out: list[OrderLine] = []
    for n, line in enumerate(lines, start=1):
        if line.line_id is None:
            candidate = f"L{n}"
            while candidate in taken:
                candidate += "x"
            taken.add(candidate)
            line = line.model_copy(update={"line_id": candidate})
        out.append(line)
    return out


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


class Shipment(BaseModel):
    carrier: str
    tracking_number: str
    shipped_at: datetime


ACTOR_PATTERN = r"^(system|shopper:.+|guest:.+|staff:.+|cli:.+|token:.+)$"


ACTOR_LENGTH = 300  # "guest:" and an email of up to 200 characters fit


E = TypeVar("E", bound=StrEnum)


class DomainError(Exception, Generic[E]):
    """A refusal from a domain's client. `code` is a member of that domain's error enum
    (domains/<domain>/errors.py): its value is the stable wire code (the ApplicationError type
    in workflow histories), its type tells the web layer which domain's table maps it.
    Each domain subclasses this once, naming its enum (`class OrderError(DomainError[OrderErrorCode])`);
    the subclass's name is also a wire type (an activity that lets it escape fails with that
    type), so subclasses are never renamed."""

    def __init__(self, code: E, message: str, details: Any = None):
        super().__init__(message)
        self.code: E = code
        self.details = details


def code_of(wire: str | None, enums: tuple[type[E], ...], fallback: E) -> E:
    """The member whose value is `wire` in the first enum that has one; `fallback` (logged)
    for a type no enum knows, such as a Python exception's name escaping an activity."""
    for enum in enums:
        if wire is not None and wire in enum._value2member_map_:
            return enum(wire)
    logging.getLogger(__name__).warning("unknown error type %r reported as %s", wire, fallback.value)
    return fallback
