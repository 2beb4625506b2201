"""Typed calls into the inventory shards for other domains' activities, Django and the CLI.

Stock is split over N shard workflows (`inventory-shard-{k}`, N = COMMERCE_INVENTORY_SHARDS,
k = crc32(blank SKU) mod N): a call about one SKU goes to its shard; a call about an owner's
reservations goes to the shards of the SKUs the caller names, else to every shard, and the
answers are merged. The checkout's all-or-nothing transfer is a saga over the shards holding
its lines, compensated when one of them comes back short or fails.

Shards start lazily: every update goes out as update-with-start with USE_EXISTING, so the
first caller creates a shard and everyone else joins the running one. A server refusing an
update because the workflow has its limit of updates in flight (10 by default) is retried
after a short jittered pause: every update here is safe to send again (a hold sets an
absolute quantity, an adjustment carries its key, settling is idempotent).
Temporal errors come back as `InventoryError` with a stable code.
"""

from __future__ import annotations

import asyncio
import random
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import code_of
from infra.config import inventory_shards
from infra.temporal import business_error

from .allocation import route
from .errors import InventoryError, InventoryErrorCode
from .ids import shard_of, shard_workflow_id
from .messages import (
    ADJUSTMENTS_KEPT,
    NO_SUCH_RESERVATION,
    AdjustStock,
    Allocate,
    Allocation,
    AmendReservation,
    CountStock,
    Hold,
    HoldResult,
    InventoryState,
    Location,
    LocationLevel,
    MoveStock,
    OwnerRequest,
    OwnerResult,
    Reservation,
    ReservationStatus,
    RevertTransfer,
    SetLocations,
    SetPolicy,
    SetStock,
    ShipTo,
    StockAdjustment,
    StockLevel,
    Transfer,
    TransferResult,
)
from .queue import TASK_QUEUE
from .shard_workflow import InventoryShard
from .workflows import InventoryService

# A refused update (the workflow's in-flight updates at the server's limit) is sent again after
# a pause of BACKOFF_FIRST..BACKOFF_MAX seconds, doubling, with full jitter, for up to
# BACKOFF_ATTEMPTS tries (about a minute in all) before the refusal reaches the caller.
BACKOFF_FIRST = 0.01
BACKOFF_MAX = 1.0
BACKOFF_ATTEMPTS = 80
# Updates one process keeps in flight on one shard (a bulkhead below the server's 10 per
# workflow): 200 shoppers of one process racing for one SKU queue here, not at the server,
# where refused and re-sent updates would crowd out the ones being applied.
IN_FLIGHT_PER_SHARD = 8
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())


def _slot(shard: int) -> asyncio.Semaphore:
    """This event loop's bulkhead for a shard (a semaphore belongs to one loop)."""
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(shard, asyncio.Semaphore(IN_FLIGHT_PER_SHARD))


def shards() -> int:
    """The number of shards this process routes to (every process must agree)."""
    return inventory_shards()


def _workflow_id(shard: int) -> str:
    return shard_workflow_id(shard)


def refused_for_load(exc: BaseException) -> bool:
    """The server turned the update away: the workflow has its limit of updates in flight
    (RESOURCE_EXHAUSTED "limit on number of concurrent in-flight updates has been reached"; the
    SDK raises it as an RPCError taken out of update-with-start's multi-operation failure, after
    its own few quick retries), or the update was aborted before it completed (UNAVAILABLE
    "workflow update was aborted", e.g. when the workflow's task was lost under load). Sent again
    under the same update id, the server applies it at most once."""
    return isinstance(exc, RPCError) and exc.status in (RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE)


