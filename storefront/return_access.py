"""Who may see and act on a return, for the return pages and the return API alike.

A return is its order's: the caller may see it exactly when `storefront.order_access` says the
order is theirs (the session, the signed-in shopper, or the `X-Order-Email` header with the
code). The return's display id (`{confirmation code}-R{n}`) names the order, so a return of an
order that is not the caller's, a made-up id and an id of another shop's format all answer the
same `NotFound`, as orders do.
"""

from __future__ import annotations

from domains.orders.messages import OrderStatus, OrderView
from domains.returns import client as returns
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.ids import parse_return_id
from domains.returns.messages import ReturnStatus, ReturnView

from . import order_access as access
from . import services

MAX_RETURN_ID = 60
# what staff act on; the shopper's JSON leaves it out (can_mark_in_transit stays: the shopper may)
STAFF_ONLY = {"workflow_id", "needs_manager", "can_approve", "can_reject", "can_receive", "can_refund"}


def order_of(return_id: str) -> str | None:
    """The confirmation code a display id names, or None if it cannot be one."""
    if not return_id or len(return_id) > MAX_RETURN_ID:
        return None
    try:
        return parse_return_id(return_id.strip().upper())[0]
    except ValueError:
        return None


def owned_return(request, return_id: str, email: str | None = None) -> tuple[OrderView, ReturnView]:
    """The caller's order and its return `return_id`, else `access.NotFound`."""
    code = order_of(return_id)
    if code is None:
        raise access.NotFound
    order = access.owned_order(request, code, email)
    try:
        view = services.call(returns.view, return_id.strip().upper(), services.store())
    except ReturnError as exc:
        if exc.code == ReturnErrorCode.NO_SUCH_RETURN:
            raise access.NotFound from None
        raise
    if view.order_id != order.order_id:
        raise access.NotFound
    return order, view


def actor_word(order: OrderView, actor: str) -> str:
    """A history entry's actor as the shopper reads it: `customer` or `shop`."""
    return "customer" if access.by_customer(order, actor) else "shop"


def shopper_body(order: OrderView, view: ReturnView) -> dict:
    """The return as its customer sees it: `id` first, actors only as `customer` or `shop`."""
    body = view.model_dump(mode="json", exclude=STAFF_ONLY)
    body = {"id": view.return_id, **body}
    body["history"] = [{**h.model_dump(mode="json"), "actor": actor_word(order, h.actor)} for h in view.history]
    return body


def in_returns(view: OrderView) -> dict[str, int]:
    """line id -> units already in a return that was not rejected and has not expired."""
    taken: dict[str, int] = {}
    for r in view.returns:
        if r.status in (ReturnStatus.REJECTED, ReturnStatus.EXPIRED):
            continue
        for line_id, units in r.lines.items():
            taken[line_id] = taken.get(line_id, 0) + units
    return taken


def may_return(view: OrderView) -> bool:
    """Whether to offer "Return items": something was delivered and some unit is not in a
    return yet. The domain decides the rest (the window, exactly what was delivered)."""
    delivered = view.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED) or any(
        str(so.status) == "delivered" for so in view.supplier_orders)
    taken = in_returns(view)
    return delivered and any(li.quantity > taken.get(li.line_id or "", 0) for li in view.lines)
