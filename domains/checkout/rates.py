"""Shipping and sales tax from the shop's settings (integer cents; tax rounds half up
once, on the goods). Shipping is not taxed."""

from __future__ import annotations

from domains.shared import Address, tax_of

from ..identity.shop_settings import ShopSettings
from .messages import Quote


def quote(settings: ShopSettings, country: str, state: str, goods: int) -> Quote:
    country, state = country.upper(), state.upper()
    table = settings.shipping
    if country != table.home_country:
        return Quote(shipping=table.international, tax=0, tax_rate_basis_points=0, shipping_method="International")
    rate = settings.tax_bp_by_region.get(state, 0)
    free = table.free_over is not None and goods >= table.free_over
    shipping = 0 if free else table.domestic_standard
    return Quote(shipping=shipping, tax=tax_of(goods, rate), tax_rate_basis_points=rate,
                 shipping_method="Free standard" if free else "Standard")


def tax_for(settings: ShopSettings, address: Address | None, goods: int) -> int | None:
    """The tax the checkout will charge on `goods` shipped to `address` (the same `quote`), or
    None when there is no address yet: the cart then says it is calculated at checkout."""
    if address is None:
        return None
    return quote(settings, address.country, address.state, goods).tax
