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
        DEFAULT_LOCATION,
        INSUFFICIENT_AT_LOCATION,
        INVALID_QUANTITY,
        LOCATION_IN_USE,
        LOCATION_INACTIVE,
        LOCATION_REQUIRED,
        MOVED_TO_SHARDS,
        NO_SUCH_RESERVATION,
        UNKNOWN_LOCATION,
        UNKNOWN_SKU,
        AdjustStock,
        Allocate,
        Allocation,
        AmendReservation,
        CountStock,
        HandOver,
        Hold,
        HoldResult,
        InventoryState,
        LoadStock,
        Location,
        LocationLevel,
        LocStock,
        MoveStock,
        Notice,
        OwnerRequest,
        OwnerResult,
        Reservation,
        ReservationStatus,
        RevertTransfer,
        SetLocations,
        SetPolicy,
        SetStock,
        SkuStock,
        StockAdjustment,
        StockAllocated,
        StockLevel,
        Transfer,
        TransferResult,
        reservation_key,
        with_default,
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


UNLIMITED = 10**9  # a preorder without a limit


def _waiting_by_sku(reservations: dict[str, Reservation], skus: set[str] | None = None) -> dict[str, int]:
    waiting: dict[str, int] = {}
    for r in reservations.values():
        if (r.allocated is not None and r.status == ReservationStatus.CONFIRMED and (skus is None or r.sku in skus)
                and (w := r.waiting)):
            waiting[r.sku] = waiting.get(r.sku, 0) + w
    return waiting


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

    # --- locations --------------------------------------------------------------------

    def _registry(self) -> dict[str, Location]:
        return {loc.id: loc for loc in with_default(self.state.locations)}

    def _active(self) -> list[str]:
        """Active location ids, by priority then id (the order fallbacks and waiting units take)."""
        return [loc.id for loc in sorted(self._registry().values(), key=lambda loc: (loc.priority, loc.id))
                if loc.active]

    def _is_active(self, location: str) -> bool:
        loc = self._registry().get(location)
        return loc is not None and loc.active

    def _resolve(self, location: str | None, active: bool = True) -> str:
        """The location a write names; None: the only active one (LocationRequired when there are more)."""
        registry = self._registry()
        if location is None:
            actives = [loc.id for loc in registry.values() if loc.active]
            if len(actives) != 1:
                raise ApplicationError(f"{len(actives)} active locations: name one", type=LOCATION_REQUIRED,
                                       non_retryable=True)
            return actives[0]
        if location not in registry:
            raise ApplicationError(f"unknown location {location!r}", type=UNKNOWN_LOCATION, non_retryable=True)
        if active and not registry[location].active:
            raise ApplicationError(f"location {location!r} is inactive", type=LOCATION_INACTIVE, non_retryable=True)
        return location

    def _plain_default(self, stock: SkuStock, location: str) -> bool:
        """A SKU wholly at an active default location with no policy: the path from before locations."""
        return location == DEFAULT_LOCATION and stock.plain and self._is_active(DEFAULT_LOCATION)

    def _at(self, stock: SkuStock, location: str) -> LocStock:
        """The SKU's units at a location, writing out the compact form's default first."""
        if not stock.at:
            stock.at = {DEFAULT_LOCATION: LocStock(on_hand=stock.on_hand)}
        return stock.at.setdefault(location, LocStock())

    @staticmethod
    def _peek(stock: SkuStock, location: str) -> LocStock:
        """The SKU's units at a location, without writing anything (checks before a change)."""
        if not stock.at:
            return LocStock(on_hand=stock.on_hand) if location == DEFAULT_LOCATION else LocStock()
        return stock.at.get(location) or LocStock()

    def _normalize(self, stock: SkuStock) -> None:
        """On hand is the sum over active locations; a SKU only at the default location with
        nothing allocated goes back to the compact form."""
        if not stock.at:
            return
        for loc, v in list(stock.at.items()):
            if v.on_hand == 0 and v.committed == 0:  # nothing there: not written
                del stock.at[loc]
        stock.on_hand = sum(v.on_hand for loc, v in stock.at.items() if self._is_active(loc))
        only = stock.at.get(DEFAULT_LOCATION)
        if (set(stock.at) == {DEFAULT_LOCATION} and only is not None and only.committed == 0
                and self._is_active(DEFAULT_LOCATION)):
            stock.at = {}

    def _free(self, stock: SkuStock, location: str) -> int:
        """Units an allocation may still take at a location (on hand there, not allocated)."""
        if not self._is_active(location):
            return 0
        if not stock.at:
            return stock.on_hand if location == DEFAULT_LOCATION else 0
        v = stock.at.get(location)
        return v.on_hand - v.committed if v else 0

    def _spare(self, stock: SkuStock) -> int:
        """Units allocations may still take over all locations: the free ones less those owed to
        confirmed units never routed (they are shipped from the free units as before locations)."""
        free = sum(self._free(stock, loc) for loc in self._active())
        return free - (stock.committed - stock.routed)

    def _allowance(self, stock: SkuStock) -> int:
        """How far below zero the SKU may sell: its backorder limit, or during a preorder the
        limit (none when 0)."""
        if stock.preorder_until is not None:
            if workflow.now() < stock.preorder_until:
                return stock.backorder_limit or UNLIMITED
            return 0
        return stock.backorder_limit

    def _level(self, sku: str, s: SkuStock, waiting: dict[str, int] | None = None) -> StockLevel:
        if waiting is None:
            waiting = _waiting_by_sku(self.state.reservations, {sku}) if self.state.placements else {}
        registry = self._registry()
        if not s.at:
            locations = [LocationLevel(location=DEFAULT_LOCATION, on_hand=s.on_hand, committed=0, available=s.on_hand,
                                       active=self._is_active(DEFAULT_LOCATION))]
        else:
            order = {loc: i for i, loc in enumerate(self._active())}
            locations = [LocationLevel(location=loc, on_hand=v.on_hand, committed=v.committed,
                                       available=v.on_hand - v.committed,
                                       active=loc in registry and registry[loc].active)
                         for loc, v in sorted(s.at.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
        return StockLevel(sku=sku, on_hand=s.on_hand, reserved=s.reserved, committed=s.committed,
                          available=s.available, locations=locations, backorder_limit=s.backorder_limit,
                          preorder_until=s.preorder_until, waiting=waiting.get(sku, 0))

    def _record(self, sku: str, delta: int, reason: str, on_hand: int, location: str | None = None,
                actor: str | None = None) -> None:
        record = StockAdjustment(sku=sku, delta=delta, reason=reason, on_hand=on_hand, at=workflow.now(),
                                 location=location, actor=actor or None)
        self.state.adjustments = [*self.state.adjustments[-(ADJUSTMENTS_KEPT - 1):], record]

    def _remember(self, key: str | None) -> None:
        if key:
            self.state.applied_keys = [*self.state.applied_keys[-(APPLIED_KEYS_KEPT - 1):], key]

    def _allocate_waiting(self, skus: set[str]) -> None:
        """Stock arrived (or was given back): units waiting for it are allocated, first placed
        first served, and each owner's `notify` workflow is told (the run loop sends the signals)."""
        if not self.state.placements:  # nothing was ever confirmed here: nothing can wait
            return
        queue = sorted((r for r in self.state.reservations.values()
                        if r.sku in skus and r.status == ReservationStatus.CONFIRMED and r.waiting > 0),
                       key=lambda r: (r.placed if r.placed is not None else -1, r.owner))
        active = self._active()
        for r in queue:
            stock = self.state.stock[r.sku]
            got: dict[str, int] = {}
            for loc in active:
                take = min(r.waiting, self._free(stock, loc), self._spare(stock))
                if take <= 0:
                    continue
                self._at(stock, loc).committed += take
                assert r.allocated is not None
                r.allocated[loc] = r.allocated.get(loc, 0) + take
                got[loc] = take
            if got:
                self._normalize(stock)
                self._touch(r.sku)
                if r.notify:
                    self.state.outbox.append(Notice(notify=r.notify, payload=StockAllocated(
                        owner=r.owner, allocated={r.sku: got})))

    # --- updates ----------------------------------------------------------------------

    @workflow.update
    async def set_stock(self, request: SetStock) -> list[StockLevel]:
        await self._seeded()
        location = self._resolve(request.location)
        for sku, on_hand in request.on_hand.items():
            stock = self.state.stock.get(sku)
            if stock is not None and not self._plain_default(stock, location):
                committed = self._peek(stock, location).committed
                if on_hand < committed:
                    raise ApplicationError(f"{sku}: {committed} units at {location} are allocated; cannot set "
                                           f"{on_hand}", type=INSUFFICIENT_AT_LOCATION, non_retryable=True)
        for sku, on_hand in request.on_hand.items():
            stock = self.state.stock.setdefault(sku, SkuStock())
            if self._plain_default(stock, location):
                stock.on_hand = on_hand
            else:
                self._at(stock, location).on_hand = on_hand
                self._normalize(stock)
            self._touch(sku)
        self._allocate_waiting(set(request.on_hand))
        self._accepted()
        return [self._level(sku, self.state.stock[sku]) for sku in request.on_hand]

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
            return self._level(request.sku, stock)  # a retry of an adjustment already applied
        location = self._resolve(request.location)
        if self._plain_default(stock, location):  # as before locations
            if stock.on_hand + request.delta < stock.reserved + stock.committed:
                raise ApplicationError(
                    f"{request.sku}: cannot remove {-request.delta}; only {stock.available} are not held",
                    type=INVALID_QUANTITY, non_retryable=True)
            stock.on_hand += request.delta
            on_hand = stock.on_hand
        else:
            there = self._peek(stock, location)
            if request.delta < 0 and there.on_hand + request.delta < there.committed:
                raise ApplicationError(
                    f"{request.sku}: cannot remove {-request.delta} at {location}; only "
                    f"{there.on_hand - there.committed} there are not allocated",
                    type=INSUFFICIENT_AT_LOCATION, non_retryable=True)
            if request.delta < 0 and stock.on_hand + request.delta < stock.reserved + stock.committed:
                raise ApplicationError(
                    f"{request.sku}: cannot remove {-request.delta}; only {stock.available} are not held",
                    type=INVALID_QUANTITY, non_retryable=True)
            at = self._at(stock, location)
            at.on_hand += request.delta
            on_hand = at.on_hand
            self._normalize(stock)
        self._remember(request.key)
        self._record(request.sku, request.delta, request.reason, on_hand,
                     location if request.location is not None or self.state.locations else None, request.actor)
        self._touch(request.sku)
        if request.delta > 0:
            self._allocate_waiting({request.sku})
        self._accepted()
        return self._level(request.sku, stock)

    @workflow.update
    async def move_stock(self, request: MoveStock) -> list[LocationLevel]:
        """Units go from one location to another (a transfer between warehouses), once per key."""
        await self._seeded()
        stock = self._stock(request.sku)
        if request.key in self.state.applied_keys:
            return self._location_levels(stock, [request.from_location, request.to_location])
        source = self._resolve(request.from_location, active=False)  # an inactive location may be emptied
        target = self._resolve(request.to_location)
        if source == target:
            raise ApplicationError("a move needs two different locations", type=INVALID_QUANTITY,
                                   non_retryable=True)
        there = self._peek(stock, source)
        if there.on_hand - there.committed < request.quantity:
            raise ApplicationError(f"{request.sku}: only {there.on_hand - there.committed} units at {source} are "
                                   "not allocated", type=INSUFFICIENT_AT_LOCATION, non_retryable=True)
        at = self._at(stock, source)
        at.on_hand -= request.quantity
        to = self._at(stock, target)
        to.on_hand += request.quantity
        self._record(request.sku, -request.quantity, f"move to {target}", at.on_hand, source, request.actor)
        self._record(request.sku, request.quantity, f"move from {source}", to.on_hand, target, request.actor)
        self._normalize(stock)
        self._remember(request.key)
        self._touch(request.sku)
        self._allocate_waiting({request.sku})
        self._accepted()
        return self._location_levels(stock, [source, target])

    @workflow.update
    async def count_stock(self, request: CountStock) -> StockLevel:
        """A count: on hand at the location becomes what was counted, recorded as an adjustment
        ("count") with the difference; once per key."""
        await self._seeded()
        stock = self._stock(request.sku)
        if request.key in self.state.applied_keys:
            return self._level(request.sku, stock)
        location = self._resolve(request.location, active=False)
        committed = self._peek(stock, location).committed
        if request.counted < committed:
            raise ApplicationError(f"{request.sku}: {committed} units at {location} are allocated to orders; "
                                   f"a count of {request.counted} needs them moved or cancelled first",
                                   type=INSUFFICIENT_AT_LOCATION, non_retryable=True)
        at = self._at(stock, location)
        delta = request.counted - at.on_hand
        at.on_hand = request.counted
        self._record(request.sku, delta, "count", at.on_hand, location, request.actor)
        self._normalize(stock)
        self._remember(request.key)
        self._touch(request.sku)
        if delta > 0:
            self._allocate_waiting({request.sku})
        self._accepted()
        return self._level(request.sku, stock)

    @workflow.update
    async def set_policy(self, request: SetPolicy) -> StockLevel:
        """Backorders (sell down to -limit) and preorders (sell below zero until a date)."""
        await self._seeded()
        stock = self._stock(request.sku)
        changed = (stock.backorder_limit, stock.preorder_until) != (request.backorder_limit, request.preorder_until)
        stock.backorder_limit = request.backorder_limit
        stock.preorder_until = request.preorder_until
        if changed:  # setting the same policy again (a double submit) records nothing more
            until = request.preorder_until.date().isoformat() if request.preorder_until else "none"
            self._record(request.sku, 0, f"policy: backorder limit {request.backorder_limit}, preorder until {until}",
                         stock.on_hand, actor=request.actor)
        self._touch(request.sku)
        self._accepted()
        return self._level(request.sku, stock)

    @workflow.update
    async def set_locations(self, request: SetLocations) -> int:
        """The shop's location registry (every shard gets the same list). Deactivating a location
        that still has allocated units here is refused and changes nothing."""
        await self._seeded()
        before = set(self._active())
        new = {loc.id: loc for loc in with_default(request.locations)}
        after = {loc_id for loc_id, loc in new.items() if loc.active}
        gone = before - after
        for sku, stock in self.state.stock.items():
            for loc in gone:
                v = stock.at.get(loc)
                if v is not None and v.committed > 0:
                    raise ApplicationError(f"{loc} has {v.committed} allocated units of {sku}", type=LOCATION_IN_USE,
                                           non_retryable=True)
        if DEFAULT_LOCATION in gone:  # the compact form says "at the default location": write it out
            for stock in self.state.stock.values():
                if not stock.at and stock.on_hand:
                    stock.at = {DEFAULT_LOCATION: LocStock(on_hand=stock.on_hand)}
        self.state.locations = sorted(new.values(), key=lambda loc: loc.id)
        changed = set()
        for sku, stock in self.state.stock.items():
            if stock.at:
                was = stock.on_hand
                self._normalize(stock)
                if stock.on_hand != was:
                    changed.add(sku)
                    self._touch(sku)
        if after - before:
            self._allocate_waiting(changed)
        self._accepted()
        return len(changed)

    def _location_levels(self, stock: SkuStock, locations: list[str]) -> list[LocationLevel]:
        out = []
        for loc in locations:
            if not stock.at:
                on_hand = stock.on_hand if loc == DEFAULT_LOCATION else 0
                committed = 0
            else:
                v = stock.at.get(loc, LocStock())
                on_hand, committed = v.on_hand, v.committed
            out.append(LocationLevel(location=loc, on_hand=on_hand, committed=committed, available=on_hand - committed,
                                     active=self._is_active(loc)))
        return out

    @workflow.update
    async def allocate(self, request: Allocate) -> Allocation:
        """Route an owner's confirmed units to locations: the plan's locations as far as they still
        have free units, then the others by priority (another order took them meanwhile); the rest
        waits for stock (first placed, first served). Sent again, it answers what was allocated."""
        await self._seeded()
        owned = {}
        for sku in request.plan:
            r = self.state.reservations.get(reservation_key(request.owner, sku))
            if r is None or r.status != ReservationStatus.CONFIRMED:
                raise ApplicationError(f"{request.owner} has no confirmed units of {sku}", type=NO_SUCH_RESERVATION,
                                       non_retryable=True)
            owned[sku] = r
        result = Allocation(owner=request.owner)
        active = self._active()
        for sku, r in owned.items():
            if r.allocated is None:
                stock = self.state.stock[sku]
                stock.routed += r.quantity
                got: dict[str, int] = {}
                rest = r.quantity
                # the plan first, then (a race: another order took them) the others by priority
                for loc, want in [*request.plan[sku].items(), *((loc, rest) for loc in active)]:
                    take = min(want, rest, self._free(stock, loc), self._spare(stock))
                    if take > 0:
                        self._at(stock, loc).committed += take
                        got[loc] = got.get(loc, 0) + take
                        rest -= take
                r.allocated, r.notify = got, request.notify
                if r.placed is None:
                    r.placed = self.state.placements
                    self.state.placements += 1
                self._normalize(stock)
                self._touch(sku)
            if r.allocated:
                result.allocated[sku] = dict(r.allocated)
            if r.waiting:
                result.waiting[sku] = r.waiting
        self._accepted()
        return result

    @allocate.validator
    def _check_allocate(self, request: Allocate) -> None:
        if any(n < 0 for plan in request.plan.values() for n in plan.values()):
            raise ValueError("an allocation plan cannot have negative units")

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
        free = stock.available + mine
        can = free + self._allowance(stock) if not stock.plain else free
        held = request.quantity if request.quantity <= can else (mine if request.all_or_nothing else max(can, 0))
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
        return HoldResult(sku=request.sku, requested=request.quantity, held=held, available=stock.available,
                          backordered=max(0, held - max(free, 0)))

    @hold.validator
    def _check_hold(self, request: Hold) -> None:
        if self.state.seeded and request.sku not in self.state.stock:
            # typed, so the client answers UnknownSku rather than an unexpected error (a rejected
            # update leaves no event in the history: replay is unaffected)
            raise ApplicationError(f"unknown SKU {request.sku!r}", type=UNKNOWN_SKU, non_retryable=True)

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
            can = ((stock.available + (0 if stock.plain else self._allowance(stock))) if stock else 0) + (
                mine[sku].quantity if sku in mine else 0)
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
            allowance = 0 if stock.plain else self._allowance(stock)
            back = min(p.quantity, stock.available + allowance + mine)  # never more than is free: no oversell
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
            adjustments=[a for a in s.adjustments if ours(a.sku)], shard=shard, shards=shards,
            locations=list(s.locations), placements=s.placements,  # saved while the singleton still ran
            outbox=[n for n in s.outbox if any(ours(sku) for sku in n.payload.allocated)])

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
                skus: list[str] | None = None, location: str | None = None, waiting_only: bool = False) -> OwnerResult:
        moved = {}
        freed: set[str] = set()
        for r in self._owned(owner, from_status, skus):
            stock = self.state.stock[r.sku]
            if to_status == ReservationStatus.CONFIRMED:
                stock.reserved -= r.quantity
                stock.committed += r.quantity
                r.status, r.expires_at = to_status, None
                r.placed = self.state.placements  # first placed, first served when units wait for stock
                self.state.placements += 1
            elif r.allocated is not None:  # routed: settled per location
                settled = self._settle_allocated(r, stock, to_status, location, waiting_only)
                if not settled:
                    continue
                moved[r.sku] = settled
                self._touch(r.sku)
                freed.add(r.sku)
                continue
            elif waiting_only:  # never routed: nothing of it waits
                continue
            else:
                stock.committed -= r.quantity
                if to_status == ReservationStatus.FULFILLED:
                    if stock.at:
                        self._take_unallocated(stock, r.quantity, location)
                    else:
                        stock.on_hand -= r.quantity
                self._drop(r)
            moved[r.sku] = r.quantity
            self._touch(r.sku)
        if to_status == ReservationStatus.CANCELLED and freed:
            self._allocate_waiting(freed)
        if not moved and not self._owned(owner, to_status, skus):
            raise ApplicationError(f"{owner} has no {from_status.value} reservations", type=NO_SUCH_RESERVATION,
                                   non_retryable=True)
        self._accepted()
        return OwnerResult(owner=owner, skus=moved)

    def _settle_allocated(self, r: Reservation, stock: SkuStock, to_status: ReservationStatus,
                          location: str | None, waiting_only: bool = False) -> int:
        """A routed reservation shipped (or cancelled) at one location, or everywhere: its units
        there leave that location (fulfilled) or are free there again (cancelled). Units still
        waiting for stock are cancelled with the whole order, and never shipped."""
        assert r.allocated is not None
        waiting = r.waiting
        if waiting_only:
            parts = {}
        elif location is None:
            parts = dict(r.allocated)
        else:
            parts = {location: r.allocated[location]} if r.allocated.get(location) else {}
        for loc, n in parts.items():
            at = self._at(stock, loc)
            at.committed -= n
            if to_status == ReservationStatus.FULFILLED:
                at.on_hand -= min(n, at.on_hand)  # never below zero (a count may have found fewer)
            del r.allocated[loc]
        settled = sum(parts.values())
        if to_status == ReservationStatus.CANCELLED and location is None:
            settled += waiting  # the whole order, or (waiting_only) just what waits
        stock.committed -= settled
        stock.routed -= settled
        r.quantity -= settled
        self._normalize(stock)
        if r.quantity <= 0:
            self._drop(r)
        return settled

    def _take_unallocated(self, stock: SkuStock, quantity: int, prefer: str | None) -> None:
        """Units shipped that were never routed (placed before the shop had locations): taken
        from the named location, then by priority from free units, then from any on hand; a
        location never goes below zero."""
        order = [*([prefer] if prefer else []), *self._active()]
        rest = quantity
        for free_only in (True, False):
            for loc in order:
                v = stock.at.get(loc)
                if v is None or rest <= 0:
                    continue
                take = min(rest, v.on_hand - v.committed if free_only else v.on_hand)
                if take > 0:
                    v.on_hand -= take
                    rest -= take
        self._normalize(stock)

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
        return self._settle(request.owner, ReservationStatus.CONFIRMED, ReservationStatus.FULFILLED, request.skus,
                            request.location)

    @workflow.update
    async def cancel(self, request: OwnerRequest) -> OwnerResult:
        """A confirmed order was cancelled before shipping: its units are available again."""
        await self._seeded()
        return self._settle(request.owner, ReservationStatus.CONFIRMED, ReservationStatus.CANCELLED, request.skus,
                            request.location, request.waiting_only)

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
                mine.quantity += n  # routed: the added units wait for an allocation (just below)
                if mine.allocated is not None:
                    stock.routed += n
            else:
                held[reservation_key(request.owner, sku)] = Reservation(
                    owner=request.owner, sku=sku, quantity=n, status=ReservationStatus.CONFIRMED,
                    placed=self.state.placements)
                self.state.placements += 1
            moved[sku] = n
            self._touch(sku)
        for sku, n in request.remove.items():
            mine = held[reservation_key(request.owner, sku)]
            stock = self.state.stock[sku]
            stock.committed -= n
            if mine.allocated is not None:  # waiting units go first, then the last location's
                stock.routed -= n
                rest = n - min(n, mine.waiting)
                for loc in reversed([*self._active(), *sorted(set(mine.allocated) - set(self._active()))]):
                    take = min(rest, mine.allocated.get(loc, 0))
                    if take > 0:
                        self._at(stock, loc).committed -= take
                        mine.allocated[loc] -= take
                        if not mine.allocated[loc]:
                            del mine.allocated[loc]
                        rest -= take
                self._normalize(stock)
            mine.quantity -= n
            if mine.quantity == 0:
                self._drop(mine)
            moved[sku] = moved.get(sku, 0) - n
            self._touch(sku)
        if request.add or request.remove:
            self._allocate_waiting(set(request.add) | set(request.remove))
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
        waiting = _waiting_by_sku(self.state.reservations, set(skus)) if self.state.placements else {}
        return [self._level(sku, self.state.stock[sku], waiting) for sku in skus if sku in self.state.stock]

    @workflow.query
    def location_registry(self) -> list[Location]:
        """The locations this shard routes with (the default one included)."""
        return sorted(self._registry().values(), key=lambda loc: (loc.priority, loc.id))

    @workflow.query
    def location_in_use(self, location: str) -> bool:
        """Whether any SKU here has units allocated at the location (not yet shipped)."""
        return any((v := s.at.get(location)) is not None and v.committed > 0 for s in self.state.stock.values())

    @workflow.query
    def reservations_of(self, owner: str) -> list[Reservation]:
        return [r for r in self.state.reservations.values() if r.owner == owner]

    @workflow.query
    def shard_info(self) -> InventoryState:
        """What this workflow is, without its stock (ops and tests): shard, shards, retired."""
        return self.state.model_copy(update={"stock": {}, "reservations": {}, "applied_keys": [], "adjustments": [],
                                             "outbox": []})

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
        waiting = _waiting_by_sku(self.state.reservations, set(skus)) if self.state.placements else {}
        levels = [self._level(sku, self.state.stock[sku], waiting) for sku in skus]
        await workflow.execute_activity_method(
            InventoryActivities.project_and_report_stock, levels, start_to_close_timeout=timedelta(minutes=2),
        )

    async def _send_notices(self) -> None:
        """`stock_allocated` to each waiting owner's `notify` workflow, in the order the units
        were allocated (first placed, first served)."""
        sent = list(self.state.outbox)
        await workflow.execute_activity_method(
            InventoryActivities.notify_allocated, sent, start_to_close_timeout=timedelta(minutes=1))
        self.state.outbox = self.state.outbox[len(sent):]

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
            if page.locations:  # the registry as saved (pushed later with `set_locations`)
                self.state.locations = page.locations
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
                        bool(self.state.dirty) or bool(self.state.outbox) or self._time_to_continue())),
                    timeout=sweep)
            if self._handed_over_to_all():
                return  # the singleton's state lives on in the shards
            if self.state.retired:
                # the shards own the stock now: no sweeping or projecting of this frozen copy, which
                # would write stale levels over the shards' projection
                continue
            self._expire_lapsed()
            if self.state.outbox:  # only after waiting units were allocated (none before locations)
                await self._send_notices()
            if self.state.dirty:
                # let the rest of a burst arrive, then project it in one batch
                await workflow.sleep(timedelta(seconds=settings.flush_delay_seconds))
                await self._flush()
            if self._time_to_continue():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self.state.dirty:
                    await self._flush()
                workflow.continue_as_new(self.state)
