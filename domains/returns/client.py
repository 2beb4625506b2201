"""Typed calls into return workflows for Django, the CLI and the token API.

A return is named by the id people see (`{code}-R{n}`) or its workflow id (`return-{order}-{n}`).
Opening one is not here: it is an update on the order (`domains.orders.client.open_return`),
which knows what was delivered and what is already on its way back.

Staff actions carry the actor's role (`actor_role` in the request): the caller checked the
permission (`Permission.RETURNS_WRITE`; `Permission.ORDERS_REFUND` to refund above the shop's
`support_refund_limit`) and says which role did; the workflow only compares it with its policy.
Refusals come back as `ReturnError` with a `ReturnErrorCode`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowQueryRejectedError, WorkflowUpdateFailedError
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import code_of
from infra.store import Store, schema
from infra.temporal import business_error

from .errors import ReturnError, ReturnErrorCode
from .ids import is_workflow_id, parse_return_id, return_workflow_id
from .messages import ApproveReturn, MarkInTransit, ReceiveReturn, RefundReturn, RejectReturn, ReturnView
from .reads import return_from_store

NO_SUCH_RETURN = ReturnErrorCode.NO_SUCH_RETURN
LIVE_VIEW_SECONDS = 2  # past this (no worker answers) the stored copy answers


def _gone(exc: RPCError) -> bool:
    return exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


async def workflow_id_of(client: Client, return_id: str, store: Store | None = None) -> str:
    """A return's workflow id from either of its ids (ReturnError no_such_return if neither)."""
    if is_workflow_id(return_id):
        return return_id
    try:
        code, n = parse_return_id(return_id)
    except ValueError:
        raise ReturnError(NO_SUCH_RETURN, f"{return_id!r} is not a return id") from None
    if store is not None:
        row = store.get(schema.RETURNS.name, {"return_id": f"{code}-R{n}"})
        if row is not None:
            return str(row["workflow_id"])
        order = store.get(schema.ORDERS_BY_CONFIRMATION.name, {"confirmation_code": code})
        if order is not None:
            return return_workflow_id(order["order_id"], n)
    # No store (or not written yet): the order's confirmation code through Temporal's visibility.
    query = f"WorkflowType = 'OrderWorkflow' AND OrderConfirmation = '{code}'"
    async for execution in client.list_workflows(query, limit=1):
        return return_workflow_id(execution.id.removeprefix("order-"), n)
    raise ReturnError(NO_SUCH_RETURN, f"there is no return {return_id}")


async def view(client: Client, return_id: str, store: Store | None = None) -> ReturnView:
    """The live view while the return's workflow runs, else the stored one."""
    workflow_id = await workflow_id_of(client, return_id, store)
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.query("view", result_type=ReturnView,
                                  reject_condition=None if store is None else QueryRejectCondition.NOT_OPEN,
                                  rpc_timeout=timedelta(seconds=LIVE_VIEW_SECONDS))
    except WorkflowQueryRejectedError:
        pass
    except RPCError as exc:
        if not _gone(exc) and store is None:
            raise
    stored = return_from_store(store, workflow_id) if store is not None else None
    if stored is None:
        raise ReturnError(NO_SUCH_RETURN, f"there is no return {return_id}")
    return stored


async def _update(client: Client, return_id: str, update: str, request: Any, store: Store | None) -> ReturnView:
    handle = client.get_workflow_handle(await workflow_id_of(client, return_id, store))
    try:
        return await handle.execute_update(update, request, result_type=ReturnView)
    except WorkflowUpdateFailedError as exc:
        cause = business_error(exc.cause)
        if cause is None:
            raise
        raise ReturnError(code_of(cause.type, (ReturnErrorCode,), ReturnErrorCode.UNEXPECTED), cause.message,
                          cause.details[0] if cause.details else None) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ReturnError(ReturnErrorCode.ILLEGAL_TRANSITION,
                              f"cannot {update.replace('_', ' ')}: return {return_id} is finished") from None
        raise


async def approve(client: Client, return_id: str, request: ApproveReturn, store: Store | None = None) -> ReturnView:
    return await _update(client, return_id, "approve", request, store)


async def reject(client: Client, return_id: str, request: RejectReturn, store: Store | None = None) -> ReturnView:
    return await _update(client, return_id, "reject", request, store)


async def mark_in_transit(client: Client, return_id: str, request: MarkInTransit,
                          store: Store | None = None) -> ReturnView:
    return await _update(client, return_id, "mark_in_transit", request, store)


async def receive(client: Client, return_id: str, request: ReceiveReturn, store: Store | None = None) -> ReturnView:
    return await _update(client, return_id, "receive", request, store)


async def refund(client: Client, return_id: str, request: RefundReturn, store: Store | None = None) -> ReturnView:
    return await _update(client, return_id, "refund", request, store)
