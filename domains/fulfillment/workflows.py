"""Fulfillment: `fulfillment-{order}` runs one child per supplier order.

A supplier order follows its supplier's strategy: `simulated` moves through timed
stages, `dropship` first submits to the supplier's API (which may accept, reject or not
answer), `manual` waits for a person's signal at every stage. Each change is sent to the
parent, which keeps the whole tree for queries and tells the order by signal: its run loop
forwards the reports one at a time, in the order they came, each numbered by its place in
the supplier order's stage history (concurrent handlers signalling at once could overtake
each other on the way). Delivery takes the units out of on-hand stock; cancellation and
rejection give them back.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domains.fulfillment.messages import SupplierOrderReport
    from domains.shared import Shipment
    from infra.activity_options import ActivityOptions

    from . import stages, tracking
    from .activities import (
        FulfillmentActivities,
        StockSettlement,
        SupplierSubmission,
        TrackingClaim,
    )
    from .ids import supplier_order_workflow_id
    from .messages import (
        FINAL,
        SUPPLIER_ORDER_SHIPPED,
        SUPPLIER_REJECTED,
        Advance,
        AmendSupplierOrder,
        CancelFulfillment,
        FulfillmentInput,
        FulfillmentSettings,
        FulfillmentView,
        Reject,
        StageEntry,
        Strategy,
        SupplierOrderInput,
        SupplierOrderState,
        SupplierOrderView,
    )
    from .messages import (
        SupplierOrderStatus as S,
    )
    from .signals import OrderReports

# Lets `list` find manual supplier orders through Temporal's visibility.
STRATEGY_ATTRIBUTE = SearchAttributeKey.for_keyword("SupplierStrategy")
_QUICK: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=10))}
# Reports go to the order from the run loop, in order and numbered; older histories signalled the
# order from each report's own handler, and replay so.
ORDERED_REPORTS_PATCH = "ordered-supplier-reports"


class _Stopped(Exception):
    """The supplier order was cancelled or rejected while it waited."""


@workflow.defn
class SupplierOrderWorkflow:
    @workflow.init
    def __init__(self, params: SupplierOrderInput) -> None:
        self.state = SupplierOrderState(input=params)
        self.advances: list[Advance] = []
        self.stop: CancelFulfillment | Reject | None = None

    # --- view and signals ---------------------------------------------------------------

    def _view(self) -> SupplierOrderView:
        s, params = self.state, self.state.input
        now = workflow.now()
        return SupplierOrderView(
            supplier_order_id=params.plan.supplier_order_id, order_id=params.order_id,
            confirmation_code=params.confirmation_code, supplier=params.plan.supplier,
            strategy=s.strategy or Strategy(params.plan.strategy), status=s.status,
            waiting_for=stages.next_manual(s.strategy, s.status),
            lines=[li.model_dump() for li in params.plan.lines], shipment=s.shipment, note=s.note,
            history=s.history, started_at=s.started_at or now, updated_at=s.updated_at or now)

    @workflow.query
    def view(self) -> SupplierOrderView:
        return self._view()

    @workflow.signal
    def advance(self, request: Advance) -> None:
        self.advances.append(request)

    @workflow.signal
    def reject(self, request: Reject) -> None:
        if self.stop is None:
            self.stop = request

    @workflow.signal
    def cancel(self, request: CancelFulfillment) -> None:
        if self.stop is None:
            self.stop = request

    # --- an order edit before shipping (the order's confirm_edit, through an activity) -------

    @workflow.update
    async def amend(self, request: AmendSupplierOrder) -> SupplierOrderView:
        """Take an edit's new lines; refused once the goods left (or a cancel is on its way).
        The entry in the stage history (same stage) tells the parent and the order."""
        s = self.state
        if any(e.note and request.edit_id in e.note for e in s.history):
            return self._view()  # a retry of an edit already taken
        if request.lines is not None:
            s.input.plan.lines = request.lines
        what = request.note or "lines changed"
        await self._move(s.status, request.actor, f"edit {request.edit_id}: {what}")
        return self._view()

    @amend.validator
    def _check_amend(self, request: AmendSupplierOrder) -> None:
        s = self.state
        if any(e.note and request.edit_id in e.note for e in s.history):
            return
        if not stages.can_stop(s.status) or self.stop is not None:
            raise ApplicationError(f"{s.input.plan.supplier_order_id} is {s.status.value}: too late to change it",
                                   {"supplier_order_id": s.input.plan.supplier_order_id, "status": s.status.value},
                                   type=SUPPLIER_ORDER_SHIPPED, non_retryable=True)

    # --- moving between stages ------------------------------------------------------------

    async def _move(self, status: S, actor: str = "system", note: str | None = None) -> None:
        s = self.state
        s.status, s.updated_at = status, workflow.now()
        s.note = note if note is not None else s.note
        s.history.append(StageEntry(at=s.updated_at, status=status, actor=actor, note=note))
        params = s.input
        await workflow.get_external_workflow_handle(params.parent_workflow_id).signal(
            FulfillmentWorkflow.supplier_order_changed, self._view())

    def _settlement(self) -> StockSettlement:
        plan = self.state.input.plan
        return StockSettlement(owner=self.state.input.stock_owner, skus=sorted({li.blank_sku for li in plan.lines}),
                               location=plan.location)

    async def _check_stop(self) -> None:
        """Apply a cancel or reject that arrived, if the goods have not left yet."""
        request = self.stop
        if request is None:
            return
        if not stages.can_stop(self.state.status):
            self.state.note = f"{type(request).__name__.lower()} ignored: already {self.state.status.value}"
            self.stop = None
            return
        await workflow.execute_activity_method(FulfillmentActivities.release_stock, self._settlement(), **_QUICK)
        if isinstance(request, Reject):
            await self._move(S.REJECTED, request.actor, request.reason)
        else:
            await self._move(S.CANCELLED, request.actor, request.reason or "cancelled")
        raise _Stopped

    async def _wait(self, seconds: float | None, for_advance: bool = False) -> None:
        """Sleep through a stage (or until a person advances it); a stop cuts it short."""
        seen = len(self.advances)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.stop is not None or (for_advance and len(self.advances) > seen),
                timeout=timedelta(seconds=seconds) if seconds is not None else None)
        await self._check_stop()

    async def _ship(self, actor: str = "system", carrier: str | None = None, number: str | None = None) -> bool:
        """Claim a unique tracking number and move to shipped; False if a given number is taken."""
        params = self.state.input
        rng = workflow.random()
        for _ in range(5):
            chosen_carrier = carrier or rng.choice(tracking.CARRIERS)
            chosen = number or tracking.tracking_number(chosen_carrier, rng)
            claimed = await workflow.execute_activity_method(FulfillmentActivities.claim_tracking, TrackingClaim(
                tracking_number=chosen, carrier=chosen_carrier, order_id=params.order_id,
                supplier_order_id=params.plan.supplier_order_id), **_QUICK)
            if claimed:
                await self._check_stop()  # a cancel that came while the number was claimed still wins
                self.state.shipment = Shipment(carrier=chosen_carrier, tracking_number=chosen,
                                               shipped_at=workflow.now())
                await self._move(S.SHIPPED, actor, f"{chosen_carrier} {chosen}")
                return True
            if number:
                self.state.note = f"tracking number {number} belongs to another shipment"
                return False
        raise ApplicationError("no unique tracking number after 5 draws")

    async def _deliver(self, actor: str = "system") -> None:
        await workflow.execute_activity_method(FulfillmentActivities.fulfil_stock, self._settlement(), **_QUICK)
        await self._move(S.DELIVERED, actor)

    # --- strategies -------------------------------------------------------------------------

    async def _timed(self, settings: FulfillmentSettings) -> None:
        await self._move(S.IN_PRODUCTION)
        await self._wait(settings.stage_seconds)
        await self._ship()
        await workflow.sleep(timedelta(seconds=settings.stage_seconds))  # in transit: too late to stop
        await self._deliver()

    async def _dropship(self, settings: FulfillmentSettings) -> None:
        plan = self.state.input.plan
        skus: dict[str, int] = {}
        for line in plan.lines:
            skus[line.blank_sku] = skus.get(line.blank_sku, 0) + line.quantity
        try:
            ack = await workflow.execute_activity_method(
                FulfillmentActivities.submit_to_supplier,
                SupplierSubmission(supplier_order_id=plan.supplier_order_id, supplier=plan.supplier,
                                   behaviour=plan.behaviour, skus=skus),
                start_to_close_timeout=timedelta(seconds=settings.supplier_timeout_seconds),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                                         maximum_attempts=settings.supplier_attempts,
                                         non_retryable_error_types=[SUPPLIER_REJECTED]))
        except ActivityError as exc:
            cause = exc.cause
            reason = (cause.message if isinstance(cause, ApplicationError) and cause.type == SUPPLIER_REJECTED
                      else f"{plan.supplier} did not answer after {settings.supplier_attempts} attempts")
            self.stop = self.stop or Reject(actor="system", reason=reason)
            await self._check_stop()
            return
        await self._move(S.ACCEPTED, "system", f"supplier reference {ack.supplier_reference}")
        await self._check_stop()
        await self._timed(settings)

    async def _manual(self) -> None:
        while self.state.status not in FINAL:
            if self.advances:
                await self._check_stop()
            else:
                await self._wait(None, for_advance=True)
            if self.advances:
                request = self.advances.pop(0)
                why = stages.refusal(self.state.strategy, self.state.status, request.to)
                if why:
                    self.state.note = why
                elif request.to == S.SHIPPED:
                    await self._ship(request.actor, request.carrier, request.tracking_number)
                elif request.to == S.DELIVERED:
                    await self._deliver(request.actor)
                else:
                    await self._move(request.to, request.actor)

    @workflow.run
    async def run(self, params: SupplierOrderInput) -> SupplierOrderView:
        s = self.state
        s.started_at = s.updated_at = workflow.now()
        settings = await workflow.execute_activity_method(FulfillmentActivities.load_settings, **_QUICK)
        route = Strategy(params.plan.strategy)
        manual = settings.manual or params.plan.supplier in settings.manual_suppliers
        s.strategy = Strategy.MANUAL if manual else route
        workflow.upsert_search_attributes([STRATEGY_ATTRIBUTE.value_set(s.strategy.value)])
        await self._move(S.PENDING, "system", f"{s.strategy.value} fulfillment by {params.plan.supplier}")
        try:
            await self._check_stop()
            if s.strategy == Strategy.SIMULATED:
                await self._timed(settings)
            elif s.strategy == Strategy.DROPSHIP:
                await self._dropship(settings)
            else:
                await self._manual()
        except _Stopped:
            pass
        return self._view()


@workflow.defn
class FulfillmentWorkflow:
    @workflow.init
    def __init__(self, params: FulfillmentInput) -> None:
        self.params = params
        self.supplier_orders: dict[str, SupplierOrderView] = {}
        self.children: dict[str, workflow.ChildWorkflowHandle] = {}
        self.cancel_request: CancelFulfillment | None = None
        self.outbox: list[SupplierOrderReport] = []  # reports for the order, oldest first

    @workflow.query
    def view(self) -> FulfillmentView:
        return FulfillmentView(order_id=self.params.order_id, confirmation_code=self.params.confirmation_code,
                               supplier_orders=[self.supplier_orders[p.supplier_order_id]
                                                for p in self.params.supplier_orders
                                                if p.supplier_order_id in self.supplier_orders],
                               cancel_requested=self.cancel_request is not None)

    @staticmethod
    def _report(view: SupplierOrderView) -> SupplierOrderReport:
        last = view.history[-1] if view.history else None
        return SupplierOrderReport(
            supplier_order_id=view.supplier_order_id, status=view.status, seq=len(view.history),
            strategy=view.strategy, at=view.updated_at, actor=last.actor if last else "system",
            note=last.note if last else None, shipment=view.shipment)

    async def _tell_order(self, report: SupplierOrderReport) -> None:
        try:
            await workflow.get_external_workflow_handle(self.params.order_workflow_id).signal(
                OrderReports.supplier_order_changed, report)
        except Exception as exc:  # the order already closed; the tree here still has it
            workflow.logger.warning("could not tell %s: %s", self.params.order_workflow_id, exc)

    @workflow.signal
    async def supplier_order_changed(self, view: SupplierOrderView) -> None:
        if workflow.patched(ORDERED_REPORTS_PATCH):
            known = self.supplier_orders.get(view.supplier_order_id)
            if known is None or len(view.history) > len(known.history):  # never an older view over a newer
                self.supplier_orders[view.supplier_order_id] = view
                self.outbox.append(self._report(view))  # the run loop forwards it, after those before it
            return
        self.supplier_orders[view.supplier_order_id] = view
        report = self._report(view).model_copy(update={"seq": 0})  # as released: unnumbered
        await self._tell_order(report)

    @workflow.signal
    async def cancel(self, request: CancelFulfillment) -> None:
        if self.cancel_request is not None:
            return
        self.cancel_request = request
        for handle in list(self.children.values()):
            await handle.signal(SupplierOrderWorkflow.cancel, request)

    async def _forward_until_done(self, children: asyncio.Future) -> None:
        """Tell the order each report in turn until every supplier order has ended and been told."""
        while True:
            await workflow.wait_condition(lambda: bool(self.outbox) or children.done())
            while self.outbox:
                await self._tell_order(self.outbox.pop(0))
            if children.done() and not self.outbox:
                return

    @workflow.run
    async def run(self, params: FulfillmentInput) -> FulfillmentView:
        ordered = workflow.patched(ORDERED_REPORTS_PATCH)  # first, so the handlers see the same answer
        for plan in params.supplier_orders:
            handle = await workflow.start_child_workflow(
                SupplierOrderWorkflow.run,
                SupplierOrderInput(order_id=params.order_id, confirmation_code=params.confirmation_code,
                                   parent_workflow_id=workflow.info().workflow_id, stock_owner=params.stock_owner,
                                   plan=plan),
                id=supplier_order_workflow_id(plan.supplier_order_id))
            self.children[plan.supplier_order_id] = handle
            if self.cancel_request is not None:
                await handle.signal(SupplierOrderWorkflow.cancel, self.cancel_request)
        children = asyncio.gather(*self.children.values())
        if ordered:
            await self._forward_until_done(children)
        await children
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()
