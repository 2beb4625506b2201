"""The messages of an order edit (preview, confirm, abandon) and what the order keeps of it.
Apart from messages.py so the order's state can carry an open preview without an import cycle."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domains.shared import ACTOR_LENGTH, ACTOR_PATTERN, Address, OrderLine

EDIT_TTL_SECONDS = 30 * 60  # a preview's stock is held this long, then released by the order's timer
HOLD_MARGIN_SECONDS = 10 * 60  # the inventory hold outlives the preview: the order releases it first


class LineChange(BaseModel):
    """A line's new quantity: 0 removes it; a variant not on the order adds it."""

    variant_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=0, le=999)


class EditOrder(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    shipping_address: Address | None = None  # None: unchanged
    lines: list[LineChange] = Field(default_factory=list, max_length=50)
    reason: str = Field(default="", max_length=500)


class ConfirmEdit(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    edit_id: str = Field(min_length=1, max_length=120)
    # needed when the edit costs more: authorized and captured for the difference
    payment_method: str | None = Field(default=None, min_length=1, max_length=200)


class AbandonEdit(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    edit_id: str | None = Field(default=None, max_length=120)  # None: whichever preview is open


class Totals(BaseModel):
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int


class EditPreview(BaseModel):
    """A priced edit with its extra stock held, waiting for confirm_edit or abandon_edit."""

    edit_id: str  # {order_id}-edit-{n}
    owner: str  # the inventory owner of its holds: {checkout_id}-edit-{n}
    actor: str
    reason: str = ""
    lines: list[OrderLine]  # the order's lines after the edit
    shipping_address: Address
    address_changed: bool
    before: Totals
    after: Totals
    difference: int  # after.total - before.total: above 0 is charged, below 0 refunded
    held: dict[str, int] = Field(default_factory=dict)  # sku -> extra units held for the edit
    released: dict[str, int] = Field(default_factory=dict)  # sku -> units the edit gives back
    supplier_lines: dict[str, list[OrderLine]] = Field(default_factory=dict)  # changed supplier orders' new lines
    supplier_orders: list[str] = Field(default_factory=list)  # the supplier orders the edit reaches
    expires_at: datetime


class EditCharge(BaseModel):
    """A price increase, charged through the payments port on its own authorization."""

    edit_id: str
    payment_id: str
    amount: int
    refunded: int = 0


# --- activity messages --------------------------------------------------------------------

class EditDraft(BaseModel):
    confirmation_code: str
    lines: list[OrderLine]
    changes: list[LineChange]
    address: Address
    subtotal: int  # as placed: the discount keeps its share of the goods
    discount: int


class PricedEdit(BaseModel):
    lines: list[OrderLine]
    totals: Totals
    suppliers: dict[str, str] = Field(default_factory=dict)  # added variant id -> its supplier (routing)


class EditStock(BaseModel):
    owner: str
    units: dict[str, int]  # sku -> units
    ttl_seconds: float


class AmendStock(BaseModel):
    owner: str
    from_owner: str
    add: dict[str, int]
    remove: dict[str, int]
    key: str