def _start(shard: int, n: int) -> WithStartWorkflowOperation:
    """The shard's workflow (type `InventoryShard`). Every process of this release and of the
    previous one (ce7518f) routes to the shards, also while a rolling release holds new patches
    (the release from bf23359 kept to the one `inventory-service` then: docs/releases.md)."""
    return WithStartWorkflowOperation(
        InventoryShard.run, InventoryState(shard=shard, shards=n), id=shard_workflow_id(shard),
        task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def _update(client: Client, shard: int, update: Any, arg: Any, n: int | None = None) -> Any:
    n = n or shards()
    update_id = str(uuid.uuid4())  # the same on every try: the server dedupes a retry of an applied update
    for attempt in range(BACKOFF_ATTEMPTS):
        start = _start(shard, n)  # an operation is used once
        try:
            async with _slot(shard):
                return await client.execute_update_with_start_workflow(update, arg, id=update_id,
                                                                       start_workflow_operation=start)
        except WorkflowUpdateFailedError as exc:
            cause = business_error(exc.cause)
            if cause is None:
                raise
            code = code_of(cause.type, (InventoryErrorCode,), InventoryErrorCode.UNEXPECTED)
            raise InventoryError(code, cause.message) from None
        except RPCError as exc:
            _read_start_error(start)
            if not refused_for_load(exc) or attempt == BACKOFF_ATTEMPTS - 1:
                raise
            await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** attempt)))
    raise AssertionError("unreachable")


