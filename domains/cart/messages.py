"""Cart state, updates, the cart view every update returns, and stable error codes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domains.shared import CartStatus

from .errors import CartErrorCode

# Short names for CartErrorCode members (errors.py holds the codes and their wire values).
INSUFFICIENT_STOCK = CartErrorCode.INSUFFICIENT_STOCK
UNKNOWN_VARIANT = CartErrorCode.UNKNOWN_VARIANT
UNKNOWN_LINE = CartErrorCode.UNKNOWN_LINE
UNKNOWN_COUPON = CartErrorCode.UNKNOWN_COUPON
CART_CLOSED = CartErrorCode.CART_CLOSED
CART_EMPTY = CartErrorCode.CART_EMPTY
CHECKOUT_IN_PROGRESS = CartErrorCode.CHECKOUT_IN_PROGRESS
NOT_FOUND = CartErrorCode.NOT_FOUND
UNKNOWN_CART = "no such cart or checkout (it may have ended)"  # what an unknown cart answers

MAX_QUANTITY = 99
# An add answers before its stock hold when the stock row the web layer read shows at least this
# many units beyond the add (the row is projected after the shard's changes, so it lags by what
# other shoppers held since): the hold follows at once, and cuts the line in the rare case the
# inventory can no longer cover it. Below the margin the add holds first and is refused when short.
AMPLE_STOCK_MARGIN = 25
MERGED_KEPT = 20  # guest carts a cart remembers having merged (retries come within minutes)


class VariantInfo(BaseModel):
    """What a cart line shows of a variant, read from the catalog once when it is added."""

    variant_id: str
    product_id: str
    product_name: str
    color: str
    size: str
    image_url: str
    blank_sku: str
    unit_price: int
    currency: str
    available: bool


class ShopTerms(BaseModel):
    """What a cart takes from the shop's settings."""

    hold_ttl_seconds: float
    checkout_inactivity_seconds: float
    currency: str


class CarriedTerms(BaseModel):
    """The shop's terms as the web layer read them for this add: `terms` None while the shop
    keeps its defaults (as the shop_terms activity answers)."""

    terms: ShopTerms | None = None


class CartLine(BaseModel):
    id: str
    variant: VariantInfo
    quantity: int

    @property
    def line_total(self) -> int:
        return self.variant.unit_price * self.quantity


class Coupon(BaseModel):
    code: str
    percent_off: int = Field(default=0, ge=0, le=100)
    amount_off: int = Field(default=0, ge=0)  # cents
    minimum_subtotal: int = 0
    description: str = ""


class CartSettings(BaseModel):
    hold_ttl_seconds: float = 1800  # holds lapse this long after the shopper's last change
    idle_seconds: float = 30 * 24 * 3600  # an untouched cart is abandoned after this
    checkout_inactivity_seconds: float = 3600  # an untouched checkout is cancelled after this
    tax_estimate_basis_points: int = 825  # 8.25% until a shipping address gives the real rate
    max_updates_per_run: int = 100


class CartState(BaseModel):
    """The whole cart; continue-as-new carries it to the next run."""

    cart_id: str
    version: int = 0
    status: CartStatus = CartStatus.ACTIVE
    lines: list[CartLine] = Field(default_factory=list)
    coupon: Coupon | None = None
    shopper_id: str | None = None
    currency: str = "USD"
    last_change: datetime | None = None
    holds_renewed_at: datetime | None = None
    hold_owner: str | None = None  # the cart, or its checkout while one runs
    checkouts_started: int = 0
    checkout_id: str | None = None
    order_id: str | None = None
    settings: CartSettings = Field(default_factory=CartSettings)
    merged_from: list[str] = Field(default_factory=list)  # guest carts already merged in (newest last)
    pending_holds: list[str] = Field(default_factory=list)  # blank SKUs added on ample stock, not held yet
    notice: str | None = None  # why the cart changed on its own (a line cut to the stock held), until the next change


# --- updates ---------------------------------------------------------------------------

class CarriedHold(BaseModel):
    """A hold placed before a brand-new cart was started, for its first add (a new cart holds
    nothing, so the quantity to hold is the add's own): the cart takes it instead of holding
    again when it names the cart's hold owner, the line's blank SKU and the line's quantity."""

    owner: str
    sku: str
    quantity: int


def ample_stock(stock_seen: int | None, quantity: int) -> bool:
    """Whether an add of `quantity` may answer before its hold (see AMPLE_STOCK_MARGIN)."""
    return stock_seen is not None and stock_seen - quantity >= AMPLE_STOCK_MARGIN


def cut_notice(product_name: str, kept: int) -> str:
    """What the cart says when a hold that followed an add could not cover the line."""
    if kept == 0:
        return f"{product_name} sold out just now and was taken out of your cart"
    return f"only {kept} of {product_name} could be kept in your cart: it sold out just now"


def only_left(product_name: str, left: int) -> str:
    """What a refused add says when the stock is short."""
    return f"only {left} of {product_name} left"


class CartRequester(BaseModel):
    """Who asks for an add, as the web layer knows them (a signed-in shopper's id, or None for a
    guest or an API client). A cart a shopper owns refuses anyone else's add as if it did not
    exist (NOT_FOUND), so the web layer need not ask the cart who owns it first."""

    shopper_id: str | None = None


class AddItem(BaseModel):
    """An add. The web layer fills `variant` and `shop` from the store on the server side (the
    HTTP body names only the variant and the quantity; a client never sends a price), so the
    cart skips two local activities; without them the cart reads both itself."""

    variant_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    variant: VariantInfo | None = None
    shop: CarriedTerms | None = None
    requester: CartRequester | None = None
    hold: CarriedHold | None = None
    # the units the store's stock row showed available for the variant's blank SKU, read by the
    # web layer for this add (None: no row, or a backorder / preorder policy); see ample_stock
    stock_seen: int | None = None


class ChangeQuantity(BaseModel):
    line_id: str
    quantity: int = Field(ge=0, le=MAX_QUANTITY)  # 0 removes the line


class RemoveLine(BaseModel):
    line_id: str


class ApplyCoupon(BaseModel):
    code: str = Field(min_length=1, max_length=40)


class AttachShopper(BaseModel):
    shopper_id: str = Field(min_length=1, max_length=100)


class MergeLines(BaseModel):
    """A guest cart's lines, merged into this cart when the guest signs in.

    With `source_cart_id` the merge is keyed by the guest cart: merging it again (a retried
    sign-in) changes nothing, and the guest cart's stock holds are given back before this cart
    holds the same units, so the reservations follow the lines."""

    lines: list[AddItem]
    source_cart_id: str | None = Field(default=None, max_length=100)


# --- the view every update returns -----------------------------------------------------


