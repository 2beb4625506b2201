"""Domain error codes -> HTTP status and the API's stable code: one table per domain enum.

Tables are keyed by enum members, never by strings, and looked up by the member's enum
(two domains may share a wire value, e.g. "NotFound", "InvalidRefund"). Every member of every
domains/*/errors.py enum has an entry; tests/web/test_error_mapping.py fails for one without.
API codes are stable: a few codes the old fallback answered lower-cased keep that spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from rest_framework import status

from domains.cadences.errors import CadenceErrorCode
from domains.cart.errors import CartErrorCode
from domains.checkout.errors import CheckoutErrorCode
from domains.fulfillment.errors import FulfillmentErrorCode
from domains.identity.errors import IdentityErrorCode
from domains.inventory.errors import InventoryErrorCode
from domains.orders.errors import OrderErrorCode
from domains.payments.errors import PaymentErrorCode, StripeWebhookErrorCode
from domains.returns.errors import ReturnErrorCode
from domains.shared import DomainError
from domains.webhooks.errors import WebhookErrorCode

from .errors import ApiError

Http = tuple[int, str]  # (HTTP status, API code)
_400, _402, _403, _404, _409 = (status.HTTP_400_BAD_REQUEST, status.HTTP_402_PAYMENT_REQUIRED,
                                status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT)


def snake(code: str) -> str:
    """`AlreadyEnrolled` -> `already_enrolled`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", code).lower()


