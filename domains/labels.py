"""Human words for the machine values shown to people: statuses, stages, steps, kinds.

One table for the shop pages, the staff panel and the emails, so a shopper and a clerk read
the same name for the same thing ("In production", never `in_production`). Pure Python, no
imports from the domains: a caller passes the enum's value (a StrEnum is a str).

`label(kind, value)` answers the table's word, or, for a value the table does not know yet
(a status added later), the value with underscores and dots turned into spaces and the first
letter capitalised: still readable, never the raw code.
"""

from __future__ import annotations

_TABLE: dict[str, dict[str, str]] = {
    # domains/orders/messages.py OrderStatus
    "order_status": {
        "placed": "Placed",
        "routed": "Sent to suppliers",
        "in_fulfillment": "Being made",
        "partially_shipped": "Partly shipped",
        "shipped": "Shipped",
        "delivered": "Delivered",
        "completed": "Completed",
        "cancelled": "Cancelled",
        "refunded": "Refunded",
    },
    # domains/returns/messages.py ReturnStatus
    "return_status": {
        "requested": "Requested",
        "approved": "Approved",
        "rejected": "Rejected",
        "label_issued": "Label sent",
        "in_transit": "On its way back",
        "received": "Received",
        "refunded": "Refunded",
        "closed": "Closed",
        "expired": "Expired (not sent back in time)",
    },
    # domains/returns/messages.py ReturnReason
    "return_reason": {
        "too_small": "Too small",
        "too_large": "Too large",
        "damaged": "Arrived damaged",
        "wrong_item": "Wrong item sent",
        "not_as_described": "Not as described",
        "changed_mind": "Changed my mind",
        "other": "Other",
    },
    # domains/returns/messages.py LineOutcome
    "return_outcome": {
        "restock": "Back in stock",
        "damaged": "Damaged",
        "missing": "Missing",
    },
    # domains/orders/messages.py OrderView.return_state (beside the order's status)
    "return_state": {
        "partially_returned": "Partly returned",
        "returned": "Returned",
    },
    # domains/fulfillment/messages.py SupplierOrderStatus
    "supplier_status": {
        "pending": "Waiting for the supplier",
        "accepted": "Accepted by the supplier",
        "in_production": "In production",
        "shipped": "Shipped",
        "delivered": "Delivered",
        "rejected": "Rejected by the supplier",
        "cancelled": "Cancelled",
    },
    # domains/fulfillment/messages.py Strategy
    "strategy": {
        "simulated": "Simulated",
        "dropship": "Dropship",
        "manual": "Manual",
    },
    # domains/shared.py CartStatus
    "cart_status": {
        "active": "Active",
        "checking_out": "Checking out",
        "completed": "Ordered",
        "abandoned": "Abandoned",
    },
    # domains/checkout/messages.py Step
    "checkout_step": {
        "shipping": "Shipping address",
        "payment": "Payment",
        "review": "Review",
        "placing": "Placing the order",
        "complete": "Complete",
        "cancelled": "Cancelled",
    },
    # domains/checkout/messages.py CheckoutOutcome
    "checkout_outcome": {
        "placed": "Order placed",
        "cancelled": "Cancelled",
        "expired": "Expired",
    },
    # domains/inventory/messages.py ReservationStatus
    "reservation_status": {
        "temporary": "Held for a cart",
        "confirmed": "Committed to an order",
        "released": "Released",
        "fulfilled": "Shipped",
        "cancelled": "Given back",
    },
    # domains/catalog/messages.py ReindexStage
    "reindex_stage": {
        "starting": "Starting",
        "indexing": "Indexing",
        "switching": "Switching over",
        "done": "Done",
    },
    # domains/identity/roles.py Role
    "role": {
        "owner": "Owner",
        "manager": "Manager",
        "support": "Support",
        "fulfillment": "Fulfillment",
    },
    # domains/cadences/steps.py StepType
    "step_type": {
        "SEND_EMAIL": "Send an email",
        "WAIT": "Wait",
    },
    # domains/cadences/messages.py Trigger
    "trigger": {
        "manual": "Manual (staff enroll)",
        "cart_abandoned": "Abandoned cart",
        "order_delivered": "Order delivered",
    },
    # domains/cadences/messages.py ApplyTo
    "apply_to": {
        "running": "Running enrollments too",
        "new": "New enrollments only",
    },
    # domains/cadences/messages.py EnrollmentStatus
    "enrollment_status": {
        "running": "Running",
        "waiting": "Waiting",
        "paused": "Paused",
        "completed": "Completed",
        "cancelled": "Cancelled",
        "failed": "Failed",
    },
    # domains/cadences TimelineEntry.kind (and the enrollment statuses logged there)
    "enrollment_event": {
        "enrolled": "Enrolled",
        "email_sent": "Email sent",
        "wait_started": "Waiting",
        "wait_finished": "Wait over",
        "paused": "Paused",
        "resumed": "Resumed",
        "steps_updated": "Steps changed",
        "completed": "Completed",
        "cancelled": "Cancelled",
        "failed": "Failed",
    },
    # domains/orders/messages.py history entry kind
    "order_event": {
        "status": "Status",
        "note": "Note",
        "refund": "Refund",
        "feedback": "Feedback",
        "fulfillment": "Fulfillment",
        "payment": "Payment",
        "edit": "Edit",
        "cancel": "Cancelled the rest",
    },
    # payments: an operation's kind and its status
    "payment_kind": {
        "authorize": "Authorised",
        "charge": "Charged",
        "capture": "Captured",
        "void": "Voided",
        "refund": "Refunded",
    },
    "payment_status": {
        "pending": "Pending",
        "succeeded": "Succeeded",
        "failed": "Failed",
        "authorized": "Authorised",
        "captured": "Captured",
        "voided": "Voided",
        "refunded": "Refunded",
    },
    # domains/checkout CheckoutView.payment_method: the masked test token ("tok_…cess"); any
    # other method (a card's brand and last four) is shown as it is
    "payment_method": {
        "tok_…cess": "Test card (succeeds)",
        "tok_…ined": "Test card (declined)",
        "tok_…unds": "Test card (insufficient funds)",
        "tok_…laky": "Test card (gateway fails twice)",
    },
    # domains/identity AuditEntry.action (the staff page's audit log)
    "audit_action": {
        "staff.created": "Staff user added",
        "staff.sign_in": "Signed in",
        "staff.sign_in_failed": "Sign-in failed",
        "staff.password_changed": "Password changed",
        "staff.role_changed": "Role changed",
        "staff.enabled": "Enabled",
        "staff.disabled": "Disabled",
        "token.created": "API token created",
        "token.revoked": "API token revoked",
        "settings.changed": "Settings changed",
    },
    # domains/webhooks/messages.py EventType
    "event_type": {
        "order.placed": "Order placed",
        "order.status_changed": "Order status changed",
        "order.cancelled": "Order cancelled",
        "order.refunded": "Order refunded",
        "fulfillment.shipped": "Shipment sent",
        "fulfillment.delivered": "Shipment delivered",
        "stock.low": "Stock low",
        "product.updated": "Product updated",
        "webhook.ping": "Test ping",
    },
}

