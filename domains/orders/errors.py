"""The order's error codes and `OrderError`, the one exception of the orders client.
Values are wire values: ApplicationError types in recorded histories, API codes, exit codes."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class OrderErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "IllegalTransition"
    INVALID_REFUND = "InvalidRefund"
    FEEDBACK_NOT_ALLOWED = "FeedbackNotAllowed"
    ORDER_CLOSED = "OrderClosed"
    PARTLY_SHIPPED = "PartlyShipped"  # a cancel reached a supplier order after it shipped
    # order edits (edits.py)
    EDIT_NOT_ALLOWED = "EditNotAllowed"  # not editable now, or not by this actor (a shopper: address only)
    INVALID_EDIT = "InvalidEdit"  # bad input: unknown variant, nothing changed, a line that cannot change
    EDIT_OUT_OF_STOCK = "EditOutOfStock"  # the extra units could not be held
    NO_SUCH_EDIT = "NoSuchEdit"  # no open preview by that id (confirmed, abandoned or lapsed)
    SUPPLIER_ORDER_SHIPPED = "SupplierOrderShipped"  # a supplier order shipped before the edit reached it
    PAYMENT_REQUIRED = "PaymentRequired"  # the edit costs more: confirm it with a payment method
    EDIT_PAYMENT_FAILED = "EditPaymentFailed"  # the payment method was declined
    ORDER_NOT_FOUND = "OrderNotFound"
    UNEXPECTED = "OrderError"  # a failure whose type no code names


class OrderError(DomainError[OrderErrorCode]):
    """A refusal from the orders client; `code` says which."""
