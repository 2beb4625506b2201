"""Inbound Stripe events: verify the signature (the library's `construct_event`) and sort
the event into what the shop does with it.

No Django here: the web view (`storefront/api/payment_webhooks.py`) hands over the raw body
and the `Stripe-Signature` header and maps a refusal to 400 with a stable code. A badly
signed, malformed or unknown event raises `StripeWebhookError`, never anything else.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe

from domains.payments.errors import StripeWebhookErrorCode
from domains.shared import DomainError

log = logging.getLogger("commerce.payments.webhooks")

# Stripe's default: a signature older than this is refused (a replayed request).
TOLERANCE_SECONDS = 300

# The events the shop acts on, and what each means for the payment it names.
HANDLED = {
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.requires_action": "requires_action",
    "payment_intent.succeeded": "captured",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "voided",
    "charge.refunded": "refunded",
    "charge.dispute.created": "disputed",
    "charge.dispute.closed": "dispute_closed",
}


class StripeWebhookError(DomainError[StripeWebhookErrorCode]):
    """An inbound Stripe event refused; `code` says why."""


__all__ = ["HANDLED", "InboundEvent", "StripeWebhookError", "StripeWebhookErrorCode", "verify"]


@dataclass(frozen=True)
class InboundEvent:
    event_id: str
    type: str
    meaning: str  # a HANDLED value
    provider_id: str | None  # the PaymentIntent it concerns (pi_...), when the event names one
    livemode: bool


def _refuse(code: StripeWebhookErrorCode, message: str) -> StripeWebhookError:
    log.warning("stripe webhook refused: %s (%s)", message, code.value)
    return StripeWebhookError(code, message)


def _intent_of(obj: dict[str, Any]) -> str | None:
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent if isinstance(intent, str) else None


def verify(payload: bytes, signature: str | None, secret: str) -> InboundEvent:
    if not secret:
        raise _refuse(StripeWebhookErrorCode.NOT_CONFIGURED, "STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise _refuse(StripeWebhookErrorCode.BAD_SIGNATURE, "no Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(StripeWebhookErrorCode.BAD_PAYLOAD, "the body is not UTF-8") from None
    try:  # the signature first: nothing about an unsigned body is looked at
        stripe.WebhookSignature.verify_header(text, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise _refuse(StripeWebhookErrorCode.BAD_SIGNATURE, f"the signature does not verify: {exc}") from None
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str) \
            or not isinstance(document.get("id"), str):
        raise _refuse(StripeWebhookErrorCode.BAD_PAYLOAD, "signed, but not a Stripe event (no id or type)")
    event_type = document["type"]
    try:
        event = stripe.Webhook.construct_event(text, signature, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise _refuse(StripeWebhookErrorCode.BAD_SIGNATURE, f"the signature does not verify: {exc}") from None
    except Exception as exc:  # the library could not build an event of it: refused, never a 500
        raise _refuse(StripeWebhookErrorCode.BAD_PAYLOAD, f"not a Stripe event: {exc}") from None
    if event_type not in HANDLED:
        raise _refuse(StripeWebhookErrorCode.UNKNOWN_EVENT, f"event type {event_type!r} is not handled")
    data = document.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    inbound = InboundEvent(event_id=event.id, type=event_type, meaning=HANDLED[event_type],
                           provider_id=_intent_of(obj) if isinstance(obj, dict) else None,
                           livemode=bool(document.get("livemode")))
    log.info("stripe webhook %s %s (%s) for %s", inbound.event_id, inbound.type, inbound.meaning, inbound.provider_id)
    return inbound
