"""The cart entity workflow.

One per cart, created by the first add-to-cart (update-with-start). Every change is an
update that validates, holds stock through the inventory service, and returns the whole
cart with a version that rises once per accepted change. Mutations run one at a time
(an asyncio lock, since a handler awaits activities), so concurrent updates can neither
be lost nor applied twice. The run loop renews holds while the shopper is active,
abandons an idle cart (a signed-in shopper's then enrolls in the shop's abandoned-cart
cadence, if one is active), and continues as new (after all handlers finish) with its state.

Over 400 lines because it is one workflow class: its handlers share the lock and the state,
and splitting a class across modules would hide that.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domains.cart.messages import (
        CART_CLOSED,
        CART_EMPTY,
        INSUFFICIENT_STOCK,
        MAX_QUANTITY,
        MERGED_KEPT,
        NOT_FOUND,
        UNKNOWN_CART,
        UNKNOWN_LINE,
        UNKNOWN_VARIANT,
        AddItem,
        ApplyCoupon,
        AttachShopper,
        CarriedTerms,
        CartLine,
        CartState,
        ChangeQuantity,
        MergeLines,
        RemoveLine,
        ample_stock,
        cut_notice,
        only_left,
    )
    from domains.checkout.messages import CheckoutEnded, CheckoutOutcome
    from domains.shared import CartStatus, CartView
    from infra.activity_options import ActivityOptions, LocalActivityOptions

    from ..checkout.ids import checkout_workflow_id
    from ..checkout.messages import CartChanged, CheckoutInput, CheckoutSettings
    from ..checkout.queue import TASK_QUEUE as CHECKOUT_QUEUE
    from ..checkout.signals import CHECKOUT_ENDED
    from ..checkout.workflows import CheckoutWorkflow
    from .activities import CartActivities, CartEvent, HoldInput, RenewInput, TransferInput
    from .ids import cart_owner
    from .pricing import cart_view

_READ = LocalActivityOptions(start_to_close_timeout=timedelta(seconds=30),
                             retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=5), maximum_attempts=10))
_STOCK = LocalActivityOptions(start_to_close_timeout=timedelta(seconds=60),
                              retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)))
# A hold that follows an add: one inventory update, so a worker lost mid-attempt is retried
# within seconds (the line shows held sooner) rather than after _STOCK's minute.
_FOLLOWING_HOLD = ActivityOptions(start_to_close_timeout=timedelta(seconds=10),
                                  retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)))
CHECKOUT_HOLD_SECONDS = 3600
SHOP_TERMS_PATCH = "shop-terms"  # carts read the shop's settings (identity); older histories do not
ABANDONED_CART_PATCH = "abandoned-cart-cadence"  # an abandoned cart enrolls its shopper; older histories do not
# An add takes the variant and the shop's terms the web layer read and carried in the update
# (no local activity for either), and an existing line takes the variant's current price and
# name; older histories read both through local activities and kept a line's first price.
CARRIED_ADD_PATCH = "cart-carried-add"
# An add the stock seen covers with room to spare answers before its hold, which follows from
# the run loop (see AMPLE_STOCK_MARGIN); older histories hold every add before answering.
DEFERRED_HOLD_PATCH = "cart-deferred-hold"
# A reminder is worth a few retries while Temporal is out of reach, never a stuck or failed cart.
_TRIGGER = ActivityOptions(start_to_close_timeout=timedelta(seconds=30),
                           schedule_to_close_timeout=timedelta(minutes=30),
                           retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)))


@workflow.defn
class CartWorkflow:
    @workflow.init
    def __init__(self, state: CartState) -> None:
        self.state = state
        self.lock = asyncio.Lock()
        self.accepted = 0  # updates accepted by this run
        self.rehold = False
        self.shop_settings_read = False  # read at the first add of a run and again at each checkout
        self.holding: set[str] = set()  # blank SKUs with a hold on its way to the inventory
        self.settle_lock = asyncio.Lock()  # one pass over the pending holds at a time

    # --- queries ----------------------------------------------------------------------

    @workflow.query
    def cart(self) -> CartView:
        return cart_view(self.state)

    # --- helpers ----------------------------------------------------------------------

    @property
    def _owner(self) -> str:
        return self.state.hold_owner or cart_owner(self.state.cart_id)

    def _ended(self) -> bool:
        return self.state.status in (CartStatus.COMPLETED, CartStatus.ABANDONED)

    def _check_open(self) -> None:
        if self._ended():
            raise ApplicationError(f"this cart is {self.state.status.value}", type=CART_CLOSED, non_retryable=True)

    def _check_requester(self, request: AddItem) -> None:
        """A cart a shopper owns answers anyone else's add as an unknown cart would (the web
        layer names the requester; callers that do not are not checked)."""
        owner = self.state.shopper_id
        if request.requester is not None and owner is not None and request.requester.shopper_id != owner:
            raise ApplicationError(UNKNOWN_CART, type=NOT_FOUND, non_retryable=True)

    def _line(self, line_id: str) -> CartLine:
        for line in self.state.lines:
            if line.id == line_id:
                return line
        raise ApplicationError(f"no line {line_id!r} in this cart", type=UNKNOWN_LINE, non_retryable=True)

    async def _changed(self) -> CartView:
        self.state.notice = None  # the shopper has moved on since the cart last changed on its own
        self.state.version += 1
        self.state.last_change = workflow.now()
        self.accepted += 1
        view = cart_view(self.state)
        if self.state.status == CartStatus.CHECKING_OUT and self.state.checkout_id:
            # the checkout's review step shows that the cart moved on
            await workflow.get_external_workflow_handle(self.state.checkout_id).signal(
                CheckoutWorkflow.cart_changed, CartChanged(cart=view))
        return view

    async def _set_quantity(self, line: CartLine, quantity: int) -> None:
        """Holds the line's blank SKU for every line sharing it, then sets the quantity."""
        sku = line.variant.blank_sku
        if sku in self.holding:  # a hold that followed an earlier add is on its way: this one goes after it
            await workflow.wait_condition(lambda: sku not in self.holding)
        others = sum(li.quantity for li in self.state.lines if li.variant.blank_sku == sku and li is not line)
        self.holding.add(sku)
        try:
            result = await workflow.execute_local_activity_method(
                CartActivities.hold_stock,
                HoldInput(owner=self._owner, sku=sku, quantity=others + quantity,
                          ttl_seconds=self.state.settings.hold_ttl_seconds),
                **_STOCK)
        finally:
            self.holding.discard(sku)
        if not result.complete:
            left = max(result.held + result.available - others, 0)  # what this line could have
            raise ApplicationError(only_left(line.variant.product_name, left), {"available": left},
                                   type=INSUFFICIENT_STOCK, non_retryable=True)
        self.state.holds_renewed_at = workflow.now()
        if sku in self.state.pending_holds:  # this hold covers the lines added before it too
            self.state.pending_holds.remove(sku)
        if quantity:
            line.quantity = quantity
        else:
            self.state.lines.remove(line)

    def _units(self, sku: str) -> int:
        return sum(li.quantity for li in self.state.lines if li.variant.blank_sku == sku)

    def _defers_hold(self, request: AddItem) -> bool:
        """The stock the web layer saw covers this add with room to spare: answer first, hold next."""
        return ample_stock(request.stock_seen, request.quantity) and workflow.patched(DEFERRED_HOLD_PATCH)

    async def _settle_holds(self) -> None:
        """Holds the SKUs of lines added on ample stock, oldest first. When the inventory holds
        fewer units than the lines have (others held them since the stock row was read), the
        lines are cut to what is held, newest first, and the cart says so (`notice`)."""
        if not self.state.pending_holds:
            return
        async with self.settle_lock:
            while self.state.pending_holds:
                sku = self.state.pending_holds[0]
                if sku in self.holding:  # a change of this SKU holds it right now: see what it left
                    await workflow.wait_condition(lambda: sku not in self.holding)  # noqa: B023
                    continue
                quantity = self._units(sku)
                self.holding.add(sku)
                try:
                    held = (await workflow.execute_activity_method(
                        CartActivities.hold_stock,
                        HoldInput(owner=self._owner, sku=sku, quantity=quantity,
                                  ttl_seconds=self.state.settings.hold_ttl_seconds, all_or_nothing=False),
                        **_FOLLOWING_HOLD)).held
                except ActivityError as exc:  # the inventory refused the hold itself: nothing is held
                    workflow.logger.warning("cart %s: no hold for %s: %s", self.state.cart_id, sku, exc.cause or exc)
                    held = 0
                finally:
                    self.holding.discard(sku)
                if sku not in self.state.pending_holds or self._units(sku) != quantity:
                    continue  # settled by a change meanwhile, or more was added: hold the new total
                self.state.pending_holds.remove(sku)
                self.state.holds_renewed_at = workflow.now()
                if held < quantity:
                    self._cut(sku, held)

    def _cut(self, sku: str, keep: int) -> None:
        """The lines of `sku` down to `keep` units, newest first (the inventory holds no more)."""
        over = self._units(sku) - keep
        name = next(li.variant.product_name for li in self.state.lines if li.variant.blank_sku == sku)
        for line in reversed([li for li in self.state.lines if li.variant.blank_sku == sku]):
            take = min(over, line.quantity)
            line.quantity -= take
            over -= take
            if line.quantity == 0:
                self.state.lines.remove(line)
        self.state.notice = cut_notice(name, keep)
        self.state.version += 1
        self.state.last_change = workflow.now()

    async def _read_shop_settings(self, carried: CarriedTerms | None = None) -> None:
        """Staff's reservation and checkout timeouts replace the ones the cart started with;
        the shop's currency applies to a cart that has no lines yet. Carts that were running
        before shop settings existed (no marker in their history) carry on without them.
        Terms the web layer carried in the add are taken as they are (no activity)."""
        if self.shop_settings_read or not workflow.patched(SHOP_TERMS_PATCH):
            return
        if carried is not None:
            terms = carried.terms
        else:
            terms = await workflow.execute_local_activity_method(CartActivities.shop_terms, **_READ)
        self.shop_settings_read = True
        if terms is not None:
            self.state.settings = self.state.settings.model_copy(update={
                "hold_ttl_seconds": terms.hold_ttl_seconds,
                "checkout_inactivity_seconds": terms.checkout_inactivity_seconds})
            if not self.state.lines:
                self.state.currency = terms.currency

    def _takes_hold(self, request: AddItem, line: CartLine, quantity: int) -> bool:
        """The hold the web layer placed before starting this cart is the one this add needs
        (the cart's owner, the line's SKU, its whole quantity, and nothing else of the SKU here)."""
        hold, sku = request.hold, line.variant.blank_sku
        return (hold is not None and line.quantity == 0 and hold.owner == self._owner and hold.sku == sku
                and hold.quantity == quantity
                and not any(li.variant.blank_sku == sku and li is not line for li in self.state.lines))

    async def _add(self, request: AddItem) -> None:
        # The web layer read the variant and the shop's terms from the store for this add (server
        # side: the HTTP body only names the variant) and carried them here, saving two local
        # activities on the path a shopper waits on; without them (other callers, older workers)
        # the cart reads both itself, through local activities (no task-queue round trip).
        patched = workflow.patched(CARRIED_ADD_PATCH)
        carried = patched and (request.variant is not None or request.shop is not None)
        await self._read_shop_settings(request.shop if carried else None)
        if carried and request.variant is not None:
            if request.variant.variant_id != request.variant_id:
                raise ApplicationError(f"no variant {request.variant_id!r}", type=UNKNOWN_VARIANT, non_retryable=True)
            info = request.variant
        else:
            info = await workflow.execute_local_activity_method(CartActivities.variant_info, request.variant_id,
                                                                **_READ)
        line = next((li for li in self.state.lines if li.variant.variant_id == info.variant_id), None)
        if line is not None and patched:
            line.variant = info  # today's price and name, read for this add
        quantity = (line.quantity if line else 0) + request.quantity
        if quantity > MAX_QUANTITY:
            raise ApplicationError(f"at most {MAX_QUANTITY} of one item", {"available": MAX_QUANTITY},
                                   type=INSUFFICIENT_STOCK, non_retryable=True)
        if not info.available:
            raise ApplicationError(f"{info.product_name} ({info.color}, {info.size}) is sold out",
                                   {"available": 0}, type=INSUFFICIENT_STOCK, non_retryable=True)
        if line is None:
            line = CartLine(id=str(workflow.uuid4())[:12], variant=info, quantity=0)
            self.state.lines.append(line)
        if carried and self._takes_hold(request, line, quantity):
            self.state.holds_renewed_at = workflow.now()
            line.quantity = quantity
            return
        if self._defers_hold(request):
            line.quantity = quantity
            if line.variant.blank_sku not in self.state.pending_holds:
                self.state.pending_holds.append(line.variant.blank_sku)
            return
        try:
            await self._set_quantity(line, quantity)
        except ApplicationError:
            if line.quantity == 0:
                self.state.lines.remove(line)
            raise

    # --- updates ----------------------------------------------------------------------

    @workflow.update
    async def add_item(self, request: AddItem) -> CartView:
        async with self.lock:
            self._check_requester(request)
            self._check_open()
            await self._add(request)
            return await self._changed()

    @workflow.update
    async def change_quantity(self, request: ChangeQuantity) -> CartView:
        async with self.lock:
            self._check_open()
            await self._set_quantity(self._line(request.line_id), request.quantity)
            return await self._changed()

    @workflow.update
    async def remove_line(self, request: RemoveLine) -> CartView:
        async with self.lock:
            self._check_open()
            await self._set_quantity(self._line(request.line_id), 0)
            return await self._changed()

    @workflow.update
    async def apply_coupon(self, request: ApplyCoupon) -> CartView:
        async with self.lock:
            self._check_open()
            self.state.coupon = await workflow.execute_activity_method(
                CartActivities.find_coupon, request.code, **_READ)
            return await self._changed()

    @workflow.update
    async def remove_coupon(self) -> CartView:
        async with self.lock:
            self._check_open()
            self.state.coupon = None
            return await self._changed()

    @workflow.update
    async def attach_shopper(self, request: AttachShopper) -> CartView:
        async with self.lock:
            self._check_open()
            self.state.shopper_id = request.shopper_id
            return await self._changed()

    @workflow.update
    async def merge(self, request: MergeLines) -> CartView:
        """Adds a guest cart's lines; a line that cannot be held (or is no longer sold) is
        skipped, not fatal. Keyed by the source cart (see MergeLines): a second merge of the
        same cart returns the cart unchanged, and the source's holds are released first so
        this cart can hold the same units under its own name."""
        async with self.lock:
            self._check_open()
            source = request.source_cart_id
            if source is not None:
                if source in self.state.merged_from or source == self.state.cart_id:
                    return cart_view(self.state)
                # Recorded first: a merge that fails half-way is not repeated by a retried
                # sign-in (which would double the lines already added); at most once.
                self.state.merged_from = [*self.state.merged_from, source][-MERGED_KEPT:]
                await workflow.execute_activity_method(CartActivities.release_stock, cart_owner(source), **_STOCK)
            for item in request.lines:
                try:
                    await self._add(item)
                except ApplicationError as exc:
                    if exc.type != INSUFFICIENT_STOCK:
                        raise
                except ActivityError as exc:
                    if not (isinstance(exc.cause, ApplicationError) and exc.cause.type == UNKNOWN_VARIANT):
                        raise
            return await self._changed()

    @workflow.update
    async def clear(self) -> CartView:
        async with self.lock:
            self._check_open()
            await self._settle_holds()  # no hold may land after the release below
            await workflow.execute_activity_method(CartActivities.release_stock,
                                                   args=[self._owner, self._held_skus()], **_STOCK)
            self.state.lines, self.state.coupon = [], None
            return await self._changed()

    @workflow.update
    async def begin_checkout(self) -> CartView:
        """Starts the checkout child (or returns the running one): its holds replace the cart's."""
        async with self.lock:
            self._check_open()
            if self.state.status == CartStatus.CHECKING_OUT:
                return cart_view(self.state)
            if not self.state.lines:
                raise ApplicationError("the cart is empty", type=CART_EMPTY, non_retryable=True)
            await self._settle_holds()  # the transfer moves what is held: every line first
            if not self.state.lines:  # a hold that followed an add took the last line out
                raise ApplicationError("the cart is empty", type=CART_EMPTY, non_retryable=True)
            self.shop_settings_read = False  # the checkout starts under today's timeouts
            await self._read_shop_settings()
            number = self.state.checkouts_started + 1
            checkout_id = checkout_workflow_id(self.state.cart_id, number)
            lines: dict[str, int] = {}
            for line in self.state.lines:
                lines[line.variant.blank_sku] = lines.get(line.variant.blank_sku, 0) + line.quantity
            moved = await workflow.execute_activity_method(
                CartActivities.transfer_stock,
                TransferInput(from_owner=self._owner, to_owner=checkout_id, lines=lines,
                              ttl_seconds=max(CHECKOUT_HOLD_SECONDS,
                                              self.state.settings.checkout_inactivity_seconds)), **_STOCK)
            if not moved.ok:
                short = [{"line_id": li.id, "product_name": li.variant.product_name, "short": moved.short[sku]}
                         for li in self.state.lines if (sku := li.variant.blank_sku) in moved.short]
                raise ApplicationError("some items are no longer available", {"lines": short},
                                       type=INSUFFICIENT_STOCK, non_retryable=True)
            self.state.checkouts_started = number
            self.state.checkout_id = checkout_id
            self.state.hold_owner = checkout_id
            self.state.status = CartStatus.CHECKING_OUT
            view = cart_view(self.state)
            await workflow.start_child_workflow(
                CheckoutWorkflow.run,
                CheckoutInput(checkout_id=checkout_id, cart_id=self.state.cart_id, cart=view,
                              settings=CheckoutSettings(inactivity_seconds=self.state.settings.checkout_inactivity_seconds)),
                id=checkout_id, task_queue=CHECKOUT_QUEUE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            return await self._changed()

    # Validators refuse a closed cart before the update enters history.
    @add_item.validator
    def _open_for_add(self, request: AddItem) -> None:
        self._check_requester(request)
        self._check_open()

    @change_quantity.validator
    def _open_for_change(self, request: ChangeQuantity) -> None:
        self._check_open()
        self._line(request.line_id)

    @remove_line.validator
    def _open_for_remove(self, request: RemoveLine) -> None:
        self._check_open()
        self._line(request.line_id)

    @apply_coupon.validator
    def _open_for_coupon(self, request: ApplyCoupon) -> None:
        self._check_open()

    @begin_checkout.validator
    def _ready_for_checkout(self) -> None:
        self._check_open()
        if not self.state.lines and self.state.status != CartStatus.CHECKING_OUT:
            raise ApplicationError("the cart is empty", type=CART_EMPTY, non_retryable=True)

    @workflow.signal(name=CHECKOUT_ENDED)  # declared by checkout (CartReports), which sends it
    def checkout_ended(self, event: CheckoutEnded) -> None:
        if event.checkout_id != self.state.checkout_id:
            return  # an older checkout's late news
        if event.outcome == CheckoutOutcome.PLACED:
            self.state.status = CartStatus.COMPLETED
            self.state.order_id = event.order_id
        else:
            self.state.status = CartStatus.ACTIVE
            self.state.hold_owner = None
            self.rehold = True  # the checkout released its holds: take them back if we can
            self.state.checkout_id = None
        self.state.version += 1
        self.state.last_change = workflow.now()

    # --- run loop ---------------------------------------------------------------------

    def _time_to_continue(self) -> bool:
        return (self.accepted >= self.state.settings.max_updates_per_run
                or workflow.info().is_continue_as_new_suggested())

    async def _rehold(self) -> None:
        self.rehold = False
        units: dict[str, int] = {}
        for line in self.state.lines:
            units[line.variant.blank_sku] = units.get(line.variant.blank_sku, 0) + line.quantity
        for sku, n in units.items():
            await workflow.execute_activity_method(
                CartActivities.hold_stock,
                HoldInput(owner=self._owner, sku=sku, quantity=n, ttl_seconds=self.state.settings.hold_ttl_seconds),
                **_STOCK)
        self.state.holds_renewed_at = workflow.now()

    async def _renew_if_due(self) -> None:
        ttl = self.state.settings.hold_ttl_seconds
        last = self.state.holds_renewed_at
        if self.state.status == CartStatus.ACTIVE and self.state.lines and last and (
                workflow.now() - last).total_seconds() > ttl / 3:
            await workflow.execute_activity_method(
                CartActivities.renew_stock,
                RenewInput(owner=self._owner, ttl_seconds=ttl,
                           skus=self._held_skus()), **_STOCK)
            self.state.holds_renewed_at = workflow.now()

    def _held_skus(self) -> list[str]:
        """The blank SKUs of the cart's lines: its holds are on their inventory shards only."""
        return sorted({line.variant.blank_sku for line in self.state.lines})

    async def _abandon(self) -> None:
        self.state.status = CartStatus.ABANDONED
        await workflow.execute_activity_method(CartActivities.release_stock,
                                               args=[self._owner, self._held_skus()], **_STOCK)
        event = CartEvent(
            cart_id=self.state.cart_id, event="abandoned", shopper_id=self.state.shopper_id,
            data={"lines": [{"variant_id": li.variant.variant_id, "quantity": li.quantity,
                             "product_name": li.variant.product_name} for li in self.state.lines],
                  "version": self.state.version})
        await workflow.execute_activity_method(CartActivities.record_event, event, **_READ)
        if self.state.shopper_id and self.state.lines and workflow.patched(ABANDONED_CART_PATCH):
            await self._enroll_abandoned(event)

    async def _enroll_abandoned(self, event: CartEvent) -> None:
        """The shop's abandoned-cart cadence, if one is active, reminds the shopper with a link
        that restores these lines. The cart has ended either way: a failed reminder is logged."""
        try:
            await workflow.execute_activity_method(CartActivities.enroll_abandoned, event, **_TRIGGER)
        except ActivityError as exc:
            workflow.logger.warning("cart %s: no abandoned-cart reminder: %s", self.state.cart_id, exc.cause or exc)

    @workflow.run
    async def run(self, state: CartState) -> CartView:
        if self.state.last_change is None:
            self.state.last_change = workflow.now()
        while not self._ended():
            seen = self.state.version
            idle = self.state.settings.idle_seconds - (workflow.now() - self.state.last_change).total_seconds()
            # a cart in checkout is never idle: the checkout has its own timeout and reports back
            timeout = None if self.state.status == CartStatus.CHECKING_OUT else timedelta(seconds=max(idle, 0.001))
            try:
                await workflow.wait_condition(  # the condition is awaited in this iteration
                    lambda: (self.state.version != seen or self.rehold or self._time_to_continue()  # noqa: B023
                             or bool(self.state.pending_holds)),
                    timeout=timeout)
            except TimeoutError:
                if self.state.status == CartStatus.ACTIVE:
                    async with self.lock:
                        if ((workflow.now() - self.state.last_change).total_seconds()
                                >= self.state.settings.idle_seconds):
                            await self._abandon()
                continue
            await self._settle_holds()  # outside the lock: the shopper's next change need not wait for it
            async with self.lock:
                if self.rehold:
                    await self._rehold()
                await self._renew_if_due()
            if self._time_to_continue() and not self._ended():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.state.status == CartStatus.COMPLETED:
            await workflow.execute_activity_method(CartActivities.record_event, CartEvent(
                cart_id=self.state.cart_id, event="completed", shopper_id=self.state.shopper_id,
                data={"order_id": self.state.order_id}), **_READ)
        return cart_view(self.state)
