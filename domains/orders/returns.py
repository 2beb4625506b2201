"""The order's side of returns, as pure rules on its state (the handlers are in workflows.py):
what may be returned, the return's input, the summaries returns report, the return state
beside the order's status, and how long the order must stay open for them.

A line may be returned once its supplier order is delivered, within the shop's return window
after that delivery (staff may waive it with a note), up to its quantity less what was refunded
and what open returns already hold. Returns are domains/returns' workflows; the order imports
their messages, never the other way round.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.exceptions import ApplicationError

from domains.returns import exchanges
from domains.returns.errors import ReturnErrorCode
from domains.returns.ids import display_id, return_workflow_id
from domains.returns.messages import (
    FINAL as RETURN_FINAL,
)
from domains.returns.messages import (
    FINISHED,
    ExchangeVariant,
    OpenReturn,
    OrderMoney,
    RefundReturnRequest,
    ReturnInput,
    ReturnLine,
    ReturnStatus,
    ReturnSummary,
)
from domains.shared import OrderLine, with_line_ids

from .messages import OrderState

RETURNED = "returned"
PARTIALLY_RETURNED = "partially_returned"
# Rejected and expired returns gave nothing back; the others count toward the return state.
_NOTHING_BACK = frozenset({ReturnStatus.REJECTED, ReturnStatus.EXPIRED})


def _refuse(code: ReturnErrorCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def lines_by_id(state: OrderState) -> dict[str, OrderLine]:
    return {li.line_id or "": li for li in with_line_ids(state.order.lines)}


def delivered_at(state: OrderState, line: OrderLine) -> datetime | None:
    """When the line's supplier order was delivered (None: not delivered)."""
    for so in state.supplier_orders:
        if so.status == "delivered" and any(x.variant_id == line.variant_id for x in so.lines):
            return so.updated_at
    return None


def last_delivery(state: OrderState) -> datetime | None:
    times = [so.updated_at for so in state.supplier_orders if so.status == "delivered"]
    return max(times) if times else None


def window_until(state: OrderState) -> datetime | None:
    """When the last delivered line's return window closes (None: nothing delivered, or no policy yet)."""
    last = last_delivery(state)
    if last is None or state.return_policy is None:
        return None
    return last + timedelta(days=state.return_policy.return_window_days)


def open_returns(state: OrderState) -> list[ReturnSummary]:
    return [r for r in state.returns if r.status not in FINISHED]


def any_running(state: OrderState) -> bool:
    """A return whose workflow has not ended (or whose exchange's replacement is still on its way):
    the order must stay to hear from it."""
    return any(r.status not in RETURN_FINAL
               or (r.replacement is not None and r.replacement.status not in _REPLACEMENT_ENDED)
               for r in state.returns)


_REPLACEMENT_ENDED = frozenset({"delivered", "rejected", "cancelled"})


def returnable(state: OrderState, line: OrderLine) -> int:
    """Units of the line that may still go into a return."""
    refunded = sum(r.lines.get(line.variant_id, 0) for r in state.refunds)
    paid = {r.refund_id for r in state.refunds}  # a return refunded before its report came: counted once
    held = sum(r.lines.get(line.line_id or "", 0) for r in open_returns(state)
               if refund_id_of(state, r.return_id) not in paid)
    return max(0, line.quantity - refunded - held)


def exchange_ids(request: OpenReturn) -> list[str]:
    return sorted({li.exchange_variant_id for li in request.lines if li.exchange_variant_id})


def check_open(state: OrderState, request: OpenReturn, now: datetime,
               variants: dict[str, ExchangeVariant] | None = None) -> None:
    """Refuse a return the order cannot take (the validator, and the handler again under its lock,
    with the exchange variants read from the catalog: `variants` None skips those checks)."""
    by_id = lines_by_id(state)
    if request.override_window and not request.by_staff:
        raise _refuse(ReturnErrorCode.INVALID_RETURN, "only staff may open a return past the return window")
    for asked in request.lines:
        line = by_id.get(asked.line_id)
        if line is None:
            raise _refuse(ReturnErrorCode.UNKNOWN_LINE, f"this order has no line {asked.line_id}")
        if asked.exchange_variant_id and variants is not None:
            other = variants.get(asked.exchange_variant_id)
            if other is None or other.product_id != line.product_id or other.variant_id == line.variant_id:
                raise _refuse(ReturnErrorCode.VARIANT_NOT_EXCHANGEABLE,
                              f"{asked.line_id} ({line.product_name}) can be exchanged for another variant of the "
                              f"same product only, not {asked.exchange_variant_id}")
        at = delivered_at(state, line)
        if at is None:
            raise _refuse(ReturnErrorCode.LINE_NOT_DELIVERED, f"{asked.line_id} ({line.product_name}) is not delivered")
        policy = state.return_policy
        if policy is not None and now > at + timedelta(days=policy.return_window_days) \
                and not request.override_window:
            raise _refuse(ReturnErrorCode.RETURN_WINDOW_CLOSED,
                          f"{asked.line_id} was delivered on {at:%Y-%m-%d}: the {policy.return_window_days}-day "
                          "return window has closed")
        left = returnable(state, line)
        if asked.quantity > left:
            raise _refuse(ReturnErrorCode.QUANTITY_NOT_RETURNABLE,
                          f"{asked.line_id}: {left} units can be returned, not {asked.quantity}")
    if variants is not None and not request.by_staff and not request.payment_method:
        more = exchanges.difference(exchange_lines(state, request, variants))
        if more > 0:  # staff may open it and confirm a payment method when they approve
            raise _refuse(ReturnErrorCode.PAYMENT_REQUIRED,
                          f"the exchange costs {more} {state.order.currency} more: name a payment method")


