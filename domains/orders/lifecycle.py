"""Which order status may follow which, and the order's status derived from its supplier orders."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domains.fulfillment.messages import SupplierOrderReport, SupplierOrderStatus
from domains.orders.messages import ILLEGAL_TRANSITION

from .messages import OrderStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.PLACED: frozenset({S.ROUTED, S.CANCELLED}),
    S.ROUTED: frozenset({S.IN_FULFILLMENT, S.CANCELLED}),
    S.IN_FULFILLMENT: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUNDED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# The forward path fulfillment walks; a derived status further along is reached through it.
FORWARD = (S.PLACED, S.ROUTED, S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED)
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.REFUNDED})
# How far along an order is, for a shopper's progress bar (0-100).
PROGRESS = {S.PLACED: 10, S.ROUTED: 20, S.IN_FULFILLMENT: 40, S.PARTIALLY_SHIPPED: 60, S.SHIPPED: 75,
            S.DELIVERED: 100, S.COMPLETED: 100, S.CANCELLED: 0, S.REFUNDED: 100}


def can_move(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def check_move(current: S, target: S, action: str | None = None) -> None:
    """Refuse an illegal move; `action` (e.g. "cancel") names what a person asked for."""
    if not can_move(current, target):
        moving = f"it cannot go from {current.value} to {target.value}"
        message = f"cannot {action} an order that is {current.value}: {moving}" if action else f"an order {moving[3:]}"
        raise ApplicationError(message, {"from": current.value, "to": target.value}, type=ILLEGAL_TRANSITION,
                               non_retryable=True)


def path(current: S, target: S) -> list[S]:
    """The statuses to pass through from `current` to `target` (target last); [] if none."""
    if current == target:
        return []
    if can_move(current, target):
        return [target]
    if current in FORWARD and target in FORWARD and FORWARD.index(target) > FORWARD.index(current):
        steps = []
        here = current
        while here != target:
            ahead = FORWARD[FORWARD.index(here) + 1:FORWARD.index(target) + 1]
            nxt = [s for s in ahead if can_move(here, s)][-1]  # the furthest allowed step
            steps.append(nxt)
            here = nxt
        return steps
    return []


# Supplier order statuses, as fulfillment reports them.
SHIPPED_OR_LATER = frozenset({"shipped", "delivered"})
DROPPED = frozenset({"rejected", "cancelled"})
STOPPABLE = frozenset({"pending", "accepted", "in_production"})  # not shipped: a cancel or an edit still reaches it


def derived(statuses: list[str]) -> S | None:
    """The order status its supplier orders imply, or None while nothing is decided."""
    live = [s for s in statuses if s not in DROPPED]
    if not statuses:
        return None
    if not live:
        return S.CANCELLED
    if all(s == "delivered" for s in live):
        return S.DELIVERED
    if all(s in SHIPPED_OR_LATER for s in live):
        return S.SHIPPED
    if any(s in SHIPPED_OR_LATER for s in live):
        return S.PARTIALLY_SHIPPED
    return S.IN_FULFILLMENT


# How far along a supplier order is. Its stages only move forward, so a report whose stage
# ranks below what the order already has arrived late. Rejected and cancelled end it.
_SO = SupplierOrderStatus
SUPPLIER_RANK = {_SO.PENDING: 0, _SO.ACCEPTED: 1, _SO.IN_PRODUCTION: 2, _SO.SHIPPED: 3, _SO.DELIVERED: 4,
                 _SO.REJECTED: 4, _SO.CANCELLED: 4}


def stale_report(current_status: str, current_seq: int, report: SupplierOrderReport) -> bool:
    """True when `report` is not newer than what the order has for its supplier order: by the
    report's sequence number when both sides have one, else by the rank of its stage."""
    if report.seq and current_seq:
        return report.seq <= current_seq
    return SUPPLIER_RANK[report.status] < SUPPLIER_RANK[SupplierOrderStatus(current_status)]
