"""Typed calls into order workflows for Django, the CLI and other domains.

Reads prefer the live workflow (a query answers from the first moment) and fall back to
the write store once the workflow has closed, or when no worker answers the query within
`LIVE_VIEW_SECONDS` (workers restarting, Temporal down): the stored copy, written by every
state change, beats an error page for a shopper looking up an order. Business errors come back as `OrderError`
with a stable code; a closed order refuses actions with ORDER_CLOSED. A refusal names the
action refused ("cannot cancel: ..."), whichever way it was refused: a clerk's stale tab gets
the same kind of answer while the order's workflow is still winding up and once it has closed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowQueryRejectedError, WorkflowUpdateFailedError
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import OpenReturn, ReturnView
from domains.shared import code_of
from infra.store import Store
from infra.temporal import business_error

from .edit_messages import AbandonEdit, ConfirmEdit, EditOrder, EditPreview
from .errors import OrderError, OrderErrorCode
from .ids import normalise_confirmation, order_workflow_id
from .messages import ORDER_CLOSED, AddNote, CancelOrder, LeaveFeedback, OrderView, PaymentEvent, RefundOrder
from .reads import order_from_store
from .workflows import CONFIRMATION_ATTRIBUTE, OrderWorkflow

ORDER_NOT_FOUND = OrderErrorCode.ORDER_NOT_FOUND
NOT_OPEN = QueryRejectCondition.NOT_OPEN
# A query needs a worker; past this the stored copy answers instead. Well inside the web's
# request budget (COMMERCE_REQUEST_BUDGET_SECONDS, 5 s by default), which would answer 503 first.
LIVE_VIEW_SECONDS = 2
# The query could not be answered now (no worker, server down or shedding), not "no such order".
_NO_ANSWER_NOW = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE,
                  RPCStatusCode.RESOURCE_EXHAUSTED)
log = logging.getLogger(__name__)


def _gone(exc: RPCError) -> bool:
    return exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


async def get_order(client: Client, store: Store | None, order_id: str) -> OrderView | None:
    """The live view while the workflow runs, else the stored one (None if there is no such order)."""
    handle = client.get_workflow_handle(order_workflow_id(order_id))
    try:
        # One call: a closed workflow rejects the query instead of being replayed to answer it.
        return await handle.query(OrderWorkflow.view, reject_condition=None if store is None else NOT_OPEN,
                                  rpc_timeout=timedelta(seconds=LIVE_VIEW_SECONDS))
    except WorkflowQueryRejectedError:
        pass
    except RPCError as exc:
        if exc.status in _NO_ANSWER_NOW and store is not None:
            stored = order_from_store(store, order_id)
            if stored is None:
                raise
            log.warning("order %s: live view unavailable (%s), answering from the store", order_id, exc.status.name)
            return stored
        if not _gone(exc):
            raise
    return order_from_store(store, order_id) if store is not None else None


async def find_order_id(client: Client, reference: str) -> str | None:
    """An order id or a confirmation code -> the order id, through Temporal's visibility only."""
    try:
        await client.get_workflow_handle(order_workflow_id(reference)).describe()
        return reference
    except RPCError as exc:
        if not _gone(exc):
            raise
    code = normalise_confirmation(reference)
    if not code.isalnum():  # nothing else can be a code, and nothing else goes into the query
        return None
    query = f"WorkflowType = 'OrderWorkflow' AND {CONFIRMATION_ATTRIBUTE.name} = '{code}'"
    async for execution in client.list_workflows(query, limit=1):
        return execution.id.removeprefix("order-")
    return None


async def _update(client: Client, order_id: str, update: Any, request: Any, action: str) -> Any:
    handle = client.get_workflow_handle(order_workflow_id(order_id))
    try:
        return await handle.execute_update(update, request)
    except WorkflowUpdateFailedError as exc:
        cause = business_error(exc.cause)
        if cause is None:
            raise
        raise OrderError(code_of(cause.type, (OrderErrorCode,), OrderErrorCode.UNEXPECTED), cause.message) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise OrderError(ORDER_CLOSED, f"cannot {action}: this order is closed; nothing more can change") from None
        raise


async def payment_event(client: Client, order_id: str, event: PaymentEvent) -> bool:
    """Hand an inbound provider event to the order; False when the order's workflow has closed."""
    try:
        await client.get_workflow_handle(order_workflow_id(order_id)).signal(OrderWorkflow.payment_event, event)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def cancel(client: Client, order_id: str, actor: str, reason: str = "") -> OrderView:
    return await _update(client, order_id, OrderWorkflow.cancel, CancelOrder(actor=actor, reason=reason), "cancel")


async def refund(client: Client, order_id: str, actor: str, lines: dict[str, int] | None = None,
                 restock: bool = False, reason: str = "") -> OrderView:
    request = RefundOrder(actor=actor, lines=lines, restock=restock, reason=reason)
    return await _update(client, order_id, OrderWorkflow.refund, request, "refund")


async def add_note(client: Client, order_id: str, actor: str, text: str) -> OrderView:
    return await _update(client, order_id, OrderWorkflow.add_note, AddNote(actor=actor, text=text), "add a note")


async def leave_feedback(client: Client, order_id: str, actor: str, rating: int, comment: str = "") -> OrderView:
    request = LeaveFeedback(actor=actor, rating=rating, comment=comment)
    return await _update(client, order_id, OrderWorkflow.leave_feedback, request, "leave feedback")


async def open_return(client: Client, order_id: str, request: OpenReturn) -> ReturnView:
    """Open a return of delivered lines (an update on the order: it knows what was delivered and what
    is already on its way back). Refusals are `ReturnError`s (line_not_delivered, quantity_not_returnable,
    return_window_closed, unknown_line, ...); a closed order answers return_window_closed."""
    handle = client.get_workflow_handle(order_workflow_id(order_id))
    try:
        return await handle.execute_update(OrderWorkflow.open_return, request)
    except WorkflowUpdateFailedError as exc:
        cause = business_error(exc.cause)
        if cause is None:
            raise
        if cause.type is not None and cause.type in OrderErrorCode._value2member_map_:
            raise OrderError(OrderErrorCode(cause.type), cause.message) from None
        raise ReturnError(code_of(cause.type, (ReturnErrorCode,), ReturnErrorCode.UNEXPECTED), cause.message) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ReturnError(ReturnErrorCode.RETURN_WINDOW_CLOSED,
                              "this order is closed: its return window has passed") from None
        raise


# --- order edits (edits.py): preview, confirm, abandon --------------------------------------

async def preview_edit(client: Client, order_id: str, request: EditOrder) -> EditPreview:
    return await _update(client, order_id, OrderWorkflow.preview_edit, request, "edit the order")


async def confirm_edit(client: Client, order_id: str, request: ConfirmEdit) -> OrderView:
    return await _update(client, order_id, OrderWorkflow.confirm_edit, request, "edit the order")


async def abandon_edit(client: Client, order_id: str, request: AbandonEdit) -> OrderView:
    return await _update(client, order_id, OrderWorkflow.abandon_edit, request, "abandon the edit")