CART: dict[CartErrorCode, Http] = {
    CartErrorCode.NOT_FOUND: (_404, "not_found"),
    CartErrorCode.CART_CLOSED: (_409, "cart_closed"),
    CartErrorCode.CART_EMPTY: (_409, "cart_empty"),
    CartErrorCode.INSUFFICIENT_STOCK: (_409, "insufficient_stock"),
    CartErrorCode.UNKNOWN_VARIANT: (_400, "unknown_variant"),
    CartErrorCode.UNKNOWN_LINE: (_404, "line_not_found"),
    CartErrorCode.UNKNOWN_COUPON: (_400, "invalid_coupon"),
    CartErrorCode.CHECKOUT_IN_PROGRESS: (_409, "checkoutinprogress"),
    CartErrorCode.UNEXPECTED: (_409, "error"),
}
CHECKOUT: dict[CheckoutErrorCode, Http] = {
    CheckoutErrorCode.INVALID_STEP: (_409, "invalid_step"),
    CheckoutErrorCode.CHECKOUT_CLOSED: (_409, "checkout_closed"),
    CheckoutErrorCode.RESERVATION_LOST: (_409, "reservationlost"),
    CheckoutErrorCode.CONFIRMATION_TAKEN: (_409, "confirmationtaken"),
    CheckoutErrorCode.PAYMENT_FAILED: (_409, "paymentfailed"),
    CheckoutErrorCode.ORDER_FAILED: (_409, "orderfailed"),
}
PAYMENTS: dict[PaymentErrorCode, Http] = {
    PaymentErrorCode.PAYMENT_DECLINED: (_402, "payment_declined"),
    PaymentErrorCode.INSUFFICIENT_FUNDS: (_402, "insufficient_funds"),
    PaymentErrorCode.INVALID_TOKEN: (_400, "invalid_payment_token"),
    PaymentErrorCode.GATEWAY_UNAVAILABLE: (_409, "gatewayunavailable"),
    PaymentErrorCode.REFUND_EXCEEDS_CHARGE: (_409, "refundexceedscharge"),
    PaymentErrorCode.INVALID_REFUND: (_409, "invalid_refund"),
    PaymentErrorCode.UNKNOWN_CHARGE: (_409, "unknowncharge"),
    PaymentErrorCode.UNKNOWN_PAYMENT: (_409, "unknown_payment"),
    PaymentErrorCode.INVALID_AMOUNT: (_409, "invalid_amount"),
    PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZATION: (_409, "capture_exceeds_authorization"),
    PaymentErrorCode.ALREADY_CAPTURED: (_409, "already_captured"),
    PaymentErrorCode.PAYMENT_VOIDED: (_409, "payment_voided"),
    PaymentErrorCode.REFUND_EXCEEDS_CAPTURE: (_409, "refund_exceeds_capture"),
    PaymentErrorCode.AUTHORIZATION_EXPIRED: (_409, "authorization_expired"),
    PaymentErrorCode.REQUIRES_ACTION: (_402, "payment_requires_action"),
    PaymentErrorCode.PROVIDER_REJECTED: (_409, "payment_provider_rejected"),
}
STRIPE_WEBHOOKS: dict[StripeWebhookErrorCode, Http] = {  # Stripe retries a 400 later; never 500
    StripeWebhookErrorCode.NOT_CONFIGURED: (_400, "webhook_not_configured"),
    StripeWebhookErrorCode.BAD_SIGNATURE: (_400, "webhook_bad_signature"),
    StripeWebhookErrorCode.BAD_PAYLOAD: (_400, "webhook_bad_payload"),
    StripeWebhookErrorCode.UNKNOWN_EVENT: (_400, "webhook_unknown_event"),
}
ORDERS: dict[OrderErrorCode, Http] = {
    OrderErrorCode.ILLEGAL_TRANSITION: (_409, "illegal_transition"),
    OrderErrorCode.FEEDBACK_NOT_ALLOWED: (_409, "feedback_not_allowed"),
    OrderErrorCode.ORDER_CLOSED: (_409, "order_closed"),
    OrderErrorCode.PARTLY_SHIPPED: (_409, "partly_shipped"),
    OrderErrorCode.INVALID_REFUND: (_409, "invalid_refund"),
    OrderErrorCode.ORDER_NOT_FOUND: (_404, "order_not_found"),
    OrderErrorCode.EDIT_NOT_ALLOWED: (_409, "edit_not_allowed"),
    OrderErrorCode.INVALID_EDIT: (_400, "invalid_edit"),
    OrderErrorCode.EDIT_OUT_OF_STOCK: (_409, "insufficient_stock"),
    OrderErrorCode.NO_SUCH_EDIT: (_409, "no_such_edit"),
    OrderErrorCode.SUPPLIER_ORDER_SHIPPED: (_409, "supplier_order_shipped"),
    OrderErrorCode.PAYMENT_REQUIRED: (_402, "payment_required"),
    OrderErrorCode.EDIT_PAYMENT_FAILED: (_402, "payment_declined"),
    OrderErrorCode.UNEXPECTED: (_409, "ordererror"),
}
# a return's codes are their wire values (snake_case already); a not-found return answers
# `return_not_found` like the order's `order_not_found`
RETURNS: dict[ReturnErrorCode, Http] = {
    ReturnErrorCode.LINE_NOT_DELIVERED: (_409, "line_not_delivered"),
    ReturnErrorCode.QUANTITY_NOT_RETURNABLE: (_409, "quantity_not_returnable"),
    ReturnErrorCode.RETURN_WINDOW_CLOSED: (_409, "return_window_closed"),
    ReturnErrorCode.UNKNOWN_LINE: (_400, "unknown_line"),
    ReturnErrorCode.ILLEGAL_TRANSITION: (_409, "illegal_transition"),
    ReturnErrorCode.REFUND_NEEDS_MANAGER: (_403, "refund_needs_manager"),
    ReturnErrorCode.NO_SUCH_RETURN: (_404, "return_not_found"),
    ReturnErrorCode.INVALID_RETURN: (_400, "invalid_return"),
    ReturnErrorCode.TRACKING_TAKEN: (_409, "tracking_taken"),
    ReturnErrorCode.VARIANT_NOT_EXCHANGEABLE: (_409, "variant_not_exchangeable"),
    # an exchange that costs more: 402 like an order edit's price increase (name a method / another card)
    ReturnErrorCode.PAYMENT_REQUIRED: (_402, "payment_required"),
    ReturnErrorCode.PAYMENT_FAILED: (_402, "payment_failed"),
    ReturnErrorCode.UNEXPECTED: (_409, "return_error"),
}
# the staff API's fulfillment codes are the lower-cased domain codes (one is snake_case)
FULFILLMENT: dict[FulfillmentErrorCode, Http] = {
    FulfillmentErrorCode.NOT_FOUND: (_404, "notfound"),
    FulfillmentErrorCode.AMBIGUOUS: (_409, "ambiguous"),
    FulfillmentErrorCode.STEP_NOT_ALLOWED: (_409, "step_not_allowed"),
    FulfillmentErrorCode.REFUSED: (_409, "refused"),
    FulfillmentErrorCode.SUPPLIER_REJECTED: (_409, "supplierrejected"),
    FulfillmentErrorCode.SUPPLIER_UNAVAILABLE: (_409, "supplierunavailable"),
    FulfillmentErrorCode.TRACKING_TAKEN: (_409, "trackingtaken"),
    FulfillmentErrorCode.SHIPPED: (_409, "supplier_order_shipped"),
}
# the cadences API's codes are the snake_case of the domain codes
_CADENCE_STATUS: dict[CadenceErrorCode, int] = {
    CadenceErrorCode.CADENCE_NOT_FOUND: _404,
    CadenceErrorCode.ENROLLMENT_NOT_FOUND: _404,
    CadenceErrorCode.CADENCE_INACTIVE: _409,
    CadenceErrorCode.STALE_VERSION: _409,
    CadenceErrorCode.ALREADY_ENROLLED: _409,
    CadenceErrorCode.UNSUBSCRIBED: _409,
    CadenceErrorCode.ENROLLMENT_ENDED: _409,
    CadenceErrorCode.UNKNOWN_STEP: _400,
    CadenceErrorCode.INVALID_CONTACT: _400,
    CadenceErrorCode.INVALID_STEPS: _400,
    CadenceErrorCode.UNKNOWN_TEMPLATE: _400,
    CadenceErrorCode.TEMPLATE_NOT_ALLOWED: _409,
    CadenceErrorCode.TEMPLATE_MISSING: _409,
    CadenceErrorCode.NOT_RENDERED: _409,
    CadenceErrorCode.UNEXPECTED: _409,
}
CADENCES: dict[CadenceErrorCode, Http] = {code: (http, snake(code)) for code, http in _CADENCE_STATUS.items()}
# no JSON API reaches these two yet; the pages that do map them the same way
INVENTORY: dict[InventoryErrorCode, Http] = {
    InventoryErrorCode.INVALID_QUANTITY: (_409, "invalid_quantity"),
    InventoryErrorCode.UNKNOWN_SKU: (_400, "unknown_sku"),
    InventoryErrorCode.NO_SUCH_RESERVATION: (_400, "no_such_reservation"),
    InventoryErrorCode.MOVED_TO_SHARDS: (_409, "inventory_moved"),
    InventoryErrorCode.UNKNOWN_LOCATION: (_404, "unknown_location"),
    InventoryErrorCode.LOCATION_REQUIRED: (_400, "location_required"),
    InventoryErrorCode.LOCATION_INACTIVE: (_409, "location_inactive"),
    InventoryErrorCode.LOCATION_IN_USE: (_409, "location_in_use"),
    InventoryErrorCode.INSUFFICIENT_AT_LOCATION: (_409, "insufficient_stock_at_location"),
    InventoryErrorCode.UNEXPECTED: (_400, "inventory_error"),
}
IDENTITY: dict[IdentityErrorCode, Http] = {
    IdentityErrorCode.EMAIL_TAKEN: (_409, "email_taken"),
    IdentityErrorCode.NOT_REGISTERED: (_404, "not_registered"),
    IdentityErrorCode.ACCOUNT_LOCKED: (_403, "account_locked"),
    IdentityErrorCode.ACCOUNT_DISABLED: (_403, "account_disabled"),
    IdentityErrorCode.INVALID_RESET_LINK: (_400, "invalid_reset_link"),
    IdentityErrorCode.INVALID_VERIFY_LINK: (_400, "invalid_verify_link"),
    IdentityErrorCode.UNKNOWN_ADDRESS: (_404, "unknown_address"),
    IdentityErrorCode.TOO_MANY_ADDRESSES: (_409, "too_many_addresses"),
    IdentityErrorCode.LAST_OWNER: (_409, "last_owner"),
    IdentityErrorCode.TOKEN_REVOKED: (_409, "token_revoked"),
    IdentityErrorCode.NO_SCOPES: (_400, "no_scopes"),
    IdentityErrorCode.UNEXPECTED: (_409, "identity_error"),
}
_WEBHOOK_STATUS: dict[WebhookErrorCode, int] = {
    WebhookErrorCode.ENDPOINT_NOT_FOUND: _404,
    WebhookErrorCode.EVENT_NOT_FOUND: _404,
    WebhookErrorCode.INVALID_URL: _400,
    WebhookErrorCode.UNKNOWN_EVENT_TYPE: _400,
    WebhookErrorCode.NO_EVENTS: _400,
    WebhookErrorCode.INVALID_SECRET: _400,
    WebhookErrorCode.ENDPOINT_GONE: _409,
    WebhookErrorCode.ADDRESS_REFUSED: _400,
    WebhookErrorCode.ENDPOINT_DISABLED: _409,
    WebhookErrorCode.UNEXPECTED: _409,
}
WEBHOOKS: dict[WebhookErrorCode, Http] = {code: (http, snake(code)) for code, http in _WEBHOOK_STATUS.items()}

TABLES: dict[type[StrEnum], Mapping[Any, Http]] = {
    CartErrorCode: CART, CheckoutErrorCode: CHECKOUT, PaymentErrorCode: PAYMENTS, OrderErrorCode: ORDERS,
    FulfillmentErrorCode: FULFILLMENT, CadenceErrorCode: CADENCES, InventoryErrorCode: INVENTORY,
    IdentityErrorCode: IDENTITY, WebhookErrorCode: WEBHOOKS, StripeWebhookErrorCode: STRIPE_WEBHOOKS,
    ReturnErrorCode: RETURNS,
}


def http_of(code: StrEnum) -> Http:
    """The HTTP status and API code of a domain error code (KeyError: a code no table maps)."""
    return TABLES[type(code)][code]


def api_error(exc: DomainError) -> ApiError:
    http_status, code = http_of(exc.code)
    extra = {"details": exc.details} if exc.details else {}
    return ApiError(code, str(exc), http_status, **extra)
