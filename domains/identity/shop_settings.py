"""The shop's settings: one model, owned by identity's settings workflow, saved to the write
store as the `settings` row "shop". Other domains read it in their activities with
`read_shop_settings`, so a change reaches them without a restart and without a local file."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator, model_validator

from infra.store import Store, schema

SETTINGS_ROW = "shop"

# Basis points (1/100 of a percent) per US state; states not listed charge no sales tax.
DEFAULT_STATE_TAX_BP: dict[str, int] = {
    "AL": 400, "AZ": 560, "AR": 650, "CA": 725, "CO": 290, "CT": 635, "FL": 600, "GA": 400, "HI": 400,
    "ID": 600, "IL": 625, "IN": 700, "IA": 600, "KS": 650, "KY": 600, "LA": 445, "ME": 550, "MD": 600,
    "MA": 625, "MI": 600, "MN": 688, "MS": 700, "MO": 423, "NE": 550, "NV": 685, "NJ": 663, "NM": 488,
    "NY": 400, "NC": 475, "ND": 500, "OH": 575, "OK": 450, "PA": 600, "RI": 700, "SC": 600, "SD": 420,
    "TN": 700, "TX": 625, "UT": 610, "VT": 600, "VA": 530, "WA": 650, "WV": 600, "WI": 500, "WY": 400,
    "DC": 600,
}


class ShippingTable(BaseModel):
    """Cents. Domestic orders over the threshold ship free; shipping is never taxed."""

    domestic_standard: int = Field(599, ge=0)
    free_over: int | None = Field(7500, ge=0)  # None: never free
    international: int = Field(1999, ge=0)
    home_country: str = "US"


class ShopSettings(BaseModel):
    shop_name: str = Field("Commerce", min_length=1, max_length=80)
    # the postal address printed at the foot of every transactional email (the law asks for one)
    shop_address: str = Field("", max_length=300)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    tax_bp_by_region: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_STATE_TAX_BP))
    shipping: ShippingTable = Field(default_factory=ShippingTable)
    manual_fulfillment: bool = False  # every supplier order waits for staff to move each stage
    reservation_minutes: int = Field(30, ge=1, le=7 * 24 * 60)  # a cart's stock holds last this long
    checkout_timeout_minutes: int = Field(60, ge=1, le=7 * 24 * 60)  # an idle checkout is cancelled
    low_stock_threshold: int = Field(10, ge=0)
    # Returns (docs/domains/returns.md): read by the order when a return opens, kept by the return.
    return_window_days: int = Field(30, ge=0, le=365)  # days after delivery a shopper may open a return
    return_ship_days: int = Field(14, ge=1, le=365)  # an approved return not shipped back by then expires
    restocking_fees: dict[str, int] = Field(default_factory=dict)  # return reason -> percent kept (default none)
    refund_shipping_on_return: bool = False  # a return refunds the order's shipping too (once per order)
    auto_approve_reasons: list[str] = Field(default_factory=list)  # a return whose every reason is here needs no staff
    support_refund_limit: int = Field(10_000, ge=0)  # minor units; a bigger refund needs a manager or owner
    exchange_ships_at_once: bool = False  # an exchange's replacement ships before the return arrives
    changed_by: str = "default"
    changed_at: datetime | None = None

    @field_validator("tax_bp_by_region")
    @classmethod
    def _rates(cls, rates: dict[str, int]) -> dict[str, int]:
        bad = [region for region, bp in rates.items() if not 0 <= bp <= 5000 or not region.strip()]
        if bad:
            raise ValueError(f"tax rates must be 0..5000 basis points per named region: {', '.join(bad)}")
        return {region.strip().upper(): bp for region, bp in rates.items()}

    @field_validator("restocking_fees")
    @classmethod
    def _fees(cls, fees: dict[str, int]) -> dict[str, int]:
        bad = [reason for reason, pct in fees.items() if not 0 <= pct <= 100]
        if bad:
            raise ValueError(f"restocking fees are 0..100 percent: {', '.join(bad)}")
        return fees

    @model_validator(mode="after")
    def _upper(self) -> ShopSettings:
        self.shipping.home_country = self.shipping.home_country.upper()
        return self


def read_shop_settings(store: Store) -> ShopSettings:
    row = store.get(schema.SETTINGS.name, {"name": SETTINGS_ROW})
    return ShopSettings.model_validate(row["value"]) if row else ShopSettings()
