"""Domain error codes (cart and checkout ShopError, orders OrderError) -> HTTP status and a stable code."""

from __future__ import annotations

from rest_framework import status

from domains.cart.client import ShopError
from domains.orders.client import OrderError

from .errors import ApiError

# domain code -> (HTTP status, API code)
STATUS = {
    "NotFound": (status.HTTP_404_NOT_FOUND, "not_found"),
    "CartClosed": (status.HTTP_409_CONFLICT, "cart_closed"),
    "CartEmpty": (status.HTTP_409_CONFLICT, "cart_empty"),
    "InsufficientStock": (status.HTTP_409_CONFLICT, "insufficient_stock"),
    "UnknownVariant": (status.HTTP_400_BAD_REQUEST, "unknown_variant"),
    "UnknownLine": (status.HTTP_404_NOT_FOUND, "line_not_found"),
    "UnknownCoupon": (status.HTTP_400_BAD_REQUEST, "invalid_coupon"),
    "InvalidStep": (status.HTTP_409_CONFLICT, "invalid_step"),
    "CheckoutClosed": (status.HTTP_409_CONFLICT, "checkout_closed"),
    "PaymentDeclined": (status.HTTP_402_PAYMENT_REQUIRED, "payment_declined"),
    "InsufficientFunds": (status.HTTP_402_PAYMENT_REQUIRED, "insufficient_funds"),
    "InvalidToken": (status.HTTP_400_BAD_REQUEST, "invalid_payment_token"),
    # orders
    "IllegalTransition": (status.HTTP_409_CONFLICT, "illegal_transition"),
    "FeedbackNotAllowed": (status.HTTP_409_CONFLICT, "feedback_not_allowed"),
    "OrderClosed": (status.HTTP_409_CONFLICT, "order_closed"),
    "PartlyShipped": (status.HTTP_409_CONFLICT, "partly_shipped"),
    "InvalidRefund": (status.HTTP_409_CONFLICT, "invalid_refund"),
    "OrderNotFound": (status.HTTP_404_NOT_FOUND, "order_not_found"),
}


def api_error(exc: ShopError | OrderError) -> ApiError:
    http_status, code = STATUS.get(exc.code, (status.HTTP_409_CONFLICT, exc.code.lower()))
    details = getattr(exc, "details", None)
    extra = {"details": details} if details else {}
    return ApiError(code, str(exc), http_status, **extra)