def _read_start_error(start: WithStartWorkflowOperation) -> None:
    """The SDK gives the start operation its own copy of the failure: mark it read, so asyncio
    does not log "Future exception was never retrieved" for every refused try."""
    future = getattr(start, "_workflow_handle", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        future.exception()


def _by_shard(skus: Iterable[str], n: int) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for sku in skus:
        groups.setdefault(shard_of(sku, n), []).append(sku)
    return groups


def _owner_shards(skus: Iterable[str] | None, n: int) -> list[int]:
    """The shards an owner's reservations can be on: those of the SKUs the caller knows, else all."""
    return sorted(_by_shard(skus, n)) if skus is not None else list(range(n))


async def _gathered(calls: list[Any]) -> list[Any]:
    """Every call's result or exception, after all of them have finished (none left in flight)."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def _owner_update(client: Client, update: Any, request: OwnerRequest, skus: Iterable[str] | None,
                        nothing_is_an_error: bool = False) -> OwnerResult:
    """An owner-wide update on each shard it may have reservations on, merged. NoSuchReservation
    only when no shard had anything (as the one service answered)."""
    n = shards()
    outcomes = await _gathered([_update(client, k, update, request, n) for k in _owner_shards(skus, n)])
    merged: dict[str, int] = {}
    answered = False
    nothing: InventoryError | None = None
    for outcome in outcomes:
        if isinstance(outcome, InventoryError) and outcome.code == NO_SUCH_RESERVATION and nothing_is_an_error:
            nothing = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            answered = True
            merged.update(outcome.skus)
    if not answered and nothing is not None:
        raise nothing
    return OwnerResult(owner=request.owner, skus=merged)


# --- updates -------------------------------------------------------------------------------


@contextmanager
def _invalid() -> Iterator[None]:
    """A request the messages refuse (a negative count, an empty key) is `InvalidQuantity`."""
    try:
        yield
    except ValidationError as exc:
        raise InventoryError(InventoryErrorCode.INVALID_QUANTITY, str(exc.errors()[0].get("msg", exc))) from None


async def set_stock(client: Client, on_hand: dict[str, int], location: str | None = None) -> list[StockLevel]:
    """On hand (absolute) at `location`; None: the only active location (LocationRequired when
    there are more)."""
    n = shards()
    groups = _by_shard(on_hand, n)
    parts = await _gathered([
        _update(client, k, InventoryService.set_stock,
                SetStock(on_hand={sku: on_hand[sku] for sku in skus}, location=location), n)
        for k, skus in groups.items()])
    for part in parts:
        if isinstance(part, BaseException):
            raise part
    got = {lv.sku: lv for part in parts for lv in part}
    return [got[sku] for sku in on_hand]


async def adjust_stock(client: Client, sku: str, delta: int, reason: str, key: str | None = None,
                       location: str | None = None, actor: str | None = None) -> StockLevel:
    request = AdjustStock(sku=sku, delta=delta, reason=reason, key=key, location=location, actor=actor)
    n = shards()
    return await _update(client, shard_of(sku, n), InventoryService.adjust_stock, request, n)


async def move_stock(client: Client, sku: str, from_location: str, to_location: str, quantity: int, key: str,
                     actor: str = "") -> list[LocationLevel]:
    """Units from one location to another, once per key (audited as two adjustments); the
    levels of both locations after."""
    with _invalid():
        request = MoveStock(sku=sku, from_location=from_location, to_location=to_location, quantity=quantity,
                            key=key, actor=actor)
    n = shards()
    return await _update(client, shard_of(sku, n), InventoryService.move_stock, request, n)


async def count_stock(client: Client, sku: str, location: str, counted: int, key: str, actor: str = "") -> StockLevel:
    """A count: on hand at the location becomes `counted` (an adjustment "count" with the difference)."""
    with _invalid():
        request = CountStock(sku=sku, location=location, counted=counted, key=key, actor=actor)
    n = shards()
    return await _update(client, shard_of(sku, n), InventoryService.count_stock, request, n)


async def set_policy(client: Client, sku: str, backorder_limit: int = 0,
                     preorder_until: datetime | None = None, actor: str | None = None) -> StockLevel:
    with _invalid():
        request = SetPolicy(sku=sku, backorder_limit=backorder_limit, preorder_until=preorder_until, actor=actor)
    n = shards()
    return await _update(client, shard_of(sku, n), InventoryService.set_policy, request, n)


async def set_locations(client: Client, locations: list[Location]) -> None:
    """The registry to every shard (locations.save_location calls it after writing the row)."""
    n = shards()
    outcomes = await _gathered([_update(client, k, InventoryService.set_locations, SetLocations(locations=locations), n)
                                for k in range(n)])
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def location_in_use(client: Client, location: str) -> bool:
    """Whether any shard has units allocated (not shipped) at the location."""
    answers = await asyncio.gather(*(_query(client, k, InventoryService.location_in_use, location)
                                     for k in range(shards())))
    return any(answers)


async def location_registry(client: Client, sku: str | None = None) -> list[Location]:
    """The locations the shards route with (the default one included), from one shard."""
    n = shards()
    got = await _query(client, shard_of(sku, n) if sku else 0, InventoryService.location_registry)
    if got is None:
        from .messages import with_default

        return with_default([])
    return list(got)


async def allocate(client: Client, owner: str, lines: dict[str, int], ship_to: ShipTo | None = None,
                   notify: str | None = None) -> Allocation:
    """After `confirm`: route the owner's confirmed units of `lines` to locations (the strategy in
    allocation.py, on the levels read now); each shard takes its SKUs' part, falls back by
    priority when another order took the planned units meanwhile, and keeps the rest waiting
    for stock. `notify`: the workflow id that gets the `stock_allocated` signal when waiting
    units are allocated later. Sent again, it answers what was allocated."""
    skus = list(lines)
    current = {lv.sku: lv for lv in await levels(client, skus)}
    registry = await location_registry(client, skus[0] if skus else None)
    free = {sku: {loc.location: max(loc.available, 0) for loc in lv.locations if loc.active}
            for sku, lv in current.items()}
    plan = route(lines, free, registry, ship_to).plan
    n = shards()
    parts = _by_shard(skus, n)
    outcomes = await _gathered([
        _update(client, k, InventoryService.allocate,
                Allocate(owner=owner, plan={sku: plan.get(sku, {}) for sku in part}, notify=notify), n)
        for k, part in parts.items()])
    merged = Allocation(owner=owner)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        merged.allocated.update(outcome.allocated)
        merged.waiting.update(outcome.waiting)
    return merged


async def hold(client: Client, owner: str, sku: str, quantity: int, ttl_seconds: float,
               all_or_nothing: bool = True) -> HoldResult:
    request = Hold(owner=owner, sku=sku, quantity=quantity, ttl_seconds=ttl_seconds, all_or_nothing=all_or_nothing)
    n = shards()
    return await _update(client, shard_of(sku, n), InventoryService.hold, request, n)


async def release(client: Client, owner: str, skus: Iterable[str] | None = None) -> OwnerResult:
    """Give back every temporary hold of the owner (on the shards of `skus` when the caller knows
    which SKUs it held; every shard otherwise)."""
    return await _owner_update(client, InventoryService.release, OwnerRequest(owner=owner), skus)


async def renew(client: Client, owner: str, ttl_seconds: float, skus: Iterable[str] | None = None) -> OwnerResult:
    return await _owner_update(client, InventoryService.renew, OwnerRequest(owner=owner, ttl_seconds=ttl_seconds),
                               skus)


async def transfer(client: Client, from_owner: str, to_owner: str, lines: dict[str, int],
                   ttl_seconds: float, held_skus: Iterable[str] | None = None) -> TransferResult:
    """The old owner's holds become the new owner's, all or nothing across shards (a saga).

    Each shard holding lines transfers its part (itself all or nothing). When every part went
    through, the old owner's holds outside the lines (`held_skus`, when the caller names more
    SKUs than it moves) are released. When a part comes back short or fails, the parts that went
    through are undone (the new owner's holds dropped, the old owner's given back as they were)
    before the shortage is reported or the failure raised. Sent again, it changes nothing more:
    each shard's transfer and undo are idempotent."""
    n = shards()
    groups = _by_shard(lines, n)
    parts = {k: {sku: lines[sku] for sku in skus} for k, skus in groups.items()}
    order = sorted(parts)
    outcomes = await _gathered([
        _update(client, k, InventoryService.transfer, Transfer(from_owner=from_owner, to_owner=to_owner,
                                                                 lines=parts[k], ttl_seconds=ttl_seconds), n)
        for k in order])
    done = {k: r for k, r in zip(order, outcomes, strict=True) if isinstance(r, TransferResult) and r.ok}
    failure = next((r for r in outcomes if isinstance(r, BaseException)), None)
    short = {sku: q for r in outcomes if isinstance(r, TransferResult) for sku, q in r.short.items()}
    if failure is None and not short:
        others = {k for k in _by_shard(held_skus or (), n)} - set(parts)
        if others:
            await _owner_update(client, InventoryService.release, OwnerRequest(owner=from_owner),
                                [sku for sku in held_skus or () if shard_of(sku, n) in others])
        return TransferResult(ok=True, previous=[p for r in done.values() for p in r.previous])
    undone = await _gathered([
        _update(client, k, InventoryService.revert_transfer,
                RevertTransfer(from_owner=from_owner, to_owner=to_owner, lines=parts[k], previous=r.previous), n)
        for k, r in done.items()])
    for outcome in [failure, *undone]:
        if isinstance(outcome, BaseException):
            raise outcome  # the caller's retry sends the whole saga again
    return TransferResult(ok=False, short=short)


