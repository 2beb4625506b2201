"""The return workflow: one per return (`return-{order}-{n}`), started by its order, not its child.

requested -> approved (at once when the shop's auto_approve_reasons cover every line's reason,
else by staff) or rejected -> label_issued (a tracking number claimed unique beside the shipments')
-> in_transit (the parcel's tracking number) -> received (per line: restock, damaged, missing) ->
refunded -> closed; or expired, when no parcel is on its way `return_ship_days` after the label.

Every staff or shopper move is an update whose validator refuses an illegal move (naming both
states) before it reaches history. The refund is the order's (`refund_return`, called from an
activity by name): the order keeps the cap over all of its refunds. A refund above the shop's
support_refund_limit waits in `received` (needs_manager) for a manager or owner. After each
change the run loop saves the read model and tells the order (`return_changed`, a ReturnSummary).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from ..fulfillment import tracking
    from . import lifecycle, money
    from .activities import LabelClaim, ReturnActivities, ReturnSnapshot
    from .emails import ReturnEmail, ReturnEmailKind
    from .errors import ReturnErrorCode
    from .messages import (
        FINAL,
        REFUND_ROLES,
        RETURN_CHANGED,
        ApproveReturn,
        MarkInTransit,
        ReceiveReturn,
        RefundReturn,
        RefundReturnRequest,
        RejectReturn,
        ReturnHistoryEntry,
        ReturnInput,
        ReturnLineView,
        ReturnState,
        ReturnSummary,
        ReturnView,
    )
    from .messages import ReturnStatus as S

_QUICK: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=10))}
_EMAIL: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "schedule_to_close_timeout": timedelta(minutes=10),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
LABEL_CARRIER = "USPS"  # return labels are the shop's: one carrier


def _refuse(code: ReturnErrorCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, params: ReturnInput) -> None:
        self.input = params
        self.state = ReturnState(lines=[li.model_copy() for li in params.lines], updated_at=params.created_at)
        self.lock = asyncio.Lock()
        self._record(params.actor, to_status=S.REQUESTED, note=params.note or None, at=params.created_at)

    # --- history ----------------------------------------------------------------------------

    def _record(self, actor: str, *, from_status: S | None = None, to_status: S | None = None,
                note: str | None = None, at: datetime | None = None) -> None:
        s = self.state
        at = at or workflow.now()
        s.history.append(ReturnHistoryEntry(seq=len(s.history) + 1, at=at, actor=actor, from_status=from_status,
                                            to_status=to_status, note=note))
        s.updated_at = at
        s.dirty = True

    def _move(self, target: S, actor: str, note: str | None = None) -> None:
        lifecycle.check_move(self.state.status, target, target.value)
        self._record(actor, from_status=self.state.status, to_status=target, note=note)
        self.state.status = target

    # --- view ---------------------------------------------------------------------------

    def _view(self) -> ReturnView:
        p, s = self.input, self.state
        return ReturnView(
            return_id=p.return_id, workflow_id=p.workflow_id, order_id=p.order_id,
            confirmation_code=p.confirmation_code, email=p.email, status=s.status, currency=p.money.currency,
            lines=[ReturnLineView(line_id=li.line_id, variant_id=li.variant_id, product_name=li.product_name,
                                  options=li.options, unit_price=li.unit_price, quantity=li.quantity, reason=li.reason,
                                  exchange_variant_id=li.exchange_variant_id, restocked=li.restocked,
                                  damaged=li.damaged, missing=li.missing) for li in s.lines],
            note=p.note, label_tracking_number=s.label_tracking_number, label_carrier=s.label_carrier,
            parcel_tracking_number=s.parcel_tracking_number, ship_by=s.ship_by, created_at=p.created_at,
            updated_at=s.updated_at, refund_amount=s.refund_amount, restocking_fee=s.restocking_fee,
            needs_manager=s.needs_manager, history=list(s.history),
            can_approve=lifecycle.can_move(s.status, S.APPROVED), can_reject=lifecycle.can_move(s.status, S.REJECTED),
            can_mark_in_transit=lifecycle.can_move(s.status, S.IN_TRANSIT),
            can_receive=lifecycle.can_move(s.status, S.RECEIVED), can_refund=s.status == S.RECEIVED)

    def _summary(self) -> ReturnSummary:
        s = self.state
        return ReturnSummary(return_id=self.input.return_id, status=s.status, refund_amount=s.refund_amount,
                             lines={li.line_id: li.quantity for li in s.lines}, updated_at=s.updated_at)

    @workflow.query
    def view(self) -> ReturnView:
        return self._view()

    # --- staff and shopper actions ---------------------------------------------------------

    @workflow.update
    async def approve(self, request: ApproveReturn) -> ReturnView:
        async with self.lock:
            self._check_approve(request)
            self._move(S.APPROVED, request.actor, request.note or None)
            await self._issue_label()
            return self._view()

    @approve.validator
    def _check_approve(self, request: ApproveReturn) -> None:
        lifecycle.check_move(self.state.status, S.APPROVED, "approve")

    @workflow.update
    def reject(self, request: RejectReturn) -> ReturnView:
        self._check_reject(request)
        self._move(S.REJECTED, request.actor, request.reason)
        return self._view()

    @reject.validator
    def _check_reject(self, request: RejectReturn) -> None:
        lifecycle.check_move(self.state.status, S.REJECTED, "reject")

    @workflow.update
    async def mark_in_transit(self, request: MarkInTransit) -> ReturnView:
        async with self.lock:
            self._check_in_transit(request)
            number = request.tracking_number.strip().upper()
            carrier = request.carrier.strip() or "unknown"
            if not await workflow.execute_activity_method(ReturnActivities.claim_tracking, LabelClaim(
                    tracking_number=number, carrier=carrier, order_id=self.input.order_id,
                    owner=self.input.return_id), **_QUICK):
                raise _refuse(ReturnErrorCode.TRACKING_TAKEN,
                              f"tracking number {number} belongs to another shipment or return")
            self.state.parcel_tracking_number, self.state.parcel_carrier = number, carrier
            self._move(S.IN_TRANSIT, request.actor, f"{carrier} {number}")
            return self._view()

    @mark_in_transit.validator
    def _check_in_transit(self, request: MarkInTransit) -> None:
        lifecycle.check_move(self.state.status, S.IN_TRANSIT, "mark in transit")

    @workflow.update
    async def receive(self, request: ReceiveReturn) -> ReturnView:
        async with self.lock:
            self._check_receive(request)
            s = self.state
            for line in s.lines:
                got = request.lines[line.line_id]
                line.restocked, line.damaged, line.missing = got.restock, got.damaged, got.missing
            outcome = "; ".join(f"{li.line_id}: {li.restocked} restock, {li.damaged} damaged, {li.missing} missing"
                                for li in s.lines)
            self._move(S.RECEIVED, request.actor, outcome + (f" ({request.note})" if request.note else ""))
            s.restocking_fee = money.restocking_fee(s.lines, self.input.money, self.input.policy)
            amount = money.estimate(s.lines, self.input.money, self.input.policy)
            if amount > self.input.policy.support_refund_limit and request.actor_role not in REFUND_ROLES:
                s.needs_manager = True
                self._record(request.actor, note=f"a refund of {amount} {self.input.money.currency} is above the "
                                                 "support limit: a manager or owner refunds it")
            else:
                await self._refund(request.actor)
            return self._view()

    @receive.validator
    def _check_receive(self, request: ReceiveReturn) -> None:
        lifecycle.check_move(self.state.status, S.RECEIVED, "receive")
        ours = {li.line_id: li.quantity for li in self.state.lines}
        if set(request.lines) != set(ours):
            raise _refuse(ReturnErrorCode.INVALID_RETURN,
                          f"record every line of the return ({', '.join(sorted(ours))}), and only those")
        for line_id, got in request.lines.items():
            if got.total != ours[line_id]:
                raise _refuse(ReturnErrorCode.INVALID_RETURN, f"{line_id}: restock, damaged and missing add up to "
                                                              f"{got.total}, the return has {ours[line_id]}")

    @workflow.update
    async def refund(self, request: RefundReturn) -> ReturnView:
        async with self.lock:
            self._check_refund(request)
            await self._refund(request.actor)
            return self._view()

    @refund.validator
    def _check_refund(self, request: RefundReturn) -> None:
        lifecycle.check_move(self.state.status, S.REFUNDED, "refund")
        if self.state.needs_manager and request.actor_role not in REFUND_ROLES:
            raise _refuse(ReturnErrorCode.REFUND_NEEDS_MANAGER,
                          "this refund is above the support limit: a manager or owner refunds it")

    # --- the steps the return takes on its own ---------------------------------------------

    async def _issue_label(self) -> None:
        """Claim a unique tracking number for the return label; the parcel must be on its way by ship_by."""
        s, p = self.state, self.input
        rng = workflow.random()
        for _ in range(5):
            number = tracking.tracking_number(LABEL_CARRIER, rng)
            if await workflow.execute_activity_method(ReturnActivities.claim_tracking, LabelClaim(
                    tracking_number=number, carrier=LABEL_CARRIER, order_id=p.order_id, owner=p.return_id), **_QUICK):
                s.label_carrier, s.label_tracking_number = LABEL_CARRIER, number
                s.ship_by = workflow.now() + timedelta(days=p.policy.return_ship_days)
                self._move(S.LABEL_ISSUED, "system", f"{LABEL_CARRIER} {number}; ship by {s.ship_by:%Y-%m-%d}")
                return
        raise ApplicationError("no unique return tracking number after 5 draws")

    async def _refund(self, actor: str) -> None:
        """The order refunds what arrived (restocking what may be sold again), then the return closes."""
        s, p = self.state, self.input
        restock: dict[str, int] = {}
        for li in s.lines:
            if li.restocked:
                restock[li.blank_sku] = restock.get(li.blank_sku, 0) + li.restocked
        request = RefundReturnRequest(
            return_id=p.return_id, actor=actor, lines={li.line_id: money.arrived(li) for li in s.lines},
            restock=restock, fee=s.restocking_fee, include_shipping=p.policy.refund_shipping_on_return)
        done = await workflow.execute_activity_method(ReturnActivities.refund_through_order,
                                                      args=[request, p.order_workflow_id], **_QUICK)
        s.refund_amount, s.needs_manager = done.amount, False
        self._move(S.REFUNDED, actor, f"refunded {done.amount} {p.money.currency}"
                   + (f" less a restocking fee of {s.restocking_fee}" if s.restocking_fee else ""))
        self._move(S.CLOSED, actor)

    async def _expire(self) -> None:
        async with self.lock:
            s = self.state
            if s.status != S.LABEL_ISSUED or s.ship_by is None or workflow.now() < s.ship_by:
                return  # on its way after all
            self._move(S.EXPIRED, "system", f"not shipped back by {s.ship_by:%Y-%m-%d}")
            try:
                await workflow.execute_activity_method(
                    ReturnActivities.send_email, ReturnEmail(kind=ReturnEmailKind.EXPIRED, view=self._view()),
                    **_EMAIL)
                self._record("system", note="the shopper was emailed that the return expired")
            except ActivityError as exc:
                self._record("system", note=f"the expiry email could not be sent: {exc.cause or exc}")

    async def _save(self) -> None:
        s = self.state
        s.dirty = False
        s.version += 1
        await workflow.execute_activity_method(ReturnActivities.save, ReturnSnapshot(view=self._view(),
                                                                                     version=s.version), **_QUICK)
        # The order keeps its returns' summaries (its view, what is returnable, when it may close).
        await workflow.get_external_workflow_handle(self.input.order_workflow_id).signal(
            RETURN_CHANGED, self._summary())

    @workflow.run
    async def run(self, params: ReturnInput) -> ReturnView:
        s = self.state
        reasons = {li.reason.value for li in s.lines}
        if reasons <= set(params.policy.auto_approve_reasons):
            async with self.lock:
                if s.status == S.REQUESTED:
                    self._move(S.APPROVED, "system", "approved by the shop's rule for " + ", ".join(sorted(reasons)))
                    await self._issue_label()
        while True:
            timeout = None
            if s.status == S.LABEL_ISSUED and s.ship_by is not None:
                timeout = max(s.ship_by - workflow.now(), timedelta(0))
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: s.dirty or s.status in FINAL, timeout=timeout)
            if s.status == S.LABEL_ISSUED and s.ship_by is not None and workflow.now() >= s.ship_by:
                await self._expire()
            if s.dirty:
                await self._save()
            if s.status in FINAL:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not s.dirty:
                    break
        return self._view()
