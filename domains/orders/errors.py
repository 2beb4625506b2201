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
    ORDER_NOT_FOUND = "OrderNotFound"
    UNEXPECTED = "OrderError"  # a failure whose type no code names


class OrderError(DomainError[OrderErrorCode]):
    """A refusal from the orders client; `code` says which."""
