"""The returns domain's error codes and `ReturnError`, the one exception of its clients.
Values are wire values (ApplicationError types in histories, API codes): they never change."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class ReturnErrorCode(StrEnum):
    LINE_NOT_DELIVERED = "line_not_delivered"  # the line's supplier order is not delivered
    QUANTITY_NOT_RETURNABLE = "quantity_not_returnable"  # more than delivered less returned/refunded/open
    RETURN_WINDOW_CLOSED = "return_window_closed"  # past return_window_days after delivery, no staff override
    UNKNOWN_LINE = "unknown_line"
    ILLEGAL_TRANSITION = "illegal_transition"  # the move is not allowed from the return's status
    REFUND_NEEDS_MANAGER = "refund_needs_manager"  # above support_refund_limit: manager or owner only
    NO_SUCH_RETURN = "no_such_return"
    INVALID_RETURN = "invalid_return"  # bad input (e.g. received units that do not add up)
    TRACKING_TAKEN = "tracking_taken"  # the parcel's tracking number belongs to another shipment or return
    VARIANT_NOT_EXCHANGEABLE = "variant_not_exchangeable"  # another product's variant, unknown, or out of stock
    PAYMENT_REQUIRED = "payment_required"  # the exchange costs more: name a payment method
    PAYMENT_FAILED = "payment_failed"  # the exchange's price increase could not be charged
    UNEXPECTED = "return_error"  # a failure whose type no code names


class ReturnError(DomainError[ReturnErrorCode]):
    """A refusal from the returns client (or the orders client's open_return); `code` says which."""
