"""The checkout's error codes: refusals of its updates and the codes a checkout view's
`error` names after a failed placement. Values are wire values (histories, API codes).
Checkout has no client of its own: the cart client raises these as `ShopError`."""

from __future__ import annotations

from enum import StrEnum


class CheckoutErrorCode(StrEnum):
    INVALID_STEP = "InvalidStep"
    CHECKOUT_CLOSED = "CheckoutClosed"
    RESERVATION_LOST = "ReservationLost"
    CONFIRMATION_TAKEN = "ConfirmationTaken"  # internal: create_order drew a code in use; a new one is drawn
    PAYMENT_FAILED = "PaymentFailed"  # the view's error when the payment step failed without a code
    ORDER_FAILED = "OrderFailed"  # the view's error when no order could be created