async def confirm(client: Client, owner: str, skus: Iterable[str] | None = None) -> OwnerResult:
    """`skus`: the SKUs of the owner's lines when the caller knows them (only their shards are asked)."""
    return await _owner_update(client, InventoryService.confirm, OwnerRequest(owner=owner), skus,
                               nothing_is_an_error=True)


async def fulfil(client: Client, owner: str, skus: list[str] | None = None, location: str | None = None) -> OwnerResult:
    """`skus`: settle only these (one supplier order's lines; only their shards are asked);
    `location`: only the units allocated there (one location's shipment)."""
    return await _owner_update(client, InventoryService.fulfil, OwnerRequest(owner=owner, skus=skus, location=location),
                               skus, nothing_is_an_error=True)


async def cancel(client: Client, owner: str, skus: list[str] | None = None, location: str | None = None,
                 waiting_only: bool = False) -> OwnerResult:
    """Confirmed units back (units waiting for stock too); `location`: only those allocated there;
    `waiting_only`: only the units still waiting for stock (an order cancelled after part shipped)."""
    request = OwnerRequest(owner=owner, skus=skus, location=location, waiting_only=waiting_only)
    return await _owner_update(client, InventoryService.cancel, request, skus, nothing_is_an_error=True)


async def _check_amend(client: Client, owner: str, from_owner: str, add: dict[str, int],
                       remove: dict[str, int]) -> None:
    held = {r.sku: r for r in await reservations_of(client, from_owner, add)}
    mine = {r.sku: r for r in await reservations_of(client, owner, remove)}
    for sku, q in add.items():
        r = held.get(sku)
        if r is None or r.status != ReservationStatus.TEMPORARY or r.quantity < q:
            raise InventoryError(InventoryErrorCode.NO_SUCH_RESERVATION,
                                 f"{from_owner} holds no {q} of {sku} (the hold lapsed?)")
    for sku, q in remove.items():
        r = mine.get(sku)
        if r is None or r.status != ReservationStatus.CONFIRMED or r.quantity < q:
            raise InventoryError(InventoryErrorCode.NO_SUCH_RESERVATION, f"{owner} has no {q} confirmed units of {sku}")


