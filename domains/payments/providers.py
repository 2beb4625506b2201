"""Which payment provider the shop uses, from the environment.

- `COMMERCE_PAYMENTS`: `simulated` (default: the test tokens) or `stripe`;
- `STRIPE_API_KEY` (required with `stripe`), `STRIPE_WEBHOOK_SECRET` (verifies inbound
  events, `whsec_...`), `STRIPE_API_BASE` (default Stripe's API;
  `engines.sh env` points it at the local stripe-mock), `STRIPE_MULTICAPTURE` (`1` when the
  Stripe account has multicapture: several partial captures of one authorization);
- `COMMERCE_PAYMENT_AUTH_HOURS` (default 168): how long an authorization may be captured;
- `COMMERCE_PAYMENT_FLOW`: `authorize` (default: the port authorizes at placement; the order
  captures as supplier orders ship, voids what is cancelled before, refunds from the
  captures after) or `charge` (the older flow: the simulated gateway charges at placement).

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
    flow: str = "authorize"  # COMMERCE_PAYMENT_FLOW: authorize at placement and capture at shipment, or charge

    @classmethod
    def from_env(cls) -> PaymentSettings:
        provider = os.environ.get("COMMERCE_PAYMENTS", "").strip() or "simulated"
        if provider not in PROVIDERS:
            raise ValueError(f"COMMERCE_PAYMENTS={provider!r}: expected one of {', '.join(PROVIDERS)}")
        hours = float(os.environ.get("COMMERCE_PAYMENT_AUTH_HOURS", "").strip() or DEFAULT_AUTH_HOURS)
        if hours <= 0:
            raise ValueError(f"COMMERCE_PAYMENT_AUTH_HOURS={hours}: expected a positive number of hours")
        flow = os.environ.get("COMMERCE_PAYMENT_FLOW", "").strip() or "authorize"
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


# What the storefront's payment step offers. The simulated provider's tokens; in Stripe's test
# mode (an `sk_test_` key, or stripe-mock) Stripe's own test payment methods, which test mode
# and stripe-mock understand. In live mode the step offers none: the card comes from Stripe's
# card element (docs/domains/payments.md), which posts the payment method id it created.
SIMULATED_METHODS = (("tok_success", "Test card that succeeds"), ("tok_declined", "Test card that is declined"),
                     ("tok_insufficient_funds", "Test card with insufficient funds"),
                     ("tok_requires_action", "Test card that asks for 3-D Secure"),
                     ("tok_flaky", "Test card whose gateway fails twice, then succeeds"))
STRIPE_TEST_METHODS = (("pm_card_visa", "Stripe test Visa"), ("pm_card_mastercard", "Stripe test Mastercard"),
                       ("pm_card_visa_debit", "Stripe test Visa debit"),
                       ("pm_card_chargeDeclined", "Stripe test card that is declined"),
                       ("pm_card_chargeDeclinedInsufficientFunds", "Stripe test card with insufficient funds"),
                       ("pm_card_authenticationRequired", "Stripe test card that asks for 3-D Secure"))


def checkout_payment_methods(settings: PaymentSettings) -> tuple[tuple[str, str], ...]:
    """(payment method, label) pairs the payment step offers; empty in Stripe's live mode."""
    if settings.provider != "stripe":  # 3-D Secure exists only where the port authorizes
        return tuple(m for m in SIMULATED_METHODS if settings.flow == "authorize" or m[0] != "tok_requires_action")
    return () if settings.stripe_api_key.startswith(("sk_live_", "rk_live_")) else STRIPE_TEST_METHODS


def provider_from_settings(settings: PaymentSettings) -> PaymentProvider:
    if settings.provider == "stripe":
        from domains.payments.stripe_adapter import StripeProvider  # the library loads only when used

        return StripeProvider(settings.stripe_api_key, api_base=settings.stripe_api_base,
                              multicapture=settings.stripe_multicapture)
    return SimulatedProvider()


def payments_from_env(store: Store) -> Payments:
    settings = PaymentSettings.from_env()
    return Payments(store, provider_from_settings(settings), auth_hours=settings.auth_hours)
