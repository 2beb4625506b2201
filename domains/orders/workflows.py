"""The order workflow: routing, fulfillment, staff actions, feedback, and its audit trail.

placed -> routed -> in fulfillment -> partially shipped -> shipped -> delivered ->
completed, or cancelled / refunded. Routing and starting fulfillment are activities;
fulfillment is its own workflow and reports every supplier order by signal, and the
order derives its status from all of them. Staff and shopper actions are updates whose
validators refuse an illegal move before it reaches history. Every change appends a
history entry and marks the order dirty; the run loop saves a burst in one activity
call (audit rows, order rows, read models) and continues as new before history grows
without bound. A delivered order enrolls its customer in the shop's review-request
cadence, if one is active.

Over 400 lines because it is one workflow class (its status rules are in `lifecycle.py`):
the handlers share one state and one save loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domains.fulfillment.messages import SupplierOrderPlan, SupplierOrderReport
    from domains.inventory.messages import StockAllocated
    from domains.orders.messages import (
        FEEDBACK_NOT_ALLOWED,
        INVALID_REFUND,
        PARTLY_SHIPPED,
        AddNote,
        CancelOrder,
        Feedback,
        HistoryEntry,
        LeaveFeedback,
        OrderInput,
        OrderState,
        OrderView,
        PaymentEvent,
        RefundEntry,
        RefundOrder,
        SupplierOrderSummary,
    )
    from domains.payments.messages import RefundRequest
    from domains.payments.port import AUTHORIZED, AuthorizeRequest, CaptureRequest, PaymentRefundRequest, VoidRequest
    from domains.returns.activities import ReturnActivities
    from domains.returns.messages import (
        RETURN_CHANGED,
        ExchangeVariant,
        OpenReturn,
        RefundReturnRequest,
        ReturnRefunded,
        ReturnSummary,
        ReturnView,
    )
    from domains.returns.queue import TASK_QUEUE as RETURNS_QUEUE
    from domains.shared import with_line_ids
    from infra.activity_options import ActivityOptions

    from ..fulfillment.ids import fulfillment_workflow_id, later_fulfillment_id
    from ..fulfillment.messages import AmendSupplierOrder, CancelFulfillment, FulfillmentInput
    from ..fulfillment.signals import SUPPLIER_ORDER_CHANGED
    from ..fulfillment.workflows import FulfillmentWorkflow
    from . import edits, emails, lifecycle, returns, routing
    from .activities import (
        LocatedLines,
        MoreFulfillment,
        OrderActivities,
        OrderSnapshot,
        Restock,
        ReviewRequest,
        RouteRequest,
        WaitingStock,
    )
    from .alerts import AlertActivities, PaymentAlert
    from .edit_activities import EditActivities
    from .edit_messages import (
        EDIT_TTL_SECONDS,
        HOLD_MARGIN_SECONDS,
        AbandonEdit,
        AmendStock,
        ConfirmEdit,
        EditCharge,
        EditDraft,
        EditOrder,
        EditPreview,
        EditStock,
        Totals,
    )
    from .errors import OrderErrorCode
    from .messages import (
        OrderStatus as S,
    )

# Lets the CLI and the admin find an order by its confirmation code through visibility.
CONFIRMATION_ATTRIBUTE = SearchAttributeKey.for_keyword("OrderConfirmation")
_QUICK: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=10))}
REVIEW_REQUEST_PATCH = "review-request-cadence"  # a delivered order enrolls its customer; older histories do not
# A late supplier-order report (not newer than what the order has) is ignored; older histories applied
# every report as it came, and replay them so.
ORDERED_REPORTS_PATCH = "ordered-supplier-reports"
PAYMENT_ALERTS = frozenset({"disputed", "failed"})  # inbound provider events that mark the order for staff
# An authorization still holding money the order needs is captured before it lapses (orders
# placed by the released code carry no expiry and never arm the timer).
CAPTURE_BEFORE_LAPSE_PATCH = "capture-before-authorization-lapses"
# A dispute or an asynchronous payment failure is emailed to the owners and managers; the released
# code only marked the order.
PAYMENT_ALERT_EMAIL_PATCH = "email-staff-on-payment-alerts"
# An update that arrives while a run saves its last changes is finished before the run ends.
WIND_UP_PATCH = "finish-updates-before-run-ends"
# A review request is worth a few retries while Temporal is out of reach, never a failed order, nor one
# whose saves wait long (the run loop waits for it).
# Orders placed under this code send their customer transactional email (emails.py); older ones never do.
ORDER_EMAILS_PATCH = "order-transactional-emails"
# An email is worth retrying for a while (the mail server down), never a failed order; one that cannot
# go out in that time is noted in the order's history for staff.
_EMAIL: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "schedule_to_close_timeout": timedelta(minutes=10),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
# Orders placed under this code take returns (open_return, refund_return) and stay open until their
# return window has passed and no return is open; older histories end after the feedback window.
RETURNS_PATCH = "order-returns"
_TRIGGER: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                             "schedule_to_close_timeout": timedelta(minutes=10),
                             "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
# A cancel of a partly shipped order cancels what has not shipped and answers with the order; the
# released code refused it (partially shipped) or answered PartlyShipped after cancelling the rest.
CANCEL_REST_PATCH = "cancel-unshipped-rest"
# Staff (and the shopper, for the address) edit an order before it ships: preview_edit, confirm_edit,
# abandon_edit (edits.py). Orders of the released code refuse edits.
ORDER_EDITS_PATCH = "order-edits"
# Orders placed under this code route through inventory's allocation (stock locations) and wait for
# backordered units: inventory signals `stock_allocated` when stock arrives and the order ships those
# units then. Older histories routed by brand, all at once.
BACKORDERS_PATCH = "order-backorders"


def search_attributes(confirmation_code: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([SearchAttributePair(CONFIRMATION_ATTRIBUTE, confirmation_code)])


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, params: OrderInput) -> None:
        # Set before any handler runs, so queries answer from the first moment.
        self.state = params.state or OrderState(order=params.order)
        self.lock = asyncio.Lock()
        self.review_due = False  # delivered just now: the run loop fires the review-request trigger
        self.lapse_guard = False  # set by the run: capture before the authorization lapses
        self.returns_on = False  # set by the run (RETURNS_PATCH): stay open for the return window
        # Every line carries a stable id (L1..Ln by position); an order placed before ids gets the same ones.
        self.state.order.lines = with_line_ids(self.state.order.lines)
        self.cancel_rest = False  # set by the run (CANCEL_REST_PATCH): validators cannot ask for a patch
        self.edits_on = False  # set by the run (ORDER_EDITS_PATCH)
        self.backorders_on = False  # set by the run (BACKORDERS_PATCH)
        if not self.state.history:
            order = self.state.order
            self._record("status", order.customer_id if ":" in order.customer_id else f"shopper:{order.customer_id}",
                         to_status=S.PLACED, at=order.placed_at)

    # --- history and status -------------------------------------------------------------

    def _record(self, kind: str, actor: str, *, from_status: S | None = None, to_status: S | None = None,
                note: str | None = None, at: datetime | None = None) -> None:
        s = self.state
        seq = (s.history[-1].seq if s.history else 0) + 1
        s.history.append(HistoryEntry(seq=seq, at=at or workflow.now(), kind=kind, from_status=from_status,
                                      to_status=to_status, actor=actor, note=note))
        s.dirty = True

    def _move(self, target: S, actor: str, note: str | None = None) -> None:
        lifecycle.check_move(self.state.status, target)
        self._record("status", actor, from_status=self.state.status, to_status=target, note=note)
        self.state.status = target
        if target == S.DELIVERED:
            self.state.delivered_at = workflow.now()
            self.review_due = True  # _move is sync (a signal handler calls it): the run loop sends it

    def _advance(self, target: S, note: str | None = None, actor: str = "system") -> None:
        """A move the shop makes on its own (routing, fulfillment, the feedback window). Signals
        and activity results can arrive in one activation in either order, so a move that is
        no longer legal is skipped rather than failing the workflow."""
        if lifecycle.can_move(self.state.status, target):
            self._move(target, actor, note)

    def _remaining_units(self) -> dict[str, int]:
        units = {li.variant_id: li.quantity for li in self.state.order.lines}
        for refund in self.state.refunds:
            for variant_id, n in refund.lines.items():
                units[variant_id] -= n
        return {v: n for v, n in units.items() if n > 0}

    def _feedback_until(self) -> datetime | None:
        s = self.state
        if s.delivered_at is None or s.settings is None:
            return None
        return s.delivered_at + timedelta(seconds=s.settings.feedback_window_seconds)

    # --- view ---------------------------------------------------------------------------

    def _view(self) -> OrderView:
        s, o = self.state, self.state.order
        return OrderView(
            order_id=o.order_id, confirmation_code=o.confirmation_code, customer_id=o.customer_id, email=o.email,
            status=s.status, placed_at=o.placed_at, currency=o.currency, subtotal=o.subtotal, discount=o.discount,
            shipping=o.shipping, tax=o.tax, total=o.total, refunded=s.refunded, lines=o.lines,
            shipping_address=o.shipping_address, supplier_orders=s.supplier_orders, history=s.history,
            refunds=s.refunds, feedback=s.feedback, delivered_at=s.delivered_at,
            feedback_until=self._feedback_until(), can_cancel=self._cancellable(),
            can_refund=s.status == S.DELIVERED and bool(self._remaining_units()),
            can_leave_feedback=s.status == S.DELIVERED and s.feedback is None, payment_alert=s.payment_alert,
            returns=list(s.returns), return_state=returns.return_state(s),
            pending_edit=s.edit, can_edit=bool(self._editable()), waiting=dict(s.waiting))

    @workflow.query
    def view(self) -> OrderView:
        return self._view()

    # --- fulfillment reports --------------------------------------------------------------

    @workflow.signal(name=SUPPLIER_ORDER_CHANGED)  # declared by fulfillment (OrderReports), which sends it
    def supplier_order_changed(self, report: SupplierOrderReport) -> None:
        s = self.state
        summary = next((so for so in s.supplier_orders if so.supplier_order_id == report.supplier_order_id), None)
        if summary is None or (summary.status, summary.strategy) == (report.status, report.strategy):
            return  # a duplicate report changes nothing
        if workflow.patched(ORDERED_REPORTS_PATCH):
            if lifecycle.stale_report(summary.status, summary.report_seq, report):
                return  # overtaken by a newer report: a supplier order's stages never go back
            summary.report_seq = max(summary.report_seq, report.seq)
        summary.status, summary.strategy, summary.updated_at = report.status.value, report.strategy.value, report.at
        summary.shipment = report.shipment or summary.shipment
        summary.note = report.note if report.status in ("rejected", "cancelled") else summary.note
        self._record("fulfillment", report.actor, note=f"{report.supplier_order_id} {report.status.value}"
                     + (f": {report.note}" if report.note else ""))
        if s.status in lifecycle.FINAL:
            return  # e.g. the children of a cancelled order confirming their cancellation
        if report.status in lifecycle.DROPPED:  # rejected, or cancelled from fulfillment (the CLI)
            s.dropped_to_settle.append(report.supplier_order_id)
        target = self._derived()
        if target is not None and target != S.CANCELLED:
            for step in lifecycle.path(s.status, target):
                self._move(step, report.actor)

    def _derived(self) -> S | None:
        """The status the supplier orders imply; while units wait for stock the order is at most
        partially shipped (never delivered), and supplier orders all dropped do not cancel it."""
        target = lifecycle.derived([so.status for so in self.state.supplier_orders])
        if self.state.waiting:
            if target == S.CANCELLED:
                return None
            if target in (S.SHIPPED, S.DELIVERED):
                return S.PARTIALLY_SHIPPED
        return target

    # --- backorders: units waiting for stock (BACKORDERS_PATCH) ------------------------------

    @workflow.signal
    def stock_allocated(self, allocated: StockAllocated) -> None:
        """Inventory allocated waiting units to locations (stock arrived), in order of placement:
        the run loop ships them, each arrival in turn."""
        if allocated.owner == self.state.order.checkout_id:
            self.state.arrivals.append(allocated)

    def _still_waited(self, allocated: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """The part of an allocation the order still waits for (a repeated signal adds nothing)."""
        out: dict[str, dict[str, int]] = {}
        for sku, at in allocated.items():
            left = self.state.waiting.get(sku, 0)
            for location, units in at.items():
                take = min(units, left)
                if take > 0:
                    out.setdefault(sku, {})[location] = take
                    left -= take
        return out

    async def _ship_arrivals(self) -> None:
        """One supplier order per location for the units that were allocated, started in a
        fulfillment of their own (or the order's first, when everything had waited)."""
        async with self.lock:
            await self._ship_arrivals_now()

    async def _ship_arrivals_now(self) -> None:
        s, o = self.state, self.state.order
        while s.arrivals:
            arrival = s.arrivals.pop(0)
            if s.status in lifecycle.FINAL:
                continue  # cancelled meanwhile: its units were given back
            wanted = self._still_waited(arrival.allocated)
            if not wanted:
                continue
            plans = await workflow.execute_activity_method(OrderActivities.plan_located, LocatedLines(
                confirmation_code=o.confirmation_code, first=len(s.supplier_orders) + 1, owner=o.checkout_id,
                pending=routing.unrouted(o.lines, [so.lines for so in s.supplier_orders]), allocated=wanted,
                waiting=dict(s.waiting)), **_QUICK)
            if not plans:
                continue  # a repeated signal: inventory allocated nothing new
            for sku, units in routing.units_by_sku([li for p in plans for li in p.lines]).items():
                s.waiting[sku] = s.waiting.get(sku, 0) - units
                if s.waiting[sku] <= 0:
                    del s.waiting[sku]
            first = not s.fulfillment_started
            own = "" if first else later_fulfillment_id(o.order_id, plans[0].supplier_order_id)
            now = workflow.now()
            s.supplier_orders.extend(SupplierOrderSummary(
                supplier_order_id=p.supplier_order_id, supplier=p.supplier, strategy=p.strategy,
                behaviour=p.behaviour, lines=p.lines, location=p.location, fulfillment=own,
                created_at=now, updated_at=now) for p in plans)
            self._record("stock", "system", note="stock arrived: " + "; ".join(
                f"{p.supplier_order_id} from {p.supplier}: "
                + ", ".join(f"{li.line_id} x{li.quantity}" for li in p.lines) for p in plans)
                + (f"; still waiting: {self._describe_waiting()}" if s.waiting else ""))
            params = FulfillmentInput(order_id=o.order_id, confirmation_code=o.confirmation_code,
                                      order_workflow_id=workflow.info().workflow_id, stock_owner=o.checkout_id,
                                      supplier_orders=plans)
            if first:
                await workflow.execute_activity_method(OrderActivities.start_fulfillment, params, **_QUICK)
                s.fulfillment_started = True
                self._advance(S.IN_FULFILLMENT)
            else:
                await workflow.execute_activity_method(OrderActivities.start_more_fulfillment, MoreFulfillment(
                    workflow_id=own, params=params), **_QUICK)

    def _shipped_from(self) -> dict[str, str]:
        """blank sku -> the stock location its units shipped from (the first supplier order that
        shipped them), where restocked units go back."""
        out: dict[str, str] = {}
        for so in self.state.supplier_orders:
            if so.location and so.status in lifecycle.SHIPPED_OR_LATER:
                for line in so.lines:
                    out.setdefault(line.blank_sku, so.location)
        return out

    def _describe_waiting(self) -> str:
        return ", ".join(f"{sku} x{n}" for sku, n in sorted(self.state.waiting.items()))

    async def _give_back_waiting(self, actor: str, reason: str) -> None:
        """A cancel reaches units still waiting for stock: inventory takes them back and they are
        refunded (their share, like a dropped supplier order's)."""
        s, o = self.state, self.state.order
        units = {li.variant_id: 0 for li in o.lines}
        for line in routing.unrouted(o.lines, [so.lines for so in s.supplier_orders]):
            units[line.variant_id] += line.quantity
        units = {v: n for v, n in units.items() if n > 0}
        skus, what = sorted(s.waiting), self._describe_waiting()
        s.waiting.clear()
        s.arrivals.clear()
        await workflow.execute_activity_method(OrderActivities.cancel_waiting, WaitingStock(
            owner=o.checkout_id, skus=skus), **_QUICK)
        amount = self._share(units)
        refund_id = f"{o.order_id}-waiting"
        await self._refund_money(amount, refund_id, reason)
        s.refunds.append(RefundEntry(refund_id=refund_id, amount=amount, lines=units, restocked=False,
                                     reason=f"waiting for stock: {reason}", actor=actor, at=workflow.now()))
        self._record("refund", actor, note=f"gave back {what} (waiting for stock) and refunded {amount} {o.currency}")

    # --- the payment provider's events (POST /api/payments/webhooks/stripe) ----------------

    @workflow.signal
    def payment_event(self, event: PaymentEvent) -> None:
        """Recorded once per event (providers redeliver); a dispute or an asynchronous failure
        marks the order for staff (the admin page and the history show it)."""
        s = self.state
        if any(h.kind == "payment" and h.note and event.event_id in h.note for h in s.history):
            return
        alert = event.meaning in PAYMENT_ALERTS
        if alert:
            s.payment_alert = event.meaning
            s.alerts_to_send.append(event)
        self._record("payment", "provider", note=f"{event.type} for {event.provider_id} ({event.event_id})"
                     + (f": {event.meaning}, staff must look at this payment" if alert else ""))

    # --- staff and shopper actions --------------------------------------------------------

    @workflow.update
    async def cancel(self, request: CancelOrder) -> OrderView:
        async with self.lock:
            self._check_cancel_move()
            await self._cancel(request.actor, request.reason or "cancelled")
            return self._view()

    @cancel.validator
    def _check_cancel(self, request: CancelOrder) -> None:
        self._check_cancel_move()

    # --- cancel the unshipped rest (CANCEL_REST_PATCH) --------------------------------------

    def _unshipped(self) -> list[SupplierOrderSummary]:
        return [so for so in self.state.supplier_orders if so.status in lifecycle.STOPPABLE]

    def _cancels_rest(self) -> bool:
        """A partly shipped order whose other supplier orders have not shipped: a cancel stops those."""
        return (self.cancel_rest and self.state.status == S.PARTIALLY_SHIPPED
                and (bool(self._unshipped()) or bool(self.state.waiting)))

    def _cancellable(self) -> bool:
        return lifecycle.can_move(self.state.status, S.CANCELLED) or self._cancels_rest()

    def _check_cancel_move(self) -> None:
        if not self._cancels_rest():
            lifecycle.check_move(self.state.status, S.CANCELLED, "cancel")

    async def _stop_fulfillment(self, request: CancelFulfillment) -> None:
        """Signal the order's fulfillment; under BACKORDERS_PATCH every fulfillment that runs a
        supplier order not yet shipped (units that waited ship in their own), each once."""
        main = fulfillment_workflow_id(self.state.order.order_id)
        if not self.backorders_on:
            await workflow.get_external_workflow_handle(main).signal(FulfillmentWorkflow.cancel, request)
            return
        for workflow_id in dict.fromkeys(so.fulfillment or main for so in self._unshipped()):
            try:
                await workflow.get_external_workflow_handle(workflow_id).signal(FulfillmentWorkflow.cancel, request)
            except Exception as exc:  # it ended meanwhile: its supplier orders shipped
                workflow.logger.warning("could not cancel %s: %s", workflow_id, exc)

    async def _cancel(self, actor: str, reason: str) -> None:
        s = self.state
        if s.edit is not None:
            await self._drop_edit(actor, "the order was cancelled")
        if s.arrivals and s.fulfillment_started:
            # Units allocated just now ship first, so the stop below reaches them like any other
            # unshipped supplier order (giving back only waiting units would leave them committed).
            await self._ship_arrivals_now()
        gave_back = bool(s.waiting) and s.fulfillment_started
        if gave_back:
            await self._give_back_waiting(actor, reason)
        s.waiting.clear()  # before fulfillment started: cancel_stock below gives every unit back
        s.arrivals.clear()
        if s.fulfillment_started:
            stoppable = {so.supplier_order_id for so in self._unshipped()}
            # Each supplier order decides: one that has not shipped stops and gives its units
            # back; one that already shipped goes on. The answers arrive as reports, and the
            # stopped ones are refunded like any dropped supplier order.
            await self._stop_fulfillment(CancelFulfillment(actor=actor, reason=reason))
            await workflow.wait_condition(lambda: all(
                so.status not in ("pending", "accepted", "in_production") for so in s.supplier_orders))
            await self._settle_dropped_now(actor, reason)
            if s.status != S.CANCELLED and self.cancel_rest:
                # The rest is cancelled and refunded; the order's status stays what its supplier
                # orders say (shipped). Nothing left to stop: the cancel came too late for all of it.
                if not gave_back and not any(so.status == "cancelled" and so.supplier_order_id in stoppable
                                             for so in s.supplier_orders):
                    lifecycle.check_move(s.status, S.CANCELLED, "cancel")
                target = self._derived()  # nothing waits now: what has shipped is all there is
                if target is not None and target != S.CANCELLED:
                    for step in lifecycle.path(s.status, target):
                        self._move(step, actor)
                shipped = ", ".join(so.supplier_order_id for so in s.supplier_orders
                                    if so.status in lifecycle.SHIPPED_OR_LATER)
                self._record("cancel", actor, note=f"cancelled what had not shipped ({shipped} had shipped)"
                             + (f": {reason}" if reason else ""))
                return
            if s.status != S.CANCELLED:
                gone = ", ".join(so.supplier_order_id for so in s.supplier_orders
                                 if so.status in lifecycle.SHIPPED_OR_LATER)
                raise ApplicationError(f"{gone} had already shipped; everything else was cancelled and refunded",
                                       {"shipped": gone}, type=PARTLY_SHIPPED, non_retryable=True)
            return
        self._move(S.CANCELLED, actor, reason)
        for so in s.supplier_orders:  # routed, never sent to a supplier
            so.status, so.note, so.updated_at = "cancelled", "cancelled before fulfillment", workflow.now()
        await workflow.execute_activity_method(OrderActivities.cancel_stock, s.order.checkout_id, **_QUICK)
        amount = self._refundable()
        await self._refund_money(amount, f"{s.order.order_id}-cancel", reason)
        if amount > 0:
            s.refunds.append(RefundEntry(refund_id=f"{s.order.order_id}-cancel", amount=amount,
                                         lines=self._remaining_units(), restocked=False, reason=reason, actor=actor,
                                         at=workflow.now()))

    @workflow.update
    async def refund(self, request: RefundOrder) -> OrderView:
        async with self.lock:
            self._check_refund(request)
            s = self.state
            units = request.lines if request.lines is not None else self._remaining_units()
            everything = units == self._remaining_units()
            amount = self._refundable() if everything else self._share(units)
            refund_id = f"{s.order.order_id}-refund-{len(s.refunds) + 1}"
            await self._refund_money(amount, refund_id, request.reason or "refund")
            if request.restock:
                by_sku: dict[str, int] = {}
                for line in s.order.lines:
                    if line.variant_id in units:
                        by_sku[line.blank_sku] = by_sku.get(line.blank_sku, 0) + units[line.variant_id]
                await workflow.execute_activity_method(OrderActivities.restock, Restock(
                    key=refund_id, units=by_sku, reason=f"refund {refund_id}", locations=self._shipped_from()),
                    **_QUICK)
            s.refunds.append(RefundEntry(refund_id=refund_id, amount=amount, lines=units, restocked=request.restock,
                                         reason=request.reason, actor=request.actor, at=workflow.now()))
            self._record("refund", request.actor, note=f"refunded {amount} {s.order.currency}"
                         + (" and restocked" if request.restock else "")
                         + (f": {request.reason}" if request.reason else ""))
            if not self._remaining_units():
                self._move(S.REFUNDED, request.actor, request.reason or None)
            return self._view()

    @refund.validator
    def _check_refund(self, request: RefundOrder) -> None:
        status = self.state.status
        if status != S.DELIVERED:
            raise ApplicationError(f"only a delivered order can be refunded; this one is {status.value}",
                                   {"status": status.value}, type=INVALID_REFUND, non_retryable=True)
        remaining = self._remaining_units()
        if request.lines is not None:
            if not request.lines or any(n <= 0 for n in request.lines.values()):
                raise ApplicationError("name at least one line with a positive quantity", type=INVALID_REFUND,
                                       non_retryable=True)
            for variant_id, n in request.lines.items():
                if n > remaining.get(variant_id, 0):
                    raise ApplicationError(f"{variant_id}: {remaining.get(variant_id, 0)} units can be refunded, "
                                           f"not {n}", type=INVALID_REFUND, non_retryable=True)

    def _share(self, units: dict[str, int]) -> int:
        """What some units cost the shopper: their part of goods after discount, plus their tax."""
        o = self.state.order
        value = sum(li.unit_price * units.get(li.variant_id, 0) for li in o.lines)
        return min(round(value * (o.subtotal - o.discount + o.tax) / o.subtotal) if o.subtotal else 0,
                   self._refundable())

    def _refundable(self) -> int:
        """What is left to refund: the order's total (after its edits) less what was refunded
        apart from the edits' own refunds (already out of the total)."""
        s = self.state
        return s.order.total + s.edit_refunded - s.refunded

    async def _refund_money(self, amount: int, key: str, reason: str) -> None:
        order, s = self.state.order, self.state
        for charge in reversed(s.edit_charges):  # an edit's own charge is refunded first (newest first)
            part = min(amount, charge.amount - charge.refunded)
            if part > 0:
                await workflow.execute_activity_method(OrderActivities.refund_captured, PaymentRefundRequest(
                    payment_id=charge.payment_id, amount=part, idempotency_key=f"{key}-{charge.edit_id}"), **_QUICK)
                charge.refunded += part
                amount -= part
        payment_id = order.payment.get("payment_id")
        if payment_id and amount > 0:  # an authorization (COMMERCE_PAYMENT_FLOW=authorize)
            if s.payment_captured or (s.payment_voided and s.payment_captured_amount):
                await workflow.execute_activity_method(OrderActivities.refund_captured, PaymentRefundRequest(
                    payment_id=payment_id, amount=amount, idempotency_key=key), **_QUICK)
                return
            s.payment_released += amount  # never captured (a dropped supplier order's): the captures take less
            nothing_left = s.payment_released >= order.payment["amount"]
            rest_unused = self._multicapture() and s.payment_captured_amount > 0 and not self._uncaptured_open()
            if (nothing_left or rest_unused) and not s.payment_voided:
                await workflow.execute_activity_method(OrderActivities.void_payment, VoidRequest(
                    payment_id=payment_id, idempotency_key=f"{order.order_id}-void"), **_QUICK)
                s.payment_voided = True
                self._record("payment", "system", note=f"authorization {payment_id} voided"
                             + (" (the rest, after the captures)" if rest_unused else ""))
            return
        if amount > 0:
            await workflow.execute_activity_method(
                OrderActivities.refund_payment,
                args=[RefundRequest(idempotency_key=key, charge_id=order.payment["charge_id"], amount=amount,
                                    reason=reason), order.payment["amount"]], **_QUICK)

    def _multicapture(self) -> bool:
        return bool(self.state.order.payment.get("multicapture"))

    def _uncaptured_open(self) -> list[SupplierOrderSummary]:
        """Supplier orders whose money is still to be captured (multicapture): not captured, not dropped."""
        s = self.state
        return [so for so in s.supplier_orders
                if so.supplier_order_id not in s.captured_supplier_orders and so.status not in lifecycle.DROPPED]

    def _capture_due(self) -> bool:
        """An authorized payment is captured as supplier orders ship: per supplier order where the
        provider allows several partial captures (the last one final), otherwise the whole
        authorization (less what was released) at the first shipment. Orders charged at
        placement (every history before the authorize flow) never get here."""
        s = self.state
        if not s.order.payment.get("payment_id") or s.payment_captured or s.payment_voided or s.payment_error:
            return False
        if self._multicapture():
            return any(so.status in lifecycle.SHIPPED_OR_LATER for so in self._uncaptured_open())
        return any(so.status in lifecycle.SHIPPED_OR_LATER for so in s.supplier_orders)

    def _capture_deadline(self) -> datetime | None:
        """When an uncaptured authorization must be captured so it does not lapse: a tenth of its
        life (at most a day) before it expires, while money the order needs is still held."""
        s, payment = self.state, self.state.order.payment
        if not self.lapse_guard or not payment.get("payment_id") or not payment.get("expires_at"):
            return None
        if s.payment_captured or s.payment_voided or s.payment_error:
            return None
        if payment["amount"] - s.payment_released - s.payment_captured_amount <= 0:
            return None
        expires = datetime.fromisoformat(payment["expires_at"])
        return expires - min(timedelta(hours=24), (expires - s.order.placed_at) / 10)

    def _lapse_capture_due(self) -> bool:
        deadline = self._capture_deadline()
        return deadline is not None and workflow.now() >= deadline

    async def _capture_before_lapse(self) -> None:
        """Capture everything still held, final: a supplier that ships later is already paid for,
        and what is cancelled later is refunded from the capture."""
        async with self.lock:
            if not self._lapse_capture_due():
                return
            s, o = self.state, self.state.order
            left = o.payment["amount"] - s.payment_released - s.payment_captured_amount
            expires = datetime.fromisoformat(o.payment["expires_at"])
            if await self._capture_part(left, f"{o.order_id}-capture-before-lapse", True,
                                        f"before the authorization lapses at {expires:%Y-%m-%d %H:%M} UTC"):
                s.captured_supplier_orders.extend(so.supplier_order_id for so in self._uncaptured_open())

    async def _capture(self) -> None:
        async with self.lock:
            if not self._capture_due():
                return
            s, o = self.state, self.state.order
            if not self._multicapture():
                await self._capture_part(o.payment["amount"] - s.payment_released, f"{o.order_id}-capture", True,
                                         "at the first shipment")
                return
            for so in [x for x in self._uncaptured_open() if x.status in lifecycle.SHIPPED_OR_LATER]:
                left = o.payment["amount"] - s.payment_released - s.payment_captured_amount
                final = len(self._uncaptured_open()) == 1  # the last supplier order still to capture
                share = self._share({li.variant_id: li.quantity for li in so.lines})
                amount = left if final else min(left, share + (o.shipping if not s.captured_supplier_orders else 0))
                if not await self._capture_part(amount, f"{o.order_id}-capture-{so.supplier_order_id}", final,
                                                f"for {so.supplier_order_id}"):
                    return
                s.captured_supplier_orders.append(so.supplier_order_id)

    async def _capture_part(self, amount: int, key: str, final: bool, what: str) -> bool:
        s, o = self.state, self.state.order
        if amount > 0:
            try:
                await workflow.execute_activity_method(OrderActivities.capture_payment, CaptureRequest(
                    payment_id=o.payment["payment_id"], amount=amount, idempotency_key=key, final=final), **_QUICK)
            except ActivityError as exc:
                s.payment_error = str(exc.cause or exc)
                self._record("payment", "system", note=f"capture of {amount} {o.currency} failed: {s.payment_error}")
                return False
            s.payment_captured_amount += amount
            self._record("payment", "system", note=f"captured {amount} {o.currency} {what}"
                         + (" (final)" if final else ""))
        s.payment_captured = s.payment_captured or final
        return True

    @workflow.update
    def add_note(self, request: AddNote) -> OrderView:
        self._record("note", request.actor, note=request.text)
        return self._view()

    @workflow.update
    def leave_feedback(self, request: LeaveFeedback) -> OrderView:
        self._check_feedback(request)
        self.state.feedback = Feedback(rating=request.rating, comment=request.comment, at=workflow.now())
        self._record("feedback", request.actor,
                     note=f"{request.rating}/5" + (f": {request.comment}" if request.comment else ""))
        return self._view()

    @leave_feedback.validator
    def _check_feedback(self, request: LeaveFeedback) -> None:
        s = self.state
        if s.status != S.DELIVERED:
            raise ApplicationError(f"feedback opens when the order is delivered; it is {s.status.value}",
                                   type=FEEDBACK_NOT_ALLOWED, non_retryable=True)
        if s.feedback is not None:
            raise ApplicationError("feedback was already given", type=FEEDBACK_NOT_ALLOWED, non_retryable=True)

    # --- returns (domains/returns; each return is its own workflow) --------------------------

    @workflow.update
    async def open_return(self, request: OpenReturn) -> ReturnView:
        """Start a return of delivered lines: its own workflow (`return-{order}-{n}`), started by an
        activity (a retry finds it started); it reports back by `return_changed`."""
        async with self.lock:
            s = self.state
            s.return_policy = await workflow.execute_activity_method(
                ReturnActivities.load_return_policy, task_queue=RETURNS_QUEUE, **_QUICK)
            variants: dict[str, ExchangeVariant] = {}
            if returns.exchange_ids(request):  # an exchange: the other variants, from the catalog
                variants = {v.variant_id: v for v in await workflow.execute_activity_method(
                    ReturnActivities.exchange_variants, returns.exchange_ids(request), task_queue=RETURNS_QUEUE,
                    **_QUICK)}
            returns.check_open(s, request, workflow.now(), variants)
            s.returns_opened += 1
            params = returns.return_input(s, request, s.returns_opened, workflow.info().workflow_id, workflow.now(),
                                          variants)
            view = await workflow.execute_activity_method(ReturnActivities.start_return, params,
                                                          task_queue=RETURNS_QUEUE, **_QUICK)
            returns.note_summary(s, ReturnSummary(return_id=view.return_id, status=view.status,
                                                  refund_amount=view.refund_amount,
                                                  lines={li.line_id: li.quantity for li in view.lines},
                                                  updated_at=view.updated_at))
            self._record("return", request.actor, note=f"return {view.return_id} opened: " + ", ".join(
                f"{li.line_id} x{li.quantity} ({li.reason.value})" for li in view.lines))
            return view

    @open_return.validator
    def _check_open_return(self, request: OpenReturn) -> None:
        returns.check_open(self.state, request, workflow.now())

    @workflow.signal(name=RETURN_CHANGED)  # declared by returns (messages.RETURN_CHANGED), which sends it
    def return_changed(self, summary: ReturnSummary) -> None:
        s = self.state
        known = next((r.status for r in s.returns if r.return_id == summary.return_id), None)
        if returns.note_summary(s, summary) and known != summary.status:
            self._record("return", "system", note=f"return {summary.return_id} {summary.status.value}")
        s.dirty = True

    @workflow.update
    async def refund_return(self, request: RefundReturnRequest) -> ReturnRefunded:
        """Refund a received return (the return workflow calls this from an activity): the goods
        that arrived with their share of discount and tax, shipping once if the shop says so, less
        the restocking fee, never more than is left of the charge; restock what may be sold again.
        Idempotent by return id: a second call answers the refund already recorded."""
        async with self.lock:
            s, o = self.state, self.state.order
            refund_id = returns.refund_id_of(s, request.return_id)
            done = next((r for r in s.refunds if r.refund_id == refund_id), None)
            if done is not None:
                return ReturnRefunded(return_id=request.return_id, refund_id=refund_id, amount=done.amount)
            returns.check_refund(s, request)
            units = returns.refund_units(s, request)
            goods = self._share(units)
            shipping = o.shipping if request.include_shipping and goods and not s.return_shipping_refunded else 0
            # an exchange's price fall comes back as money beside the goods (never above what is left)
            amount = max(0, min(goods + shipping - request.fee + request.credit, self._refundable()))
            await self._refund_money(amount, refund_id, f"return {request.return_id}")
            restock = {sku: n for sku, n in request.restock.items() if n > 0}
            if restock:
                await workflow.execute_activity_method(OrderActivities.restock, Restock(
                    key=refund_id, units=restock, reason=f"return {request.return_id}",
                    locations=self._shipped_from()), **_QUICK)
            s.return_shipping_refunded = s.return_shipping_refunded or bool(shipping)
            s.refunds.append(RefundEntry(refund_id=refund_id, amount=amount, lines=units, restocked=bool(restock),
                                         reason=f"return {request.return_id}", actor=request.actor, at=workflow.now()))
            self._record("refund", request.actor, note=f"refunded {amount} {o.currency} for return {request.return_id}"
                         + (f" (restocking fee {request.fee})" if request.fee else "")
                         + (f" (exchange difference {request.credit})" if request.credit else "")
                         + (", shipping included" if shipping else "") + (", restocked" if restock else ""))
            return ReturnRefunded(return_id=request.return_id, refund_id=refund_id, amount=amount)

    @refund_return.validator
    def _check_refund_return(self, request: RefundReturnRequest) -> None:
        if not any(r.refund_id == returns.refund_id_of(self.state, request.return_id) for r in self.state.refunds):
            returns.check_refund(self.state, request)

    def _returns_hold(self) -> bool:
        """The order stays open while a return runs, and (orders under RETURNS_PATCH) until its
        return window has passed, so a return opened on day 29 still reaches it."""
        s = self.state
        if returns.any_running(s):
            return True
        until = returns.window_until(s) if self.returns_on else None
        return until is not None and workflow.now() < until

    async def _load_return_policy(self) -> None:
        """Once something is delivered, the shop's return window tells how long the order stays open."""
        s = self.state
        if self.returns_on and s.return_policy is None and returns.last_delivery(s) is not None:
            s.return_policy = await workflow.execute_activity_method(
                ReturnActivities.load_return_policy, task_queue=RETURNS_QUEUE, **_QUICK)
    # --- order edits before shipping (ORDER_EDITS_PATCH; edits.py) --------------------------

    def _editable(self) -> list[SupplierOrderSummary]:
        """The supplier orders an edit can still reach ([]: the order cannot be edited now)."""
        s = self.state
        if not self.edits_on or not s.fulfillment_started or s.status not in (S.IN_FULFILLMENT, S.PARTIALLY_SHIPPED):
            return []
        if s.waiting:  # an edit splits no waiting units across locations (yet): wait for the stock
            return []
        return self._unshipped()

    @workflow.update
    async def preview_edit(self, request: EditOrder) -> EditPreview:
        async with self.lock:
            self._check_preview(request)
            s, o = self.state, self.state.order
            if s.edit is not None:
                await self._drop_edit(request.actor, "replaced by a new preview")
            address = request.shipping_address or o.shipping_address
            priced = await workflow.execute_activity_method(EditActivities.price_edit, EditDraft(
                confirmation_code=o.confirmation_code, lines=o.lines, changes=request.lines, address=address,
                subtotal=o.subtotal, discount=o.discount), **_QUICK)
            changed = edits.supplier_lines(s.supplier_orders, o.lines, priced.lines, priced.suppliers)
            address_changed = request.shipping_address is not None and request.shipping_address != o.shipping_address
            if not changed and not address_changed:
                raise edits.refuse(OrderErrorCode.INVALID_EDIT, "the edit changes nothing")
            reached = sorted(set(changed) | ({so.supplier_order_id for so in self._editable()}
                                             if address_changed else set()))
            hold, give = edits.stock_moves(o.lines, priced.lines)
            s.edit_seq += 1
            owner = f"{o.checkout_id}-edit-{s.edit_seq}"
            if hold:
                short = await workflow.execute_activity_method(EditActivities.hold_edit_stock, EditStock(
                    owner=owner, units=hold, ttl_seconds=EDIT_TTL_SECONDS + HOLD_MARGIN_SECONDS), **_QUICK)
                if short:
                    raise ApplicationError(
                        "not enough stock for the edit: " + ", ".join(f"{sku} short {n}" for sku, n in short.items()),
                        {"short": short}, type=OrderErrorCode.EDIT_OUT_OF_STOCK, non_retryable=True)
            before = Totals(subtotal=o.subtotal, discount=o.discount, shipping=o.shipping, tax=o.tax, total=o.total)
            s.edit = EditPreview(
                edit_id=f"{o.order_id}-edit-{s.edit_seq}", owner=owner, actor=request.actor, reason=request.reason,
                lines=priced.lines, shipping_address=address, address_changed=address_changed, before=before,
                after=priced.totals, difference=priced.totals.total - o.total, held=hold, released=give,
                supplier_lines=changed, supplier_orders=reached,
                expires_at=workflow.now() + timedelta(seconds=EDIT_TTL_SECONDS))
            self._record("edit", request.actor, note=f"edit {s.edit.edit_id} previewed: {edits.describe(s.edit)}")
            return s.edit

    @preview_edit.validator
    def _check_preview(self, request: EditOrder) -> None:
        if not self.edits_on:
            raise edits.refuse(OrderErrorCode.EDIT_NOT_ALLOWED, "this order was placed before orders could be edited")
        if not self._editable():
            raise edits.refuse(OrderErrorCode.EDIT_NOT_ALLOWED,
                               f"an order can be edited while it is in fulfillment and part of it has not shipped; "
                               f"this one is {self.state.status.value}")
        if request.lines and edits.by_shopper(request.actor):
            raise edits.refuse(OrderErrorCode.EDIT_NOT_ALLOWED, "a shopper may change the shipping address only; "
                                                                "ask the shop to change the items")
        if not request.lines and request.shipping_address is None:
            raise edits.refuse(OrderErrorCode.INVALID_EDIT, "name a new shipping address or at least one line")
        edits.check_changes(request.lines)

    @workflow.update
    async def confirm_edit(self, request: ConfirmEdit) -> OrderView:
        async with self.lock:
            self._check_confirm(request)
            s, o = self.state, self.state.order
            edit = s.edit
            assert edit is not None  # checked
            payment = None
            accepted: list[str] = []
            try:
                if edit.difference > 0:
                    payment = await self._authorize_edit(edit, request.payment_method or "")
                for so_id in edit.supplier_orders:
                    await workflow.execute_activity_method(
                        EditActivities.amend_supplier_order, args=[so_id, AmendSupplierOrder(
                            actor=request.actor, edit_id=edit.edit_id, lines=edit.supplier_lines.get(so_id),
                            note="shipping address changed" if edit.address_changed and so_id not in
                            edit.supplier_lines else "")], **_QUICK)
                    accepted.append(so_id)
                await workflow.execute_activity_method(EditActivities.amend_stock, AmendStock(
                    owner=o.checkout_id, from_owner=edit.owner, add=edit.held, remove=edit.released,
                    key=edit.edit_id), **_QUICK)
            except ActivityError as exc:
                cause = exc.cause if isinstance(exc.cause, ApplicationError) else None
                await self._undo_amends(edit, accepted, request.actor)
                if payment is not None:
                    await workflow.execute_activity_method(OrderActivities.void_payment, VoidRequest(
                        payment_id=payment, idempotency_key=f"{edit.edit_id}-void"), **_QUICK)
                why = cause.message if cause else str(exc)
                await self._drop_edit(request.actor, f"refused: {why}")
                raise ApplicationError(why, cause.details[0] if cause and cause.details else None,
                                       type=cause.type if cause and cause.type else OrderErrorCode.UNEXPECTED,
                                       non_retryable=True) from None
            await self._settle_edit_money(edit, payment, request.actor)
            o.lines, o.shipping_address = with_line_ids(edit.lines), edit.shipping_address
            a = edit.after
            o.subtotal, o.discount, o.shipping, o.tax, o.total = a.subtotal, a.discount, a.shipping, a.tax, a.total
            for so in s.supplier_orders:
                if so.supplier_order_id in edit.supplier_lines:
                    so.lines = edit.supplier_lines[so.supplier_order_id]
                    so.updated_at = workflow.now()
            s.edit = None
            self._record("edit", request.actor, note=f"edit {edit.edit_id} confirmed: {edits.describe(edit)}"
                         + (f": {edit.reason}" if edit.reason else ""))
            return self._view()

    @confirm_edit.validator
    def _check_confirm(self, request: ConfirmEdit) -> None:
        s = self.state
        if not self.edits_on or s.edit is None or s.edit.edit_id != request.edit_id \
                or workflow.now() >= s.edit.expires_at:
            raise edits.refuse(OrderErrorCode.NO_SUCH_EDIT, f"no open edit {request.edit_id}: it was confirmed, "
                                                            "abandoned or lapsed; preview it again")
        if self._edit_unreachable():
            raise edits.refuse(OrderErrorCode.SUPPLIER_ORDER_SHIPPED, "part of the order the edit changes has "
                                                                      "shipped: it can no longer change")
        if not self._editable():
            raise edits.refuse(OrderErrorCode.EDIT_NOT_ALLOWED, f"the order is {s.status.value}: too late to edit")
        if edits.by_shopper(request.actor) and s.edit.supplier_lines:
            raise edits.refuse(OrderErrorCode.EDIT_NOT_ALLOWED, "a shopper may confirm an address change only")
        if s.edit.difference > 0 and not request.payment_method:
            raise ApplicationError(f"the edit costs {s.edit.difference} {s.order.currency} more: confirm it with a "
                                   "payment method", {"amount": s.edit.difference},
                                   type=OrderErrorCode.PAYMENT_REQUIRED, non_retryable=True)

    async def _authorize_edit(self, edit: EditPreview, payment_method: str) -> str:
        """Authorize the difference on a payment of its own; refused unless it is authorized outright."""
        o = self.state.order
        try:
            auth = await workflow.execute_activity_method(EditActivities.authorize_edit, AuthorizeRequest(
                idempotency_key=f"{edit.edit_id}-authorize", payment_method=payment_method, amount=edit.difference,
                currency=o.currency), start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=10)))
        except ActivityError as exc:  # the preview stays open: another payment method may do
            why = exc.cause.message if isinstance(exc.cause, ApplicationError) else str(exc.cause or exc)
            self._record("payment", "system", note=f"the payment for {edit.edit_id} was refused: {why}")
            raise edits.refuse(OrderErrorCode.EDIT_PAYMENT_FAILED,
                               f"the payment for the edit was refused: {why}") from None
        if auth.status != AUTHORIZED:
            await workflow.execute_activity_method(OrderActivities.void_payment, VoidRequest(
                payment_id=auth.payment_id, idempotency_key=f"{edit.edit_id}-void"), **_QUICK)
            raise edits.refuse(OrderErrorCode.EDIT_PAYMENT_FAILED,
                               "the payment for the edit needs the shopper's action; use another payment method")
        self._record("payment", "system", note=f"authorized {edit.difference} {o.currency} for {edit.edit_id}")
        return auth.payment_id

    async def _undo_amends(self, edit: EditPreview, accepted: list[str], actor: str) -> None:
        """Give the supplier orders that took the edit their lines back (another one refused it)."""
        before = {so.supplier_order_id: so.lines for so in self.state.supplier_orders}
        for so_id in accepted:
            try:
                await workflow.execute_activity_method(
                    EditActivities.amend_supplier_order, args=[so_id, AmendSupplierOrder(
                        actor=actor, edit_id=f"{edit.edit_id}-undo", lines=before[so_id],
                        note="edit undone: another part of the order had shipped")], **_QUICK)
            except ActivityError as exc:
                self._record("edit", "system", note=f"{so_id} kept edit {edit.edit_id}: {exc.cause or exc}")

    async def _settle_edit_money(self, edit: EditPreview, payment: str | None, actor: str) -> None:
        s, o = self.state, self.state.order
        if payment is not None:
            await workflow.execute_activity_method(OrderActivities.capture_payment, CaptureRequest(
                payment_id=payment, amount=edit.difference, idempotency_key=f"{edit.edit_id}-capture", final=True),
                **_QUICK)
            s.edit_charges.append(EditCharge(edit_id=edit.edit_id, payment_id=payment, amount=edit.difference))
            self._record("payment", "system", note=f"captured {edit.difference} {o.currency} for {edit.edit_id}")
        elif edit.difference < 0:
            amount = min(-edit.difference, self._refundable())  # never more than was charged
            refund_id = f"{edit.edit_id}-refund"
            await self._refund_money(amount, refund_id, f"edit {edit.edit_id}")
            s.refunds.append(RefundEntry(refund_id=refund_id, amount=amount, lines={}, restocked=False,
                                         reason=f"order edit {edit.edit_id}", actor=actor, at=workflow.now()))
            s.edit_refunded += amount
            self._record("refund", actor, note=f"refunded {amount} {o.currency} for edit {edit.edit_id}")

    @workflow.update
    async def abandon_edit(self, request: AbandonEdit) -> OrderView:
        async with self.lock:
            self._check_abandon(request)
            await self._drop_edit(request.actor, "abandoned")
            return self._view()

    @abandon_edit.validator
    def _check_abandon(self, request: AbandonEdit) -> None:
        edit = self.state.edit
        if edit is None or (request.edit_id is not None and request.edit_id != edit.edit_id):
            raise edits.refuse(OrderErrorCode.NO_SUCH_EDIT, "no open edit to abandon")

    async def _drop_edit(self, actor: str, why: str) -> None:
        """Release what the open edit holds and forget it."""
        s = self.state
        edit = s.edit
        if edit is None:
            return
        if edit.held:
            await workflow.execute_activity_method(EditActivities.release_edit_stock, edit.owner, **_QUICK)
        s.edit = None
        self._record("edit", actor, note=f"edit {edit.edit_id} {why}"
                     + ("; its held stock was released" if edit.held else ""))

    def _edit_unreachable(self) -> bool:
        """A supplier order the open edit would change has shipped (or ended) since the preview."""
        edit = self.state.edit
        return edit is not None and any(so.status not in lifecycle.STOPPABLE for so in self.state.supplier_orders
                                        if so.supplier_order_id in edit.supplier_orders)

    def _edit_lapsed(self) -> bool:
        edit = self.state.edit
        return edit is not None and (workflow.now() >= edit.expires_at or self._edit_unreachable())

    async def _expire_edit(self) -> None:
        async with self.lock:
            if self._edit_unreachable():
                await self._drop_edit("system", "refused: part of it shipped before it was confirmed")
            elif self._edit_lapsed():
                await self._drop_edit("system", "lapsed unconfirmed")

    # --- the run loop ---------------------------------------------------------------------

    async def _route_and_fulfil(self) -> None:
        s, o = self.state, self.state.order
        async with self.lock:
            if s.status == S.PLACED:
                if self.backorders_on:
                    routed = await workflow.execute_activity_method(OrderActivities.route_order, RouteRequest(
                        order_id=o.order_id, confirmation_code=o.confirmation_code, owner=o.checkout_id,
                        lines=o.lines, country=o.shipping_address.country, state=o.shipping_address.state,
                        notify=workflow.info().workflow_id), **_QUICK)
                    plans, s.waiting = routed.plans, dict(routed.waiting)
                else:
                    plans = await workflow.execute_activity_method(
                        OrderActivities.route, args=[o.order_id, o.confirmation_code, o.lines], **_QUICK)
                now = workflow.now()
                s.supplier_orders = [SupplierOrderSummary(
                    supplier_order_id=p.supplier_order_id, supplier=p.supplier, strategy=p.strategy,
                    behaviour=p.behaviour, lines=p.lines, location=p.location, created_at=now, updated_at=now)
                    for p in plans]
                self._advance(S.ROUTED, ", ".join([f"{p.supplier_order_id} to {p.supplier}" for p in plans]
                                                  + ([f"waiting for stock: {self._describe_waiting()}"]
                                                     if s.waiting else [])))
        async with self.lock:
            if s.status == S.ROUTED and not s.fulfillment_started and s.supplier_orders:
                plans = [SupplierOrderPlan(supplier_order_id=so.supplier_order_id, supplier=so.supplier,
                                           strategy=so.strategy, behaviour=so.behaviour, lines=so.lines,
                                           location=so.location)
                         for so in s.supplier_orders]
                await workflow.execute_activity_method(OrderActivities.start_fulfillment, FulfillmentInput(
                    order_id=o.order_id, confirmation_code=o.confirmation_code,
                    order_workflow_id=workflow.info().workflow_id, stock_owner=o.checkout_id,
                    supplier_orders=plans), **_QUICK)
                s.fulfillment_started = True
                self._advance(S.IN_FULFILLMENT)  # unless a supplier order's first report got here first

    async def _settle_dropped(self) -> None:
        """A supplier order was rejected or cancelled: refund its lines (its stock is already
        released), or cancel the order when no supplier order is left."""
        async with self.lock:
            await self._settle_dropped_now()

    async def _settle_dropped_now(self, actor: str = "system", reason: str | None = None) -> None:
        s = self.state
        while s.dropped_to_settle:
            so_id = s.dropped_to_settle.pop(0)
            if s.status in lifecycle.FINAL:
                continue
            if self._derived() == S.CANCELLED:
                so = next(x for x in s.supplier_orders if x.supplier_order_id == so_id)
                why = reason or ("every supplier rejected the order"
                                 if all(x.status == "rejected" for x in s.supplier_orders)
                                 else so.note or "fulfillment was cancelled")
                amount = self._refundable()
                await self._refund_money(amount, f"{s.order.order_id}-dropped", why)
                s.refunds.append(RefundEntry(refund_id=f"{s.order.order_id}-dropped", amount=amount,
                                             lines=self._remaining_units(), restocked=False, reason=why,
                                             actor=actor, at=workflow.now()))
                self._advance(S.CANCELLED, why, actor)
                continue
            so = next(x for x in s.supplier_orders if x.supplier_order_id == so_id)
            units = {li.variant_id: li.quantity for li in so.lines}
            amount = self._share(units)
            refund_id = f"{s.order.order_id}-dropped-{so_id}"
            await self._refund_money(amount, refund_id, f"{so_id} {so.status}")
            s.refunds.append(RefundEntry(refund_id=refund_id, amount=amount, lines=units, restocked=False,
                                         reason=f"{so_id} {so.status}: {so.note or ''}", actor=actor,
                                         at=workflow.now()))
            self._record("refund", actor, note=f"refunded {amount} {s.order.currency} for {so_id}")

    async def _save(self) -> None:
        s = self.state
        s.dirty = False
        s.version += 1
        unsaved = [h for h in s.history if h.seq > s.saved_seq]
        await workflow.execute_activity_method(
            OrderActivities.save, OrderSnapshot(view=self._view(), unsaved=unsaved, version=s.version),
            start_to_close_timeout=timedelta(seconds=10))  # a save on a dead worker is retried soon
        if unsaved:
            s.saved_seq = max(s.saved_seq, unsaved[-1].seq)

    async def _request_review(self) -> None:
        """Enroll the customer in the shop's review-request cadence, if one is active. Orders
        delivered under the released code (no marker in their history) carry on without it."""
        self.review_due = False
        if self.state.status != S.DELIVERED or not workflow.patched(REVIEW_REQUEST_PATCH):
            return  # refunded meanwhile: nothing to review
        o = self.state.order
        address = o.shipping_address
        try:
            await workflow.execute_activity_method(OrderActivities.enroll_review_request, ReviewRequest(
                order_id=o.order_id, order_code=o.confirmation_code, email=o.email,
                name=f"{address.first_name} {address.last_name}".strip()), **_TRIGGER)
        except ActivityError as exc:
            workflow.logger.warning("order %s: no review request: %s", o.order_id, exc.cause or exc)

    async def _alert_staff(self) -> None:
        """Email the owners and managers about each alerting payment event (at least once; a
        mail system that stays down is logged in the history, never a failed order)."""
        s, o = self.state, self.state.order
        if not workflow.patched(PAYMENT_ALERT_EMAIL_PATCH):
            s.alerts_to_send.clear()  # histories of the released code marked the order only
            return
        while s.alerts_to_send:
            event = s.alerts_to_send[0]
            try:
                told = await workflow.execute_activity_method(AlertActivities.alert_staff, PaymentAlert(
                    alert_id=event.event_id, order_id=o.order_id, confirmation_code=o.confirmation_code,
                    meaning=event.meaning, event_type=event.type, provider_id=event.provider_id, total=o.total,
                    currency=o.currency), **_TRIGGER)
                self._record("alert", "system", note=f"payment {event.meaning}: {told} staff emailed")
            except ActivityError as exc:
                self._record("alert", "system", note=f"payment {event.meaning}: staff not emailed: {exc.cause or exc}")
            s.alerts_to_send.pop(0)

    async def _send_emails(self) -> None:
        """Send the customer the emails the order owes now (emails.due), each once. Orders placed
        before the shop sent them (`emails_sent` None) send none."""
        s = self.state
        if s.emails_sent is None:
            return
        for email in emails.due(self._view(), s.emails_sent):
            try:
                await workflow.execute_activity_method(OrderActivities.send_email, email, **_EMAIL)
            except ActivityError as exc:
                self._record("email", "system", note=f"the {email.kind.value} email could not be sent: "
                                                     f"{exc.cause or exc}")
            s.emails_sent.append(email.event)

    async def _wind_up(self) -> None:
        """Before this run ends (closing, or continuing as new): once no handler runs, save what
        is unsaved and send a due review request (not carried by the state). An update accepted
        during that save (a clerk's cancel, a note) is finished and saved too; the released code
        ended the run under it, and its client was told the order had closed."""
        s = self.state
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            if s.dirty:
                await self._save()
            if self.review_due:
                await self._request_review()
            await self._send_emails()
            if s.dirty:  # an email that could not go out left a note
                await self._save()
            if workflow.all_handlers_finished() or not workflow.patched(WIND_UP_PATCH):
                return

    def _finished(self) -> bool:
        s = self.state
        if s.status not in lifecycle.FINAL or s.dropped_to_settle or s.waiting or s.arrivals:
            return False
        if self._returns_hold():
            return False
        return not s.fulfillment_started or all(so.status in ("delivered", "rejected", "cancelled")
                                                for so in s.supplier_orders)

    def _history_too_long(self) -> bool:
        settings = self.state.settings
        if settings is None:
            raise RuntimeError("order settings are loaded before the run loop starts")
        return (workflow.info().get_current_history_length() > settings.max_history_length
                or workflow.info().is_continue_as_new_suggested())

    @workflow.run
    async def run(self, params: OrderInput) -> OrderView:
        s = self.state
        self.cancel_rest = workflow.patched(CANCEL_REST_PATCH)  # first: the handlers see the same answer
        self.edits_on = workflow.patched(ORDER_EDITS_PATCH)
        self.backorders_on = workflow.patched(BACKORDERS_PATCH)
        if s.settings is None:
            s.settings = await workflow.execute_activity_method(OrderActivities.load_settings, **_QUICK)
        if params.state is None and workflow.patched(ORDER_EMAILS_PATCH):
            s.emails_sent = []  # a new order: its confirmation goes out now, the rest as they happen
        await self._send_emails()
        await self._route_and_fulfil()
        self.lapse_guard = workflow.patched(CAPTURE_BEFORE_LAPSE_PATCH)
        self.returns_on = workflow.patched(RETURNS_PATCH)
        while True:
            until = self._feedback_until()
            timeout = max(until - workflow.now(), timedelta(0)) if until and s.status == S.DELIVERED else None
            window = returns.window_until(s) if self.returns_on and s.status in lifecycle.FINAL else None
            if window is not None and window > workflow.now():  # wake when the return window closes
                timeout = min(timeout, window - workflow.now()) if timeout is not None else window - workflow.now()
            capture_by = self._capture_deadline()
            if capture_by is not None:
                to_deadline = max(capture_by - workflow.now(), timedelta(0))
                timeout = min(timeout, to_deadline) if timeout is not None else to_deadline
            if s.edit is not None:  # an open edit preview lapses: its held stock goes back
                to_lapse = max(s.edit.expires_at - workflow.now(), timedelta(0))
                timeout = min(timeout, to_lapse) if timeout is not None else to_lapse
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: s.dirty or bool(s.dropped_to_settle) or self._finished() or self._history_too_long()
                    or self._capture_due() or bool(s.alerts_to_send) or bool(s.arrivals),
                    timeout=timeout)
            if s.arrivals:
                await self._ship_arrivals()
            if s.dropped_to_settle:
                await self._settle_dropped()
            if self._capture_due():
                await self._capture()
            if self._lapse_capture_due():
                await self._capture_before_lapse()
            if s.alerts_to_send:
                await self._alert_staff()
            if self._edit_lapsed():
                await self._expire_edit()
            if s.dirty:
                await workflow.sleep(timedelta(seconds=s.settings.flush_delay_seconds))  # gather the burst
                await self._save()
            if self.review_due:  # after the save: the order is delivered in the store when the email asks
                await self._request_review()
            await self._send_emails()  # after the save: the link in the email finds the order as it says
            if self.returns_on:
                await self._load_return_policy()
            closes_at = self._feedback_until()  # set once delivered
            if s.status == S.DELIVERED and closes_at is not None and closes_at <= workflow.now():
                async with self.lock:
                    self._advance(S.COMPLETED, "the feedback window closed")
                continue
            if self._finished() and not s.dirty:
                break
            if self._history_too_long():
                await self._wind_up()
                workflow.continue_as_new(OrderInput(order=s.order, state=s),
                                         search_attributes=search_attributes(s.order.confirmation_code))
        await self._wind_up()
        return self._view()
