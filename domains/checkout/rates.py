"""Shipping and sales tax from the shop's settings, as a checkout Quote (the rule itself is
identity.rates: an order edit reprices with the same one)."""

from __future__ import annotations

from domains.shared import Address

from ..identity.rates import rates_for
from ..identity.shop_settings import ShopSettings
from .messages import Quote


def quote(settings: ShopSettings, country: str, state: str, goods: int) -> Quote:
    r = rates_for(settings, country, state, goods)
    return Quote(shipping=r.shipping, tax=r.tax, tax_rate_basis_points=r.tax_rate_basis_points,
                 shipping_method=r.shipping_method)


def tax_for(settings: ShopSettings, address: Address | None, goods: int) -> int | None:
    """The tax the checkout will charge on `goods` shipped to `address` (the same `quote`), or
    None when there is no address yet: the cart then says it is calculated at checkout."""
    if address is None:
        return None
    return quote(settings, address.country, address.state, goods).tax
