"""`POST /api/payments/webhooks/stripe`: Stripe's events about the shop's payments.

The raw body and the `Stripe-Signature` header go to `domains.payments.inbound.verify` (the
stripe library's `construct_event` with `STRIPE_WEBHOOK_SECRET`). A verified event the shop
handles is handed to its order's workflow by signal (found through the PaymentIntent id,
`payments_by_provider_id`) and acknowledged with 200; when Temporal does not answer within
the request's budget the answer is 503 (Stripe delivers again later). A badly signed,
malformed or unknown one is refused
with 400 and a stable code (`webhook_bad_signature`, `webhook_bad_payload`,
`webhook_unknown_event`, `webhook_not_configured`) and logged, never 500.

Stripe signs the request, so there is no session, cookie or CSRF token to check (the view is
CSRF-exempt; nothing in it reads cookies).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from domains.orders import client as orders
from domains.orders.messages import PaymentEvent
from domains.payments import inbound
from domains.payments.ledger import order_of_provider_id
from domains.payments.providers import PaymentSettings

from .. import services
from .shop_errors import http_of

log = logging.getLogger("commerce.payments.webhooks")

MAX_BODY = 512 * 1024  # Stripe's events are a few KB


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        if len(request.body) > MAX_BODY:
            raise inbound.StripeWebhookError(inbound.StripeWebhookErrorCode.BAD_PAYLOAD, "the body is too large")
        event = inbound.verify(request.body, request.headers.get("Stripe-Signature"),
                               PaymentSettings.from_env().stripe_webhook_secret)
    except inbound.StripeWebhookError as refused:
        status, code = http_of(refused.code)
        return JsonResponse({"code": code, "message": str(refused)}, status=status)
    order_id = order_of_provider_id(services.store(), event.provider_id) if event.provider_id else None
    handed = False
    if order_id:  # a signal: the order records it (and marks a dispute or failure) on its own time
        handed = services.call(orders.payment_event, order_id, PaymentEvent(
            event_id=event.event_id, type=event.type, meaning=event.meaning, provider_id=event.provider_id or ""))
    if not handed:
        log.info("stripe webhook %s: no open order for %s; acknowledged", event.event_id, event.provider_id)
    return JsonResponse({"received": True, "id": event.event_id, "type": event.type,
                         "order_id": order_id if handed else None})
