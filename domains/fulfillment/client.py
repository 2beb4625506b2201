"""The operations behind `manage.py fulfillment` and the admin's fulfillment actions.

Temporal only: supplier orders are found through visibility and read by query; changes
go out as signals. Each operation checks the step first (the same rules the workflow
applies) and raises `FulfillmentError` with a stable code instead of sending a signal
that would be ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import code_of
from infra.temporal import business_error

from . import stages
from .errors import FulfillmentError, FulfillmentErrorCode
from .ids import fulfillment_workflow_id, later_fulfillment_id, supplier_order_number, supplier_order_workflow_id
from .messages import (
    Advance,
    AmendSupplierOrder,
    CancelFulfillment,
    FulfillmentView,
    Reject,
    Strategy,
    SupplierOrderStatus,
    SupplierOrderView,
)
from .workflows import STRATEGY_ATTRIBUTE, FulfillmentWorkflow, SupplierOrderWorkflow

NOT_FOUND = FulfillmentErrorCode.NOT_FOUND
AMBIGUOUS = FulfillmentErrorCode.AMBIGUOUS
NOT_ALLOWED = FulfillmentErrorCode.STEP_NOT_ALLOWED


async def _view(client: Client, workflow_id: str) -> FulfillmentView | None:
    try:
        return await client.get_workflow_handle(workflow_id).query(FulfillmentWorkflow.view)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _fulfillments(client: Client, order_id: str) -> list[tuple[str, FulfillmentView]]:
    """The order's fulfillment and those of units that waited for stock (`later_fulfillment_id`,
    named after their first supplier order, numbered on from the ones before)."""
    first = await _view(client, fulfillment_workflow_id(order_id))
    if first is None:
        raise FulfillmentError(NOT_FOUND, f"order {order_id} has no fulfillment yet")
    found = [(fulfillment_workflow_id(order_id), first)]
    numbers = [n for so in first.supplier_orders if (n := supplier_order_number(so.supplier_order_id)) is not None]
    n, misses = max(numbers, default=0) + 1, 0
    while misses < 2 and numbers:  # a supplier order that has not reported yet leaves a gap of one
        workflow_id = later_fulfillment_id(order_id, f"{first.confirmation_code}-{n}")
        later = await _view(client, workflow_id)
        if later is None or not later.supplier_orders:
            misses, n = misses + 1, n + 1
            continue
        found.append((workflow_id, later))
        misses, n = 0, n + len(later.supplier_orders)
    return found


def _merged(found: list[tuple[str, FulfillmentView]]) -> FulfillmentView:
    first = found[0][1]
    if len(found) == 1:
        return first
    return first.model_copy(update={"supplier_orders": [so for _, view in found for so in view.supplier_orders]})


async def tree(client: Client, order_id: str) -> FulfillmentView:
    """Every supplier order of the order, from its fulfillment and any later ones."""
    return _merged(await _fulfillments(client, order_id))


async def supplier_order(client: Client, supplier_order_id: str) -> SupplierOrderView:
    try:
        return await client.get_workflow_handle(supplier_order_workflow_id(supplier_order_id)).query(
            SupplierOrderWorkflow.view)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise FulfillmentError(NOT_FOUND, f"no supplier order {supplier_order_id}") from None
        raise


async def _pick(client: Client, order_id: str, supplier_order_id: str | None,
                usable: Callable[[SupplierOrderView], bool] = lambda so: True) -> SupplierOrderView:
    """The named supplier order of the order, or its only one that `usable` accepts."""
    view = await tree(client, order_id)
    if supplier_order_id:
        match = [so for so in view.supplier_orders if so.supplier_order_id == supplier_order_id]
        if not match:
            # an exchange's replacement runs in a fulfillment of its own (started by its return), not the order's
            found = await supplier_order(client, supplier_order_id)
            if found.order_id != order_id:
                raise FulfillmentError(NOT_FOUND, f"order {order_id} has no supplier order {supplier_order_id}")
            return found
        return await supplier_order(client, supplier_order_id)
    candidates = [so for so in view.supplier_orders if usable(so)] or view.supplier_orders
    if len(candidates) != 1:
        ids = ", ".join(so.supplier_order_id for so in candidates)
        raise FulfillmentError(AMBIGUOUS, f"order {order_id} has several supplier orders ({ids}); "
                                          "name one with --supplier-order")
    return await supplier_order(client, candidates[0].supplier_order_id)


async def advance(client: Client, order_id: str, to: str, *, supplier_order_id: str | None = None, actor: str,
                  carrier: str | None = None, tracking_number: str | None = None,
                  dry_run: bool = False) -> SupplierOrderView:
    target = SupplierOrderStatus(to)
    so = await _pick(client, order_id, supplier_order_id, lambda s: bool(s.waiting_for))
    why = stages.refusal(so.strategy, so.status, target)
    if why:
        raise FulfillmentError(NOT_ALLOWED, f"{so.supplier_order_id}: {why}")
    request = Advance(to=target, actor=actor, carrier=carrier, tracking_number=tracking_number)
    if not dry_run:
        await client.get_workflow_handle(supplier_order_workflow_id(so.supplier_order_id)).signal(
            SupplierOrderWorkflow.advance, request)
    return so


async def reject(client: Client, order_id: str, reason: str, *, supplier_order_id: str | None = None, actor: str,
                 dry_run: bool = False) -> SupplierOrderView:
    so = await _pick(client, order_id, supplier_order_id, lambda s: stages.can_stop(s.status))
    if not stages.can_stop(so.status):
        raise FulfillmentError(NOT_ALLOWED, f"{so.supplier_order_id} is {so.status.value}; only a supplier order "
                                            "that has not shipped can be rejected")
    if not dry_run:
        await client.get_workflow_handle(supplier_order_workflow_id(so.supplier_order_id)).signal(
            SupplierOrderWorkflow.reject, Reject(actor=actor, reason=reason))
    return so


async def cancel(client: Client, order_id: str, *, actor: str, reason: str = "", dry_run: bool = False
                 ) -> FulfillmentView:
    found = await _fulfillments(client, order_id)
    view = _merged(found)
    if view.supplier_orders and not any(stages.can_stop(so.status) for so in view.supplier_orders):
        raise FulfillmentError(NOT_ALLOWED, f"nothing of order {order_id} can be cancelled: every supplier order "
                                            "has shipped or ended")
    if not dry_run:
        request = CancelFulfillment(actor=actor, reason=reason)
        await client.get_workflow_handle(fulfillment_workflow_id(order_id)).signal(FulfillmentWorkflow.cancel, request)
        for workflow_id, later in found[1:]:  # those of units that waited, while one can still stop
            if any(stages.can_stop(so.status) for so in later.supplier_orders):
                await client.get_workflow_handle(workflow_id).signal(FulfillmentWorkflow.cancel, request)
    return view


async def amend(client: Client, supplier_order_id: str, request: AmendSupplierOrder) -> SupplierOrderView:
    """Hand an order edit to a supplier order that has not shipped; FulfillmentError(SHIPPED)
    when it has (or has ended: its workflow closed)."""
    handle = client.get_workflow_handle(supplier_order_workflow_id(supplier_order_id))
    try:
        return await handle.execute_update(SupplierOrderWorkflow.amend, request)
    except WorkflowUpdateFailedError as exc:
        cause = business_error(exc.cause)
        if cause is None:
            raise
        code = code_of(cause.type, (FulfillmentErrorCode,), FulfillmentErrorCode.SHIPPED)
        raise FulfillmentError(code, cause.message) from None
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise FulfillmentError(FulfillmentErrorCode.SHIPPED, f"{supplier_order_id} has ended") from None
        raise


async def waiting(client: Client) -> list[SupplierOrderView]:
    """Supplier orders waiting for a person, oldest first (visibility, then one query each)."""
    query = (f"WorkflowType = 'SupplierOrderWorkflow' AND ExecutionStatus = 'Running' "
             f"AND {STRATEGY_ATTRIBUTE.name} = '{Strategy.MANUAL.value}'")
    ids = [execution.id async for execution in client.list_workflows(query)]
    limit = asyncio.Semaphore(16)

    async def view_of(workflow_id: str) -> SupplierOrderView | None:
        async with limit:
            try:
                return await client.get_workflow_handle(workflow_id).query(SupplierOrderWorkflow.view)
            except RPCError:
                return None  # closed between the listing and the query

    views = await asyncio.gather(*(view_of(i) for i in ids))
    return sorted((v for v in views if v and v.waiting_for), key=lambda v: v.updated_at)


def age(view: SupplierOrderView, now: datetime | None = None) -> float:
    return ((now or datetime.now(UTC)) - view.updated_at).total_seconds()
