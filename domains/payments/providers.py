"""Which payment provider the shop uses, from the environment.

- `COMMERCE_PAYMENTS`: `simulated` (default: the test tokens) or `stripe`;
- `STRIPE_API_KEY` (required with `stripe`), `STRIPE_WEBHOOK_SECRET` (verifies inbound
  events, `whsec_...`), `STRIPE_API_BASE` (default Stripe's API;
  `engines.sh env` points it at the local stripe-mock), `STRIPE_MULTICAPTURE` (`1` when the
  Stripe account has multicapture: several partial captures of one authorization);
- `COMMERCE_PAYMENT_AUTH_HOURS` (default 168): how long an authorization may be captured;
- `COMMERCE_PAYMENT_FLOW`: `charge` (default: the simulated gateway charges at placement) or
  `authorize` (the port authorizes at placement; the order captures at the first shipment,
  voids on a cancel before it, refunds from the captures after).

Secrets come from the environment only and are never stored or shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from domains.payments.ledger import DEFAULT_AUTH_HOURS, Payments
from domains.payments.port import PaymentProvider
from domains.payments.simulated import SimulatedProvider
from infra.store import Store

PROVIDERS = ("simulated", "stripe")
FLOWS = ("charge", "authorize")


@dataclass(frozen=True)
class PaymentSettings:
    provider: str = "simulated"
    stripe_api_key: str = field(default="", repr=False)
    stripe_webhook_secret: str = field(default="", repr=False)
    stripe_api_base: str = "https://api.stripe.com"
    stripe_multicapture: bool = False
    auth_hours: float = DEFAULT_AUTH_HOURS
    flow: str = "charge"  # COMMERCE_PAYMENT_FLOW: charge at placement, or authorize there and capture at shipment

    @classmethod
    def from_env(cls) -> PaymentSettings:
        provider = os.environ.get("COMMERCE_PAYMENTS", "").strip() or "simulated"
        if provider not in PROVIDERS:
            raise ValueError(f"COMMERCE_PAYMENTS={provider!r}: expected one of {', '.join(PROVIDERS)}")
        hours = float(os.environ.get("COMMERCE_PAYMENT_AUTH_HOURS", "").strip() or DEFAULT_AUTH_HOURS)
        if hours <= 0:
            raise ValueError(f"COMMERCE_PAYMENT_AUTH_HOURS={hours}: expected a positive number of hours")
        flow = os.environ.get("COMMERCE_PAYMENT_FLOW", "").strip() or "charge"
        if flow not in FLOWS:
            raise ValueError(f"COMMERCE_PAYMENT_FLOW={flow!r}: expected one of {', '.join(FLOWS)}")
        return cls(
            provider=provider, flow=flow,
            stripe_api_key=os.environ.get("STRIPE_API_KEY", "").strip(),
            stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip(),
            stripe_api_base=os.environ.get("STRIPE_API_BASE", "").strip() or "https://api.stripe.com",
            stripe_multicapture=os.environ.get("STRIPE_MULTICAPTURE", "0").strip().lower() in ("1", "true", "yes"),
            auth_hours=hours,
        )


def provider_from_settings(settings: PaymentSettings) -> PaymentProvider:
    if settings.provider == "stripe":
        from domains.payments.stripe_adapter import StripeProvider  # the library loads only when used

        return StripeProvider(settings.stripe_api_key, api_base=settings.stripe_api_base,
                              multicapture=settings.stripe_multicapture)
    return SimulatedProvider()


def payments_from_env(store: Store) -> Payments:
    settings = PaymentSettings.from_env()
    return Payments(store, provider_from_settings(settings), auth_hours=settings.auth_hours)