def exchange_lines(state: OrderState, request: OpenReturn,
                   variants: dict[str, ExchangeVariant]) -> list[ReturnLine]:
    """The return's lines, each exchange with its replacement variant."""
    by_id = lines_by_id(state)
    return [ReturnLine(line_id=asked.line_id, variant_id=by_id[asked.line_id].variant_id,
                       product_name=by_id[asked.line_id].product_name, options=by_id[asked.line_id].options,
                       blank_sku=by_id[asked.line_id].blank_sku, unit_price=by_id[asked.line_id].unit_price,
                       quantity=asked.quantity, reason=asked.reason, exchange_variant_id=asked.exchange_variant_id,
                       exchange=variants.get(asked.exchange_variant_id) if asked.exchange_variant_id else None)
            for asked in request.lines]


def return_input(state: OrderState, request: OpenReturn, n: int, order_workflow_id: str,
                 now: datetime, variants: dict[str, ExchangeVariant] | None = None) -> ReturnInput:
    o = state.order
    if state.return_policy is None:
        raise RuntimeError("the return policy is loaded before a return opens")
    lines = exchange_lines(state, request, variants or {})
    note = request.note
    if request.override_window:
        note = (note + "\n" if note else "") + f"return window waived: {request.override_window}"
    return ReturnInput(
        return_id=display_id(o.confirmation_code, n), workflow_id=return_workflow_id(o.order_id, n), n=n,
        order_id=o.order_id, order_workflow_id=order_workflow_id, confirmation_code=o.confirmation_code,
        email=o.email, money=OrderMoney(currency=o.currency, subtotal=o.subtotal, discount=o.discount,
                                        shipping=o.shipping, tax=o.tax, total=o.total),
        lines=lines, note=note, actor=request.actor, policy=state.return_policy, created_at=now,
        payment_method=request.payment_method)


def note_summary(state: OrderState, summary: ReturnSummary) -> bool:
    """Keep a return's latest report; True when it changed something (an older one changes nothing)."""
    for i, known in enumerate(state.returns):
        if known.return_id == summary.return_id:
            if summary.updated_at < known.updated_at or summary == known:
                return False
            state.returns[i] = summary
            return True
    state.returns.append(summary)
    return True


def return_state(state: OrderState) -> str:
    units = sum(n for r in state.returns if r.status not in _NOTHING_BACK for n in r.lines.values())
    if units == 0:
        return ""
    return RETURNED if units >= sum(li.quantity for li in state.order.lines) else PARTIALLY_RETURNED


def refund_id_of(state: OrderState, return_id: str) -> str:
    return f"{state.order.order_id}-return-{return_id}"


def check_refund(state: OrderState, request: RefundReturnRequest) -> None:
    known = next((r for r in state.returns if r.return_id == request.return_id), None)
    if known is None:
        raise _refuse(ReturnErrorCode.NO_SUCH_RETURN, f"return {request.return_id} is not this order's")
    for line_id, n in request.lines.items():
        if n < 0 or n > known.lines.get(line_id, 0):
            raise _refuse(ReturnErrorCode.INVALID_RETURN,
                          f"{line_id}: the return holds {known.lines.get(line_id, 0)} units, not {n}")


def refund_units(state: OrderState, request: RefundReturnRequest) -> dict[str, int]:
    """Variant id -> units, as the order's refunds count them."""
    by_id = lines_by_id(state)
    units: dict[str, int] = {}
    for line_id, n in request.lines.items():
        if n > 0:
            variant = by_id[line_id].variant_id
            units[variant] = units.get(variant, 0) + n
    return units
