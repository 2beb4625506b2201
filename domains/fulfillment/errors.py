"""Fulfillment's error codes and `FulfillmentError`, the one exception of its client.
Values are wire values: activity failure types in recorded histories, API and exit codes."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class FulfillmentErrorCode(StrEnum):
    NOT_FOUND = "NotFound"  # no fulfillment or supplier order by that name
    AMBIGUOUS = "Ambiguous"  # several supplier orders could be meant
    STEP_NOT_ALLOWED = "StepNotAllowed"
    REFUSED = "Refused"  # the supplier order ignored a manual step (it says why in its note)
    SUPPLIER_REJECTED = "SupplierRejected"  # activity failure: the supplier API refused
    SUPPLIER_UNAVAILABLE = "SupplierUnavailable"  # activity failure, retried
    TRACKING_TAKEN = "TrackingTaken"
    SHIPPED = "SupplierOrderShipped"  # an order edit reached a supplier order after it shipped


class FulfillmentError(DomainError[FulfillmentErrorCode]):
    """A refusal from the fulfillment client; `code` says which."""
