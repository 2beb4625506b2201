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

Exchanges (exchanges.py): approving one commits the replacement's units under the exchange's
own stock owner and charges a price increase (authorized and captured on a payment of its own);
the replacement ships as a supplier order of its own through fulfillment, which reports it here
(`supplier_order_changed`, as it reports an order's), on receipt or at once when the shop trusts
the shopper. A rejected or expired return gives the units and the charge back; a price fall is
refunded by the order with the return's refund. The workflow stays until the replacement has
been delivered (or stopped), so its reports land.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domains.fulfillment.messages import SupplierOrderReport
    from domains.payments.port import AUTHORIZED, AuthorizeRequest, CaptureRequest, PaymentRefundRequest, VoidRequest
    from domains.shared import OrderLine
    from infra.activity_options import ActivityOptions

    from ..fulfillment import tracking
    from ..fulfillment.signals import SUPPLIER_ORDER_CHANGED
    from . import exchanges, lifecycle, money
    from .activities import ExchangeHold, LabelClaim, ReplacementStart, ReturnActivities, ReturnSnapshot
    from .emails import ReturnEmail, ReturnEmailKind
    from .errors import ReturnErrorCode
    from .messages import (
        FINAL,
        REFUND_ROLES,
        RETURN_CHANGED,
        ApproveReturn,
        ExchangeCharge,
        MarkInTransit,
        ReceiveReturn,
        RefundReturn,
        RefundReturnRequest,
        RejectReturn,
        Replacement,
        ReturnHistoryEntry,
        ReturnInput,
        ReturnLine,
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
REPLACEMENT_ENDED = frozenset({"delivered", "rejected", "cancelled"})


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
                                  exchange_variant_id=li.exchange_variant_id,
                                  exchange_options=li.exchange.options if li.exchange else {},
                                  exchange_unit_price=li.exchange.unit_price if li.exchange else None,
                                  restocked=li.restocked, damaged=li.damaged, missing=li.missing) for li in s.lines],
            note=p.note, label_tracking_number=s.label_tracking_number, label_carrier=s.label_carrier,
            parcel_tracking_number=s.parcel_tracking_number, ship_by=s.ship_by, created_at=p.created_at,
            updated_at=s.updated_at, refund_amount=s.refund_amount, restocking_fee=s.restocking_fee,
            needs_manager=s.needs_manager, history=list(s.history),
            exchange_difference=exchanges.difference(s.lines),
            exchange_charged=s.exchange_charge.amount - s.exchange_charge.refunded if s.exchange_charge else 0,
            replacement=s.replacement,
            can_approve=lifecycle.can_move(s.status, S.APPROVED), can_reject=lifecycle.can_move(s.status, S.REJECTED),
            can_mark_in_transit=lifecycle.can_move(s.status, S.IN_TRANSIT),
            can_receive=lifecycle.can_move(s.status, S.RECEIVED), can_refund=s.status == S.RECEIVED)

    def _summary(self) -> ReturnSummary:
        s = self.state
        return ReturnSummary(return_id=self.input.return_id, status=s.status, refund_amount=s.refund_amount,
                             lines={li.line_id: li.quantity for li in s.lines}, updated_at=s.updated_at,
                             replacement=s.replacement)

    @workflow.query
    def view(self) -> ReturnView:
        return self._view()

    # --- staff and shopper actions ---------------------------------------------------------

    @workflow.update
    async def approve(self, request: ApproveReturn) -> ReturnView:
        async with self.lock:
            self._check_approve(request)
            await self._approve(request.actor, request.note or None, request.payment_method)
            return self._view()

    @approve.validator
    def _check_approve(self, request: ApproveReturn) -> None:
        lifecycle.check_move(self.state.status, S.APPROVED, "approve")
        difference = exchanges.difference(self.state.lines)
        if difference > 0 and not (request.payment_method or self.input.payment_method):
            raise _refuse(ReturnErrorCode.PAYMENT_REQUIRED,
                          f"the exchange costs {difference} {self.input.money.currency} more: approve it with a "
                          "payment method")

    async def _approve(self, actor: str, note: str | None, payment_method: str | None) -> None:
        """Hold (and charge) the exchange first: a refusal leaves the return requested."""
        await self._hold_exchange(actor, payment_method or self.input.payment_method)
        self._move(S.APPROVED, actor, note)
        await self._issue_label()
        if self.state.exchange_held and self.input.policy.exchange_ships_at_once:
            await self._ship_replacement(actor, "the shop ships exchanges at once")

    @workflow.update
    async def reject(self, request: RejectReturn) -> ReturnView:
        async with self.lock:
            self._check_reject(request)
            self._move(S.REJECTED, request.actor, request.reason)
            await self._give_exchange_back(request.actor, "the return was rejected")
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
            await self._settle_exchange_on_receipt(request.actor)
            refunded = self._refunded_lines()
            s.restocking_fee = money.restocking_fee(refunded, self.input.money, self.input.policy)
            amount = money.estimate(refunded, self.input.money, self.input.policy) + self._credit()
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
        refunded = {li.line_id for li in self._refunded_lines()}  # an exchanged line is replaced, not refunded
        request = RefundReturnRequest(
            return_id=p.return_id, actor=actor,
            lines={li.line_id: money.arrived(li) if li.line_id in refunded else 0 for li in s.lines},
            restock=restock, fee=s.restocking_fee, include_shipping=p.policy.refund_shipping_on_return and
            bool(refunded), credit=self._credit())
        done = await workflow.execute_activity_method(ReturnActivities.refund_through_order,
                                                      args=[request, p.order_workflow_id], **_QUICK)
        s.refund_amount, s.needs_manager = done.amount, False
        s.exchange_refund = min(request.credit, done.amount)
        self._move(S.REFUNDED, actor, f"refunded {done.amount} {p.money.currency}"
                   + (f" less a restocking fee of {s.restocking_fee}" if s.restocking_fee else ""))
        self._move(S.CLOSED, actor)

    # --- exchanges (exchanges.py) -------------------------------------------------------------

    def _refunded_lines(self) -> list[ReturnLine]:
        """The lines refunded as goods: all but the exchanged ones (all, when the exchange is off)."""
        s = self.state
        return [li for li in s.lines if li.exchange is None or s.exchange_off]

    def _credit(self) -> int:
        """An exchange's price fall, refunded as money with the return's refund."""
        s = self.state
        return 0 if s.exchange_off else max(0, -exchanges.difference(s.lines))

    def _replacement_travelling(self) -> bool:
        r = self.state.replacement
        return r is not None and r.status not in REPLACEMENT_ENDED

    async def _hold_exchange(self, actor: str, payment_method: str | None) -> None:
        """Commit the replacement's units, then charge a price increase; a refusal gives back what was taken."""
        s, p = self.state, self.input
        units = exchanges.units(s.lines)
        if not units or s.exchange_held:
            return
        owner = exchanges.stock_owner(p.return_id)
        short = await workflow.execute_activity_method(ReturnActivities.hold_exchange,
                                                       ExchangeHold(owner=owner, units=units), **_QUICK)
        if short:
            raise _refuse(ReturnErrorCode.VARIANT_NOT_EXCHANGEABLE, "the replacement is out of stock: "
                          + ", ".join(f"{sku} short {n}" for sku, n in sorted(short.items())))
        s.exchange_held = True
        self._record(actor, note="replacement held: " + ", ".join(f"{sku} x{n}" for sku, n in sorted(units.items())))
        difference = exchanges.difference(s.lines)
        if difference <= 0:
            return
        try:
            await self._charge(difference, payment_method or "")
        except ApplicationError:
            await self._give_exchange_back(actor, "its price increase could not be charged")
            raise

    async def _charge(self, amount: int, payment_method: str) -> None:
        s, p = self.state, self.input
        s.charge_attempts += 1
        key = f"{p.return_id}-exchange-{s.charge_attempts}"
        try:
            auth = await workflow.execute_activity_method(ReturnActivities.authorize_exchange, AuthorizeRequest(
                idempotency_key=f"{key}-authorize", payment_method=payment_method, amount=amount,
                currency=p.money.currency), start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=10)))
        except ActivityError as exc:
            why = exc.cause.message if isinstance(exc.cause, ApplicationError) else str(exc.cause or exc)
            self._record("system", note=f"the exchange's payment was refused: {why}")
            raise _refuse(ReturnErrorCode.PAYMENT_FAILED, f"the exchange's payment was refused: {why}") from None
        if auth.status != AUTHORIZED:
            await workflow.execute_activity_method(ReturnActivities.void_exchange, VoidRequest(
                payment_id=auth.payment_id, idempotency_key=f"{key}-void"), **_QUICK)
            raise _refuse(ReturnErrorCode.PAYMENT_FAILED,
                          "the exchange's payment needs the shopper's action; use another payment method")
        await workflow.execute_activity_method(ReturnActivities.capture_exchange, CaptureRequest(
            payment_id=auth.payment_id, amount=amount, idempotency_key=f"{key}-capture", final=True), **_QUICK)
        s.exchange_charge = ExchangeCharge(payment_id=auth.payment_id, amount=amount)
        self._record("system", note=f"charged {amount} {p.money.currency} for the exchange ({auth.payment_id})")

    async def _give_exchange_back(self, actor: str, why: str) -> None:
        """Release the held replacement and refund its charge, unless the replacement has shipped."""
        s, p = self.state, self.input
        if s.replacement is not None:
            if why:
                self._record(actor, note=f"{why}; the replacement {s.replacement.supplier_order_id} had already "
                                         "been sent: staff settle it with the shopper")
            return
        if s.exchange_held:
            await workflow.execute_activity_method(ReturnActivities.release_exchange,
                                                   exchanges.stock_owner(p.return_id), **_QUICK)
            s.exchange_held = False
            self._record(actor, note=f"{why}: the replacement's stock was released")
        charge = s.exchange_charge
        if charge is not None and charge.amount > charge.refunded:
            left = charge.amount - charge.refunded
            await workflow.execute_activity_method(ReturnActivities.refund_exchange, PaymentRefundRequest(
                payment_id=charge.payment_id, amount=left, idempotency_key=f"{p.return_id}-exchange-refund"),
                **_QUICK)
            charge.refunded += left
            self._record(actor, note=f"refunded the exchange's {left} {p.money.currency}")

    async def _settle_exchange_on_receipt(self, actor: str) -> None:
        """The parcel is in: ship the replacement, or, if an exchanged unit is missing, call the exchange
        off (stock and charge back; the lines are refunded as a plain return)."""
        s = self.state
        if not s.exchange_held or s.replacement is not None:
            return
        if exchanges.came_back_whole(s.lines):
            await self._ship_replacement(actor, "the return arrived")
            return
        await self._give_exchange_back(actor, "an exchanged item did not come back")
        s.exchange_off = True

    async def _ship_replacement(self, actor: str, why: str) -> None:
        s, p = self.state, self.input
        lines = [OrderLine(variant_id=ex.variant_id, product_id=ex.product_id, product_name=ex.product_name,
                           options=ex.options, blank_sku=ex.blank_sku, quantity=li.quantity, unit_price=ex.unit_price,
                           line_total=ex.unit_price * li.quantity, line_id=li.line_id)
                 for li in s.lines if (ex := li.exchange) is not None]
        so_id = exchanges.replacement_id(p.return_id)
        supplier = await workflow.execute_activity_method(ReturnActivities.ship_replacement, ReplacementStart(
            workflow_id=exchanges.fulfillment_id(p.workflow_id), supplier_order_id=so_id, order_id=p.order_id,
            confirmation_code=p.confirmation_code, return_workflow_id=p.workflow_id,
            stock_owner=exchanges.stock_owner(p.return_id), lines=lines), **_QUICK)
        s.replacement = Replacement(supplier_order_id=so_id, status="pending", updated_at=workflow.now())
        self._record(actor, note=f"{why}: replacement {so_id} sent to {supplier}")

    @workflow.signal(name=SUPPLIER_ORDER_CHANGED)  # fulfillment's report (OrderReports), for the replacement
    def supplier_order_changed(self, report: SupplierOrderReport) -> None:
        r = self.state.replacement
        if r is None or report.supplier_order_id != r.supplier_order_id:
            return
        if report.seq and report.seq <= r.report_seq:
            return  # a late or repeated report
        r.report_seq = max(r.report_seq, report.seq)
        r.status, r.updated_at = report.status.value, report.at
        r.shipment = report.shipment or r.shipment
        if report.status.value in ("rejected", "cancelled"):
            self.state.exchange_held = False  # fulfillment gave the units back
        self._record(report.actor, note=f"replacement {r.supplier_order_id} {report.status.value}"
                     + (f": {report.note}" if report.note else ""))

    async def _expire(self) -> None:
        async with self.lock:
            s = self.state
            if s.status != S.LABEL_ISSUED or s.ship_by is None or workflow.now() < s.ship_by:
                return  # on its way after all
            self._move(S.EXPIRED, "system", f"not shipped back by {s.ship_by:%Y-%m-%d}")
            await self._give_exchange_back("system", "the return expired")
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
        try:
            await workflow.get_external_workflow_handle(self.input.order_workflow_id).signal(
                RETURN_CHANGED, self._summary())
        except Exception as exc:  # the order has closed (a replacement still travelling): the store has it
            workflow.logger.warning("return %s could not tell its order: %s", self.input.return_id, exc)

    @workflow.run
    async def run(self, params: ReturnInput) -> ReturnView:
        s = self.state
        reasons = {li.reason.value for li in s.lines}
        pays = exchanges.difference(s.lines) <= 0 or bool(params.payment_method)
        if reasons <= set(params.policy.auto_approve_reasons) and pays:
            async with self.lock:
                if s.status == S.REQUESTED:
                    try:
                        await self._approve("system", "approved by the shop's rule for " + ", ".join(sorted(reasons)),
                                            None)
                    except ApplicationError as exc:  # the exchange could not be held or paid: staff decide
                        self._record("system", note=f"not approved by the shop's rule: {exc.message}")
        while True:
            timeout = None
            if s.status == S.LABEL_ISSUED and s.ship_by is not None:
                timeout = max(s.ship_by - workflow.now(), timedelta(0))
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: s.dirty or (s.status in FINAL and not self._replacement_travelling()), timeout=timeout)
            if s.status == S.LABEL_ISSUED and s.ship_by is not None and workflow.now() >= s.ship_by:
                await self._expire()
            if s.dirty:
                await self._save()
            if s.status in FINAL and not self._replacement_travelling():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not s.dirty:
                    break
        return self._view()
