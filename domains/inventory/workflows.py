"""The inventory workflow: the single writer of stock, one per shard of the blank SKUs.

Every change is an update with a return value, applied one at a time by the workflow's
single thread, so two shoppers can never both take the last unit. Changes mark SKUs dirty;
the run loop projects a burst of them in one activity call, sweeps lapsed holds on a
timer, and continues as new (after every handler has finished) with its whole state.

The same class runs as `inventory-shard-{k}` (its state names the shard: it holds only the
SKUs whose hash falls on it) and, in histories from before the shards, as the one
`inventory-service` of the shop, which on a shard's first start hands that shard its part of
the state and, once every shard has taken its part, ends (docs/domains/inventory.md).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from .activities import InventoryActivities
    from .ids import shard_of
    from .messages import (
        ADJUSTMENTS_KEPT,
        APPLIED_KEYS_KEPT,
        INVALID_QUANTITY,
        MOVED_TO_SHARDS,
        NO_SUCH_RESERVATION,
        UNKNOWN_SKU,
        AdjustStock,
        AmendReservation,
        HandOver,
        Hold,
        HoldResult,
        InventoryState,
        LoadStock,
        OwnerRequest,
        OwnerResult,
        Reservation,
        ReservationStatus,
        RevertTransfer,
        SetStock,
        SkuStock,
        StockAdjustment,
        StockLevel,
        Transfer,
        TransferResult,
        reservation_key,
    )

# A transfer sent again (its activity's answer lost to a killed worker or a restarting server)
# found the old owner's holds gone, passed the availability check on free stock and counted the
# lines into `reserved` a second time while the new owner's reservations were only overwritten:
# `reserved` stayed high after the orders shipped, with no reservation behind it
# (tests/test_cluster_faults.py). Now a transfer whose new owner already holds every line, and
# the old owner nothing of them, is that retry: it changes nothing. Older histories keep the old count.
IDEMPOTENT_TRANSFER_PATCH = "inventory-transfer-retry"
# Wake when the next hold lapses instead of every `expiry_sweep_seconds`: N idle shards would
# otherwise each run a workflow task every five minutes for nothing.
SWEEP_WHEN_DUE_PATCH = "inventory-sweep-when-due"


def _level(sku: str, s: SkuStock) -> StockLevel:
    return StockLevel(sku=sku, on_hand=s.on_hand, reserved=s.reserved, committed=s.committed, available=s.available)


@workflow.defn
class InventoryService:
    @workflow.init
    def __init__(self, state: InventoryState | None = None) -> None:
        # The state is set before any handler runs: after continue-as-new, updates
        # waiting for the new run are delivered before `run` starts.
        self.state = state or InventoryState()
        self.updates = 0

    # --- helpers ----------------------------------------------------------------------

    async def _seeded(self) -> None:
        await workflow.wait_condition(lambda: self.state.seeded)
        if self.state.retired:  # the singleton after the move: the shards hold the stock now
            raise ApplicationError("inventory moved to the shard workflows", type=MOVED_TO_SHARDS,
                                   non_retryable=True)

    def _touch(self, sku: str) -> None:
        if sku not in self.state.dirty:
            self.state.dirty.append(sku)

    def _accepted(self) -> None:
        self.updates += 1

    def _stock(self, sku: str) -> SkuStock:
        stock = self.state.stock.get(sku)
        if stock is None:
            raise ApplicationError(f"unknown SKU {sku!r}", type=UNKNOWN_SKU, non_retryable=True)
        return stock

    def _owned(self, owner: str, status: ReservationStatus, skus: list[str] | None = None) -> list[Reservation]:
        return [r for r in self.state.reservations.values()
                if r.owner == owner and r.status == status and (skus is None or r.sku in skus)]

    def _drop(self, r: Reservation) -> None:
        self.state.reservations.pop(reservation_key(r.owner, r.sku), None)

    def _until_next_lapse(self) -> timedelta | None:
        """How long until the first temporary hold lapses; None when none can (nothing to sweep).
        A new hold marks its SKU dirty, which wakes the loop, so this is computed again."""
        due = [r.expires_at for r in self.state.reservations.values()
               if r.status == ReservationStatus.TEMPORARY and r.expires_at is not None]
        if not due:
            return None
        return max(timedelta(seconds=1), min(due) - workflow.now())

    def _expire_lapsed(self) -> None:
        now = workflow.now()
        for r in list(self.state.reservations.values()):
            if r.status == ReservationStatus.TEMPORARY and r.expires_at and r.expires_at <= now:
                self.state.stock[r.sku].reserved -= r.quantity
                self._drop(r)
                self._touch(r.sku)

    # --- updates ----------------------------------------------------------------------

    @workflow.update
    async def set_stock(self, request: SetStock) -> list[StockLevel]:
        await self._seeded()
        for sku, on_hand in request.on_hand.items():
            stock = self.state.stock.setdefault(sku, SkuStock())
            stock.on_hand = on_hand
            self._touch(sku)
        self._accepted()
        return [_level(sku, self.state.stock[sku]) for sku in request.on_hand]

    @set_stock.validator
    def _check_set_stock(self, request: SetStock) -> None:
        bad = [sku for sku, n in request.on_hand.items() if n < 0]
        if bad:
            raise ValueError(f"on-hand stock cannot be negative: {bad[:5]}")

    @workflow.update
    async def adjust_stock(self, request: AdjustStock) -> StockLevel:
        await self._seeded()
        stock = self.state.stock.setdefault(request.sku, SkuStock())
        if request.key and request.key in self.state.applied_keys:
            return _level(request.sku, stock)  # a retry of an adjustment already applied
        if stock.on_hand + request.delta < stock.reserved + stock.committed:
            raise ApplicationError(
                f"{request.sku}: cannot remove {-request.delta}; only {stock.available} are not held",
                type=INVALID_QUANTITY, non_retryable=True)
        stock.on_hand += request.delta
        if request.key:
            self.state.applied_keys = [*self.state.applied_keys[-(APPLIED_KEYS_KEPT - 1):], request.key]
        record = StockAdjustment(sku=request.sku, delta=request.delta, reason=request.reason, on_hand=stock.on_hand,
                                 at=workflow.now())
        self.state.adjustments = [*self.state.adjustments[-(ADJUSTMENTS_KEPT - 1):], record]
        self._touch(request.sku)
        self._accepted()
        return _level(request.sku, stock)

    @workflow.update
    async def hold(self, request: Hold) -> HoldResult:
        await self._seeded()
        self._expire_lapsed()
        stock = self._stock(request.sku)
        key = reservation_key(request.owner, request.sku)
        current = self.state.reservations.get(key)
        if current is not None and current.status != ReservationStatus.TEMPORARY:
            raise ApplicationError(f"{request.owner} already confirmed {request.sku}", type=INVALID_QUANTITY,
                                   non_retryable=True)
        mine = current.quantity if current else 0
        can = stock.available + mine
        held = request.quantity if request.quantity <= can else (mine if request.all_or_nothing else can)
        stock.reserved += held - mine
        if held:
            expires = workflow.now() + timedelta(seconds=request.ttl_seconds)
            self.state.reservations[key] = Reservation(owner=request.owner, sku=request.sku, quantity=held,
                                                       expires_at=expires)
        elif current:
            self._drop(current)
        if held != mine:
            self._touch(request.sku)
        self._accepted()
        return HoldResult(sku=request.sku, requested=request.quantity, held=held, available=stock.available)

    @hold.validator
    def _check_hold(self, request: Hold) -> None:
        if self.state.seeded and request.sku not in self.state.stock:
            raise ValueError(f"unknown SKU {request.sku!r}")

    @workflow.update
    async def release(self, request: OwnerRequest) -> OwnerResult:
        await self._seeded()
        released = {}
        for r in self._owned(request.owner, ReservationStatus.TEMPORARY):
            self.state.stock[r.sku].reserved -= r.quantity
            released[r.sku] = r.quantity
            self._drop(r)
            self._touch(r.sku)
        self._accepted()
        return OwnerResult(owner=request.owner, skus=released)

    @workflow.update
    async def renew(self, request: OwnerRequest) -> OwnerResult:
        await self._seeded()
        self._expire_lapsed()
        expires = workflow.now() + timedelta(seconds=request.ttl_seconds or 0)
        renewed = {}
        for r in self._owned(request.owner, ReservationStatus.TEMPORARY):
            r.expires_at = expires
            renewed[r.sku] = r.quantity
        self._accepted()
        return OwnerResult(owner=request.owner, skus=renewed)

    @renew.validator
    def _check_renew(self, request: OwnerRequest) -> None:
        if not request.ttl_seconds or request.ttl_seconds <= 0:
            raise ValueError("renew needs a positive ttl_seconds")

    @workflow.update
    async def transfer(self, request: Transfer) -> TransferResult:
        """All or nothing: the new owner holds every line, or nothing changes."""
        await self._seeded()
        self._expire_lapsed()
        mine = {r.sku: r for r in self._owned(request.from_owner, ReservationStatus.TEMPORARY)}
        if workflow.patched(IDEMPOTENT_TRANSFER_PATCH) and self._transferred(request, mine):
            self._accepted()
            # what the old owner held is gone from here: a retry reports the lines as its holds
            # (a cart holds exactly its lines), so the saga can still give them back
            again = [Reservation(owner=request.from_owner, sku=r.sku, quantity=r.quantity, expires_at=r.expires_at)
                     for sku in request.lines
                     if (r := self.state.reservations[reservation_key(request.to_owner, sku)]).status
                     == ReservationStatus.TEMPORARY]
            return TransferResult(ok=True, previous=again)
        short = {}
        for sku, quantity in request.lines.items():
            stock = self.state.stock.get(sku)
            can = (stock.available if stock else 0) + (mine[sku].quantity if sku in mine else 0)
            if quantity > can:
                short[sku] = quantity - can
        if short:
            return TransferResult(ok=False, short=short)
        expires = workflow.now() + timedelta(seconds=request.ttl_seconds)
        previous = [r.model_copy() for r in mine.values()]
        for r in mine.values():  # give back the old holds, then take the new ones
            self.state.stock[r.sku].reserved -= r.quantity
            self._drop(r)
            self._touch(r.sku)
        for sku, quantity in request.lines.items():
            self.state.stock[sku].reserved += quantity
            self.state.reservations[reservation_key(request.to_owner, sku)] = Reservation(
                owner=request.to_owner, sku=sku, quantity=quantity, expires_at=expires)
            self._touch(sku)
        self._accepted()
        return TransferResult(ok=True, previous=previous)

    @workflow.update
    async def revert_transfer(self, request: RevertTransfer) -> OwnerResult:
        """Compensation of the checkout saga: this shard's part of a transfer is undone because
        another shard came back short. Idempotent: sent again, it changes nothing more."""
        await self._seeded()
        for sku in request.lines:
            r = self.state.reservations.get(reservation_key(request.to_owner, sku))
            if r is not None and r.status == ReservationStatus.TEMPORARY:
                self.state.stock[sku].reserved -= r.quantity
                self._drop(r)
                self._touch(sku)
        restored = {}
        for p in request.previous:
            stock = self.state.stock.get(p.sku)
            if stock is None:
                continue
            key = reservation_key(request.from_owner, p.sku)
            current = self.state.reservations.get(key)
            if current is not None and current.status != ReservationStatus.TEMPORARY:
                continue
            mine = current.quantity if current else 0
            back = min(p.quantity, stock.available + mine)  # never more than is free: no oversell
            stock.reserved += back - mine
            if back:
                self.state.reservations[key] = Reservation(owner=request.from_owner, sku=p.sku, quantity=back,
                                                           expires_at=p.expires_at)
            elif current is not None:
                self._drop(current)
            restored[p.sku] = back
            self._touch(p.sku)
        self._accepted()
        return OwnerResult(owner=request.from_owner, skus=restored)

    @workflow.update
    async def hand_over(self, request: HandOver) -> InventoryState:
        """The singleton gives a shard its part of the state (the move to shards). From the first
        call on it takes no more changes; asked again by the same shard, it answers the same."""
        await workflow.wait_condition(lambda: self.state.seeded)
        self.state.retired = True
        self.state.handing_to = max(self.state.handing_to, request.shards)
        if request.shard not in self.state.handed_over:
            self.state.handed_over = sorted([*self.state.handed_over, request.shard])
        return self._part(request.shard, request.shards)

    @hand_over.validator
    def _check_hand_over(self, request: HandOver) -> None:
        if self.state.shard is not None:
            raise ValueError("only the singleton inventory-service hands over its state")
        if not 0 <= request.shard < request.shards:
            raise ValueError(f"no shard {request.shard} of {request.shards}")

    def _part(self, shard: int, shards: int) -> InventoryState:
        def ours(sku: str) -> bool:
            return shard_of(sku, shards) == shard
        s = self.state
        return InventoryState(
            stock={sku: v for sku, v in s.stock.items() if ours(sku)},
            reservations={k: r for k, r in s.reservations.items() if ours(r.sku)},
            dirty=[sku for sku in s.dirty if ours(sku)], seeded=True, settings=s.settings,
            applied_keys=list(s.applied_keys),  # a key does not name its SKU: every shard keeps them all
            adjustments=[a for a in s.adjustments if ours(a.sku)], shard=shard, shards=shards)

    def _handed_over_to_all(self) -> bool:
        return (self.state.retired and self.state.shards is None and bool(self.state.handed_over)
                and workflow.all_handlers_finished() and self._all_shards_took())

    def _all_shards_took(self) -> bool:
        # the shards say how many they are in their requests; the singleton keeps the largest seen
        return len(self.state.handed_over) >= self.state.handing_to

    @workflow.query
    def handed_part(self, request: HandOver) -> InventoryState | None:
        """A shard's part, read from the singleton after it ended (a shard's hand-off retried);
        None when it handed its state to a different number of shards."""
        if request.shards != self.state.handing_to or request.shard not in self.state.handed_over:
            return None
        return self._part(request.shard, request.shards)

    def _transferred(self, request: Transfer, mine: dict[str, Reservation]) -> bool:
        """The new owner already holds (or has confirmed) every line and the old one holds none
        of them: this transfer was done before."""
        if any(sku in mine for sku in request.lines):
            return False
        held = self.state.reservations
        return all((r := held.get(reservation_key(request.to_owner, sku))) is not None and r.quantity == quantity
                   for sku, quantity in request.lines.items())

    @transfer.validator
    def _check_transfer(self, request: Transfer) -> None:
        if any(q <= 0 for q in request.lines.values()):
            raise ValueError("every line needs a positive quantity")

    def _settle(self, owner: str, from_status: ReservationStatus, to_status: ReservationStatus,
                skus: list[str] | None = None) -> OwnerResult:
        moved = {}
        for r in self._owned(owner, from_status, skus):
            stock = self.state.stock[r.sku]
            if to_status == ReservationStatus.CONFIRMED:
                stock.reserved -= r.quantity
                stock.committed += r.quantity
                r.status, r.expires_at = to_status, None
            else:
                stock.committed -= r.quantity
                if to_status == ReservationStatus.FULFILLED:
                    stock.on_hand -= r.quantity
                self._drop(r)
            moved[r.sku] = r.quantity
            self._touch(r.sku)
        if not moved and not self._owned(owner, to_status, skus):
            raise ApplicationError(f"{owner} has no {from_status.value} reservations", type=NO_SUCH_RESERVATION,
                                   non_retryable=True)
        self._accepted()
        return OwnerResult(owner=owner, skus=moved)

    @workflow.update
    async def confirm(self, request: OwnerRequest) -> OwnerResult:
        """An order was placed: its holds become committed stock (idempotent)."""
        await self._seeded()
        self._expire_lapsed()
        return self._settle(request.owner, ReservationStatus.TEMPORARY, ReservationStatus.CONFIRMED)

    @workflow.update
    async def fulfil(self, request: OwnerRequest) -> OwnerResult:
        """Delivered: committed units leave on-hand stock."""
        await self._seeded()
        return self._settle(request.owner, ReservationStatus.CONFIRMED, ReservationStatus.FULFILLED, request.skus)

    @workflow.update
    async def cancel(self, request: OwnerRequest) -> OwnerResult:
        """A confirmed order was cancelled before shipping: its units are available again."""
        await self._seeded()
        return self._settle(request.owner, ReservationStatus.CONFIRMED, ReservationStatus.CANCELLED, request.skus)

    @workflow.update
    async def amend(self, request: AmendReservation) -> OwnerResult:
        """An order edited before shipping: its confirmed reservations grow by what the edit
        held and shrink by what it removed, all or nothing, once per key."""
        await self._seeded()
        self._expire_lapsed()
        if request.key in self.state.applied_keys:
            return OwnerResult(owner=request.owner, skus={})
        held = self.state.reservations
        for sku, n in request.add.items():
            r = held.get(reservation_key(request.from_owner, sku))
            if r is None or r.status != ReservationStatus.TEMPORARY or r.quantity < n:
                raise ApplicationError(f"{request.from_owner} holds no {n} of {sku} (the hold lapsed?)",
                                       type=NO_SUCH_RESERVATION, non_retryable=True)
        for sku, n in request.remove.items():
            r = held.get(reservation_key(request.owner, sku))
            if r is None or r.status != ReservationStatus.CONFIRMED or r.quantity < n:
                raise ApplicationError(f"{request.owner} has no {n} confirmed units of {sku}",
                                       type=NO_SUCH_RESERVATION, non_retryable=True)
        moved: dict[str, int] = {}
        for sku, n in request.add.items():
            hold = held[reservation_key(request.from_owner, sku)]
            stock = self.state.stock[sku]
            stock.reserved -= hold.quantity  # the whole hold goes: what it did not need is free again
            stock.committed += n
            self._drop(hold)
            mine = held.get(reservation_key(request.owner, sku))
            if mine is not None and mine.status == ReservationStatus.CONFIRMED:
                mine.quantity += n
            else:
                held[reservation_key(request.owner, sku)] = Reservation(
                    owner=request.owner, sku=sku, quantity=n, status=ReservationStatus.CONFIRMED)
            moved[sku] = n
            self._touch(sku)
        for sku, n in request.remove.items():
            mine = held[reservation_key(request.owner, sku)]
            self.state.stock[sku].committed -= n
            mine.quantity -= n
            if mine.quantity == 0:
                self._drop(mine)
            moved[sku] = moved.get(sku, 0) - n
            self._touch(sku)
        self.state.applied_keys = [*self.state.applied_keys[-(APPLIED_KEYS_KEPT - 1):], request.key]
        self._accepted()
        return OwnerResult(owner=request.owner, skus=moved)

    @amend.validator
    def _check_amend(self, request: AmendReservation) -> None:
        if any(n <= 0 for n in (*request.add.values(), *request.remove.values())):
            raise ValueError("every amended line needs a positive quantity")
        if set(request.add) & set(request.remove):
            raise ValueError("a SKU is either added or removed")

    # --- queries ----------------------------------------------------------------------

    @workflow.update
    async def read_levels(self, skus: list[str]) -> list[StockLevel]:
        """`levels` for a shard not started yet: the update starts it, and answers once it has
        seeded itself from the store (a query would find no workflow, or an empty one)."""
        await self._seeded()
        return self.levels(skus)

    @workflow.query
    def levels(self, skus: list[str]) -> list[StockLevel]:
        return [_level(sku, self.state.stock[sku]) for sku in skus if sku in self.state.stock]

    @workflow.query
    def reservations_of(self, owner: str) -> list[Reservation]:
        return [r for r in self.state.reservations.values() if r.owner == owner]

    @workflow.query
    def shard_info(self) -> InventoryState:
        """What this workflow is, without its stock (ops and tests): shard, shards, retired."""
        return self.state.model_copy(update={"stock": {}, "reservations": {}, "applied_keys": [], "adjustments": []})

    @workflow.query
    def has_applied(self, key: str) -> bool:
        """Whether a keyed change (an adjustment, an order edit) was applied here."""
        return key in self.state.applied_keys

    @workflow.query
    def all_reservations(self) -> list[Reservation]:
        return list(self.state.reservations.values())

    @workflow.query
    def recent_adjustments(self, sku: str | None = None) -> list[StockAdjustment]:
        """Newest first; one SKU's, or every SKU's when None."""
        return [a for a in reversed(self.state.adjustments) if sku is None or a.sku == sku]

    # --- run loop ---------------------------------------------------------------------

    async def _flush(self) -> None:
        skus, self.state.dirty = self.state.dirty, []
        levels = [_level(sku, self.state.stock[sku]) for sku in skus]
        await workflow.execute_activity_method(
            InventoryActivities.project_and_report_stock, levels, start_to_close_timeout=timedelta(minutes=2),
        )

    async def _seed_shard(self, shard: int, shards: int) -> None:
        """A shard's first run: its part of the singleton's state when the shop ran one (the move
        to shards), else the stock the catalog load wrote, read in pages of its SKUs only."""
        taken = await workflow.execute_activity_method(
            InventoryActivities.take_over_singleton, HandOver(shard=shard, shards=shards),
            start_to_close_timeout=timedelta(minutes=2))
        if taken is not None:
            self.state = taken.model_copy(update={"settings": self.state.settings, "shard": shard, "shards": shards,
                                                  "seeded": True, "retired": False, "handed_over": []})
            return
        cursor: str | None = None
        while True:
            page = await workflow.execute_activity_method(
                InventoryActivities.load_shard_stock, LoadStock(shard=shard, shards=shards, cursor=cursor),
                start_to_close_timeout=timedelta(minutes=5))
            for sku, on_hand in page.on_hand.items():
                self.state.stock.setdefault(sku, SkuStock(on_hand=on_hand))
            cursor = page.cursor
            if cursor is None:
                break
        self.state.seeded = True

    def _time_to_continue(self) -> bool:
        return self.updates >= self.state.settings.max_updates_per_run or workflow.info().is_continue_as_new_suggested()

    @workflow.run
    async def run(self, state: InventoryState | None = None) -> None:
        settings = self.state.settings
        if not self.state.seeded and self.state.shard is not None:
            await self._seed_shard(self.state.shard, self.state.shards or 1)
        elif not self.state.seeded:  # first run ever: start from the stock the catalog load wrote
            seed = await workflow.execute_activity_method(
                InventoryActivities.load_stock, start_to_close_timeout=timedelta(minutes=5))
            for sku, on_hand in seed.items():
                self.state.stock.setdefault(sku, SkuStock(on_hand=on_hand))
            self.state.seeded = True
        while True:
            sweep: timedelta | None = timedelta(seconds=settings.expiry_sweep_seconds)
            if workflow.patched(SWEEP_WHEN_DUE_PATCH):
                sweep = None if self.state.retired else self._until_next_lapse()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._handed_over_to_all() or (not self.state.retired and (
                        bool(self.state.dirty) or self._time_to_continue())),
                    timeout=sweep)
            if self._handed_over_to_all():
                return  # the singleton's state lives on in the shards
            if self.state.retired:
                # the shards own the stock now: no sweeping or projecting of this frozen copy, which
                # would write stale levels over the shards' projection
                continue
            self._expire_lapsed()
            if self.state.dirty:
                # let the rest of a burst arrive, then project it in one batch
                await workflow.sleep(timedelta(seconds=settings.flush_delay_seconds))
                await self._flush()
            if self._time_to_continue():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self.state.dirty:
                    await self._flush()
                workflow.continue_as_new(self.state)
