"""Shipping and sales tax from the shop's settings (integer cents; tax rounds half up once, on
the goods; shipping is not taxed). Checkout quotes with it and an order edit reprices with it,
so an edited order pays what the same basket would have paid at checkout."""

from __future__ import annotations

from dataclasses import dataclass

from domains.shared import tax_of

from .shop_settings import ShopSettings


@dataclass(frozen=True)
class Rates:
    shipping: int
    tax: int
    tax_rate_basis_points: int
    shipping_method: str


def rates_for(settings: ShopSettings, country: str, state: str, goods: int) -> Rates:
    country, state = country.upper(), state.upper()
    table = settings.shipping
    if country != table.home_country:
        return Rates(shipping=table.international, tax=0, tax_rate_basis_points=0, shipping_method="International")
    rate = settings.tax_bp_by_region.get(state, 0)
    free = table.free_over is not None and goods >= table.free_over
    return Rates(shipping=0 if free else table.domestic_standard, tax=tax_of(goods, rate), tax_rate_basis_points=rate,
                 shipping_method="Free standard" if free else "Standard")