async def amend(client: Client, owner: str, from_owner: str, add: dict[str, int], remove: dict[str, int],
                key: str) -> OwnerResult:
    """An order edit across shards: every shard's part is checked before any is applied (each
    part is itself all or nothing and once per key, so a retry of the whole call is safe)."""
    n = shards()
    parts = sorted(set(_by_shard(add, n)) | set(_by_shard(remove, n)))
    if len(parts) > 1:  # one part (or the singleton, whose previous release lacks has_applied) checks itself
        applied = await asyncio.gather(*(_query(client, k, InventoryService.has_applied, key) for k in parts))
        if not any(applied):  # a retry after some part went through skips the check: each part applies once
            await _check_amend(client, owner, from_owner, add, remove)
    outcomes = await _gathered([
        _update(client, k, InventoryService.amend, AmendReservation(
            owner=owner, from_owner=from_owner, key=key,
            add={s: q for s, q in add.items() if shard_of(s, n) == k},
            remove={s: q for s, q in remove.items() if shard_of(s, n) == k}), n)
        for k in parts])
    merged: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        merged.update(outcome.skus)
    return OwnerResult(owner=owner, skus=merged)


# --- queries -------------------------------------------------------------------------------


async def _query(client: Client, shard: int, query: Any, *args: Any) -> Any:
    """A shard's answer; None when the shard was never started (nothing asked of it yet)."""
    try:
        return await client.get_workflow_handle(_workflow_id(shard)).query(query, *args)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def levels(client: Client, skus: list[str]) -> list[StockLevel]:
    n = shards()
    groups = _by_shard(skus, n)

    async def one(shard: int, part: list[str]) -> list[StockLevel]:
        got = await _query(client, shard, InventoryService.levels, part)
        if got is None:  # never started: start it, so the SKUs it seeds from the store answer
            got = await _update(client, shard, InventoryService.read_levels, part, n)
        return got

    parts = await asyncio.gather(*(one(k, part) for k, part in groups.items()))
    got = {lv.sku: lv for part in parts for lv in part}
    return [got[sku] for sku in skus if sku in got]


async def reservations_of(client: Client, owner: str, skus: Iterable[str] | None = None) -> list[Reservation]:
    n = shards()
    parts = await asyncio.gather(*(_query(client, k, InventoryService.reservations_of, owner)
                                   for k in _owner_shards(skus, n)))
    return [r for part in parts for r in part or []]


async def all_reservations(client: Client) -> list[Reservation]:
    """Every reservation the shards hold (temporary holds and confirmed orders), for the admin panel."""
    parts = await asyncio.gather(*(_query(client, k, InventoryService.all_reservations) for k in range(shards())))
    return [r for part in parts for r in part or []]


async def recent_adjustments(client: Client, sku: str | None = None) -> list[StockAdjustment]:
    """Newest first: one SKU's (from its shard), or every shard's merged (the newest kept)."""
    n = shards()
    asked = [shard_of(sku, n)] if sku is not None else list(range(n))
    parts = await asyncio.gather(*(_query(client, k, InventoryService.recent_adjustments, sku) for k in asked))
    merged = sorted((a for part in parts for a in part or []), key=lambda a: a.at, reverse=True)
    return merged if sku is not None else merged[:ADJUSTMENTS_KEPT]
