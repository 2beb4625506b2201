"""Typed calls into the inventory service for other domains' activities, Django and the CLI.

The service starts lazily: every update goes out as update-with-start with
USE_EXISTING, so the first caller creates it and everyone else joins the running one.
Temporal errors come back as `InventoryError` with a stable code.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from domains.shared import code_of
from infra.temporal import business_error

from .errors import InventoryError, InventoryErrorCode
from .ids import INVENTORY_WORKFLOW_ID
from .messages import (
    AdjustStock,
    AmendReservation,
    Hold,
    HoldResult,
    OwnerRequest,
    OwnerResult,
    Reservation,
    SetStock,
    StockAdjustment,
    StockLevel,
    Transfer,
    TransferResult,
)
from .queue import TASK_QUEUE
from .workflows import InventoryService


async def _update(client: Client, update: Any, arg: Any) -> Any:
    start = WithStartWorkflowOperation(
        InventoryService.run, None, id=INVENTORY_WORKFLOW_ID, task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        return await client.execute_update_with_start_workflow(update, arg, start_workflow_operation=start)
    except WorkflowUpdateFailedError as exc:
        cause = business_error(exc.cause)
        if cause is None:
            raise
        code = code_of(cause.type, (InventoryErrorCode,), InventoryErrorCode.UNEXPECTED)
        raise InventoryError(code, cause.message) from None


async def set_stock(client: Client, on_hand: dict[str, int]) -> list[StockLevel]:
    return await _update(client, InventoryService.set_stock, SetStock(on_hand=on_hand))


async def adjust_stock(client: Client, sku: str, delta: int, reason: str, key: str | None = None) -> StockLevel:
    request = AdjustStock(sku=sku, delta=delta, reason=reason, key=key)
    return await _update(client, InventoryService.adjust_stock, request)


async def hold(client: Client, owner: str, sku: str, quantity: int, ttl_seconds: float,
               all_or_nothing: bool = True) -> HoldResult:
    request = Hold(owner=owner, sku=sku, quantity=quantity, ttl_seconds=ttl_seconds, all_or_nothing=all_or_nothing)
    return await _update(client, InventoryService.hold, request)


async def release(client: Client, owner: str) -> OwnerResult:
    return await _update(client, InventoryService.release, OwnerRequest(owner=owner))


async def renew(client: Client, owner: str, ttl_seconds: float) -> OwnerResult:
    return await _update(client, InventoryService.renew, OwnerRequest(owner=owner, ttl_seconds=ttl_seconds))


async def transfer(client: Client, from_owner: str, to_owner: str, lines: dict[str, int],
                   ttl_seconds: float) -> TransferResult:
    request = Transfer(from_owner=from_owner, to_owner=to_owner, lines=lines, ttl_seconds=ttl_seconds)
    return await _update(client, InventoryService.transfer, request)


async def confirm(client: Client, owner: str) -> OwnerResult:
    return await _update(client, InventoryService.confirm, OwnerRequest(owner=owner))


async def fulfil(client: Client, owner: str, skus: list[str] | None = None) -> OwnerResult:
    return await _update(client, InventoryService.fulfil, OwnerRequest(owner=owner, skus=skus))


async def cancel(client: Client, owner: str, skus: list[str] | None = None) -> OwnerResult:
    return await _update(client, InventoryService.cancel, OwnerRequest(owner=owner, skus=skus))


async def amend(client: Client, owner: str, from_owner: str, add: dict[str, int], remove: dict[str, int],
                key: str) -> OwnerResult:
    request = AmendReservation(owner=owner, from_owner=from_owner, add=add, remove=remove, key=key)
    return await _update(client, InventoryService.amend, request)


async def levels(client: Client, skus: list[str]) -> list[StockLevel]:
    return await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).query(InventoryService.levels, skus)


async def reservations_of(client: Client, owner: str) -> list[Reservation]:
    return await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).query(InventoryService.reservations_of, owner)


async def all_reservations(client: Client) -> list[Reservation]:
    """Every reservation the service holds (temporary holds and confirmed orders), for the admin panel."""
    return await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).query(InventoryService.all_reservations)


async def recent_adjustments(client: Client, sku: str | None = None) -> list[StockAdjustment]:
    return await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).query(InventoryService.recent_adjustments, sku)
