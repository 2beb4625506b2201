"""Shipping and sales-tax tables (integer cents; tax rounds half up once, on the goods).

Shipping is not taxed. The shop-wide settings of the identity work can replace these
tables; until then they are the shop's defaults.
"""

from __future__ import annotations

from ..cart.pricing import tax_of
from .messages import Quote

FREE_SHIPPING_OVER = 7500
DOMESTIC_STANDARD = 599
INTERNATIONAL = 1999

# Basis points (1/100 of a percent) per US state; states not listed charge no sales tax.
STATE_TAX_BP: dict[str, int] = {
    "AL": 400, "AZ": 560, "AR": 650, "CA": 725, "CO": 290, "CT": 635, "FL": 600, "GA": 400, "HI": 400,
    "ID": 600, "IL": 625, "IN": 700, "IA": 600, "KS": 650, "KY": 600, "LA": 445, "ME": 550, "MD": 600,
    "MA": 625, "MI": 600, "MN": 688, "MS": 700, "MO": 423, "NE": 550, "NV": 685, "NJ": 663, "NM": 488,
    "NY": 400, "NC": 475, "ND": 500, "OH": 575, "OK": 450, "PA": 600, "RI": 700, "SC": 600, "SD": 420,
    "TN": 700, "TX": 625, "UT": 610, "VT": 600, "VA": 530, "WA": 650, "WV": 600, "WI": 500, "WY": 400,
    "DC": 600,
}


def quote(country: str, state: str, goods: int) -> Quote:
    country, state = country.upper(), state.upper()
    if country != "US":
        return Quote(shipping=INTERNATIONAL, tax=0, tax_rate_basis_points=0, shipping_method="International")
    rate = STATE_TAX_BP.get(state, 0)
    shipping = 0 if goods >= FREE_SHIPPING_OVER else DOMESTIC_STANDARD
    return Quote(shipping=shipping, tax=tax_of(goods, rate), tax_rate_basis_points=rate,
                 shipping_method="Free standard" if shipping == 0 else "Standard")