KINDS = frozenset(_TABLE)
_AS_GIVEN = frozenset({"payment_method"})  # free text: an unknown value is shown unchanged


def humanize(value: str) -> str:
    """`partially_shipped` -> "Partially shipped", `SEND_EMAIL` -> "Send email"."""
    words = value.replace("_", " ").replace(".", " ").strip().lower()
    return words[:1].upper() + words[1:]


def label(kind: str, value: object) -> str:
    """The human word for `value` of `kind` ("order_status", "supplier_status", ...).

    None or an empty value answers "" (a template shows nothing); an unknown value or kind
    answers the value humanized."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    if not text:
        return ""
    return _TABLE.get(kind, {}).get(text) or (text if kind in _AS_GIVEN else humanize(text))


def fulfillment_note(note: str | None) -> tuple[str, str, str] | None:
    """An order history's fulfillment note, "DHC6PU3C-1 in_production[: why]", as (supplier
    order id, the stage in words, why); None for any other text."""
    if not note:
        return None
    head, _, why = note.partition(": ")
    so_id, _, stage = head.partition(" ")
    if not so_id or not stage or " " in stage or stage not in _TABLE["supplier_status"]:
        return None
    return so_id, label("supplier_status", stage), why


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, label) pairs in the table's order: for a form's select or a filter list."""
    return list(_TABLE.get(kind, {}).items())
