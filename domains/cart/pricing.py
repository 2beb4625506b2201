"""Cart arithmetic in integer cents. Rounding: half up, once per amount (never per line)."""

from __future__ import annotations

from domains.cart.messages import CartLine, CartState, Coupon
from domains.shared import CartLineView, CartView, round_half_up, tax_of


def discount_of(coupon: Coupon | None, subtotal: int) -> int:
    if coupon is None or subtotal < coupon.minimum_subtotal:
        return 0
    off = round_half_up(subtotal * coupon.percent_off, 100) + coupon.amount_off
    return min(off, subtotal)


def line_view(line: CartLine) -> CartLineView:
    v = line.variant
    return CartLineView(
        id=line.id, variant_id=v.variant_id, product_id=v.product_id, product_name=v.product_name,
        options={"color": v.color, "size": v.size}, image_url=v.image_url, blank_sku=v.blank_sku,
        quantity=line.quantity,
        unit_price=v.unit_price, line_total=line.line_total,
    )


def cart_view(state: CartState) -> CartView:
    subtotal = sum(line.line_total for line in state.lines)
    discount = discount_of(state.coupon, subtotal)
    tax = tax_of(subtotal - discount, state.settings.tax_estimate_basis_points)
    return CartView(
        id=state.cart_id, version=state.version, status=state.status, currency=state.currency,
        lines=[line_view(line) for line in state.lines], item_count=sum(line.quantity for line in state.lines),
        subtotal=subtotal, discount=discount, tax_estimate=tax, total=subtotal - discount + tax,
        coupon=state.coupon.code if state.coupon else None, shopper_id=state.shopper_id,
        checkout_id=state.checkout_id, order_id=state.order_id, notice=state.notice,
    )
