"""Staff actions on a return, shared by the admin pages, the token API and the CLI, so that
each builds the same request and asks the same role table.

The return workflow cannot read roles: every request carries `actor_role`, the role the caller
checked. `Permission.RETURNS_WRITE` (support, manager, owner) approves, rejects, marks in transit,
receives and refunds; a refund above the shop's `support_refund_limit` (the view's
`needs_manager`) also needs `Permission.ORDERS_REFUND` (manager, owner). An API token has scopes,
not a role: a token with `orders:write` may already refund any order, so it acts as a manager.
"""

from __future__ import annotations

from domains.identity.roles import Permission, Role, allowed
from domains.orders import client as orders
from domains.returns import client as returns
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import (
    ApproveReturn,
    MarkInTransit,
    OpenReturn,
    ReceivedLine,
    ReceiveReturn,
    RefundReturn,
    RejectReturn,
    ReturnLineRequest,
    ReturnView,
)

from . import services

TOKEN_ROLE = Role.MANAGER.value
ACTIONS = ("approve", "reject", "in_transit", "receive", "refund")


def may_refund(view: ReturnView, role: str | None) -> bool:
    """Whether `role` may refund this return: anyone with returns:write up to the support
    limit, above it only a role with orders:refund."""
    return allowed(role, Permission.RETURNS_WRITE) and (not view.needs_manager or
                                                        allowed(role, Permission.ORDERS_REFUND))


def refund_refusal(view: ReturnView) -> ReturnError:
    return ReturnError(ReturnErrorCode.REFUND_NEEDS_MANAGER,
                       f"the refund of {view.return_id} is above the support limit: a manager or owner refunds it")


def view(return_id: str) -> ReturnView:
    return services.call(returns.view, return_id, services.store())


def open_for_order(order_id: str, actor: str, role: str | None, lines: list[ReturnLineRequest], note: str = "",
                   override_window: str | None = None, payment_method: str | None = None) -> ReturnView:
    message = OpenReturn(actor=actor, actor_role=role, lines=lines, note=note, override_window=override_window or None,
                         payment_method=payment_method or None)
    return services.call(orders.open_return, order_id, message)


def approve(return_id: str, actor: str, role: str | None, note: str = "",
            payment_method: str | None = None) -> ReturnView:
    """Approve; `payment_method` pays an exchange's price increase when the shopper named none."""
    message = ApproveReturn(actor=actor, actor_role=role, note=note, payment_method=payment_method or None)
    return services.call(returns.approve, return_id, message, services.store())


def reject(return_id: str, actor: str, role: str | None, reason: str) -> ReturnView:
    return services.call(returns.reject, return_id, RejectReturn(actor=actor, actor_role=role, reason=reason),
                         services.store())


def mark_in_transit(return_id: str, actor: str, role: str | None, tracking_number: str,
                    carrier: str = "") -> ReturnView:
    message = MarkInTransit(actor=actor, actor_role=role, tracking_number=tracking_number, carrier=carrier)
    return services.call(returns.mark_in_transit, return_id, message, services.store())


def received_lines(current: ReturnView, restock: str | None,
                   per_line: dict[str, ReceivedLine] | None = None) -> dict[str, ReceivedLine]:
    """What arrived, per line: `restock="all"` puts every unit back in stock, `"none"` records
    every unit as damaged (arrived, not resellable); `per_line` names lines one by one and wins
    over either. Lines named by neither are left out (the workflow then refuses: every line of
    the return must be accounted for)."""
    lines: dict[str, ReceivedLine] = {}
    for li in current.lines:
        if restock == "all":
            lines[li.line_id] = ReceivedLine(restock=li.quantity)
        elif restock == "none":
            lines[li.line_id] = ReceivedLine(damaged=li.quantity)
    lines.update(per_line or {})
    return lines


def receive(return_id: str, actor: str, role: str | None, lines: dict[str, ReceivedLine],
            note: str = "") -> ReturnView:
    message = ReceiveReturn(actor=actor, actor_role=role, lines=lines, note=note)
    return services.call(returns.receive, return_id, message, services.store())


def refund(return_id: str, actor: str, role: str | None, current: ReturnView | None = None) -> ReturnView:
    """Refund a received return; refused here first (no round trip) when the role may not."""
    current = current or view(return_id)
    if not may_refund(current, role):
        raise refund_refusal(current)
    return services.call(returns.refund, return_id, RefundReturn(actor=actor, actor_role=role), services.store())
