"""The checkout workflow: a child of the cart with guarded steps and a placement saga.

shipping -> payment -> review -> placing -> complete. Shipping and payment can be
revisited from later steps; anything else is refused with an error naming the current
step. Placing charges with an idempotency key, confirms the stock, writes the order and
starts its workflow; a business failure on the way undoes what was done (refund,
give the stock back) and returns the shopper to payment with an error to act on.
Inactivity cancels the checkout; the cart learns every outcome by signal.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domains.checkout.messages import (
        CHECKOUT_CLOSED,
        INVALID_STEP,
        CartChanged,
        CheckoutEnded,
        CheckoutError,
        CheckoutInput,
        CheckoutOutcome,
        CheckoutState,
        CheckoutView,
        PlaceOrder,
        QuoteRequest,
        Step,
    )
    from domains.orders.messages import OrderRecord
    from domains.payments.errors import PaymentErrorCode
    from domains.payments.messages import Charge, ChargeRequest, RefundRequest
    from domains.payments.port import AUTHORIZED, AuthorizeRequest, VoidRequest
    from domains.shared import Address, CartView
    from infra.activity_options import ActivityOptions

    from ..orders.ids import CONFIRMATION_ALPHABET, CONFIRMATION_LENGTH
    from .activities import CONFIRMATION_TAKEN, CheckoutActivities
    from .errors import CheckoutErrorCode
    from .signals import CartReports

_QUICK = ActivityOptions(start_to_close_timeout=timedelta(seconds=30),
                         retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)))
_PAYMENT = ActivityOptions(start_to_close_timeout=timedelta(seconds=10),
                           retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                                    maximum_interval=timedelta(seconds=10), maximum_attempts=5))
# A payment call that fails for want of a backend (the provider, or the write store that records
# it, down or restarting) is tried again for up to PAYMENT_PATIENCE before the checkout goes back
# to the payment step. Five attempts (about 15 s) turned a Cassandra restart (about a minute)
# during a submit into "payment failed": the shopper's retried submit, answered 503 until then,
# met 409 invalid_step (tests/test_cluster_faults.py). Refusals (a decline, a bad token) are
# non-retryable and end at once, as before. Older histories keep the five attempts.
PAYMENT_PATIENCE_PATCH = "payment-rides-out-outages"
PAYMENT_PATIENCE = timedelta(minutes=5)
_PAYMENT_PATIENT = ActivityOptions(start_to_close_timeout=timedelta(seconds=10),
                                   schedule_to_close_timeout=PAYMENT_PATIENCE,
                                   retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                            backoff_coefficient=2.0,
                                                            maximum_interval=timedelta(seconds=10)))


# Placement asks which payment flow the shop uses (COMMERCE_PAYMENT_FLOW): `authorize` holds the
# money through the payments port and the order captures it at shipment; `charge` (and every
# history recorded before this patch) charges through the simulated gateway at once.
AUTHORIZE_PATCH = "payments-authorize-at-placement"


def _cause(exc: BaseException) -> ApplicationError | None:
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    return cause if isinstance(cause, ApplicationError) else None


def _contents(cart: CartView) -> tuple:
    """What the shopper would notice of a cart: its lines, quantities, prices and coupon. The
    version is not it: beginning the checkout itself raises the version once, and a change
    undone is no change."""
    return (tuple((li.variant_id, li.quantity, li.unit_price) for li in cart.lines), cart.coupon, cart.discount)


@workflow.defn
class CheckoutWorkflow:
    @workflow.init
    def __init__(self, params: CheckoutInput) -> None:
        self.state = CheckoutState(input=params, cart=params.cart, cart_version_at_start=params.cart.version)
        self.lock = asyncio.Lock()
        self.touched = 0
        self.stale_quote = False  # the cart changed after the last shipping/tax quote

    # --- view -------------------------------------------------------------------------

    def _view(self) -> CheckoutView:
        s, cart = self.state, self.state.cart
        goods = cart.subtotal - cart.discount
        quote = s.quote
        return CheckoutView(
            id=s.input.checkout_id, cart_id=s.input.cart_id, step=s.step, cart_version=cart.version,
            cart_changed=_contents(cart) != _contents(s.input.cart),
            lines=[line.model_dump() for line in cart.lines], currency=cart.currency,
            subtotal=cart.subtotal, discount=cart.discount,
            shipping=quote.shipping if quote else None, tax=quote.tax if quote else None,
            total=goods + quote.shipping + quote.tax if quote else None,
            shipping_address=s.address,
            payment_method=(s.token[:4] + "…" + s.token[-4:]) if s.token else None,
            error=s.error, order_id=s.order_id, confirmation_code=s.confirmation_code,
            started_at=s.started_at or workflow.now(), last_activity=s.last_activity or workflow.now(),
        )

    @workflow.query
    def view(self) -> CheckoutView:
        return self._view()

    # --- guards -----------------------------------------------------------------------

    def _guard(self, action: str, allowed: tuple[Step, ...]) -> None:
        step = self.state.step
        if step in (Step.COMPLETE, Step.CANCELLED):
            raise ApplicationError(f"this checkout is {step.value}", {"step": step.value},
                                   type=CHECKOUT_CLOSED, non_retryable=True)
        if step not in allowed:
            raise ApplicationError(f"cannot {action} at the {step.value} step", {"step": step.value},
                                   type=INVALID_STEP, non_retryable=True)

    def _touched(self) -> CheckoutView:
        self.state.last_activity = workflow.now()
        self.touched += 1
        return self._view()

    async def _requote(self) -> None:
        if self.state.address is not None:
            cart = self.state.cart
            self.state.quote = await workflow.execute_activity_method(
                CheckoutActivities.quote, QuoteRequest(address=self.state.address, goods=cart.subtotal - cart.discount),
                **_QUICK)

    # --- steps ------------------------------------------------------------------------

    @workflow.update
    async def set_shipping(self, address: Address) -> CheckoutView:
        async with self.lock:
            self._guard("set the shipping address", (Step.SHIPPING, Step.PAYMENT, Step.REVIEW))
            self.state.address = address
            await self._requote()
            self.state.step = Step.REVIEW if self.state.token else Step.PAYMENT
            self.state.error = None
            return self._touched()

    @set_shipping.validator
    def _check_shipping(self, address: Address) -> None:
        self._guard("set the shipping address", (Step.SHIPPING, Step.PAYMENT, Step.REVIEW))

    @workflow.update
    async def set_payment(self, token: str) -> CheckoutView:
        async with self.lock:
            self._guard("set the payment method", (Step.PAYMENT, Step.REVIEW))
            self.state.token = token
            self.state.step = Step.REVIEW
            self.state.error = None
            return self._touched()

    @set_payment.validator
    def _check_payment(self, token: str) -> None:
        self._guard("set the payment method", (Step.PAYMENT, Step.REVIEW))
        if not token or len(token) > 100:
            raise ApplicationError("a payment token is needed", type=INVALID_STEP, non_retryable=True)

    @workflow.update
    async def go_to(self, step: Step) -> CheckoutView:
        """Back-navigation: from a later step to shipping or payment."""
        async with self.lock:
            if step not in (Step.SHIPPING, Step.PAYMENT):
                raise ApplicationError(f"cannot go to {step.value}", {"step": self.state.step.value},
                                       type=INVALID_STEP, non_retryable=True)
            self._guard(f"go back to {step.value}",
                        (Step.PAYMENT, Step.REVIEW) if step == Step.SHIPPING else (Step.REVIEW,))
            self.state.step = step
            return self._touched()

    @workflow.update
    async def submit(self) -> CheckoutView:
        async with self.lock:
            self._guard("place the order", (Step.REVIEW,))
            self.state.step = Step.PLACING
            self.state.error = None
            await self._place()
            return self._touched()

    @submit.validator
    def _check_submit(self) -> None:
        self._guard("place the order", (Step.REVIEW,))

    @workflow.update
    async def cancel(self) -> CheckoutView:
        async with self.lock:
            self._guard("cancel", (Step.SHIPPING, Step.PAYMENT, Step.REVIEW))
            await self._end(CheckoutOutcome.CANCELLED)
            return self._touched()

    @workflow.signal
    def cart_changed(self, change: CartChanged) -> None:
        if change.cart.version > self.state.cart.version:
            self.state.cart = change.cart
            self.state.last_activity = workflow.now()
            self.touched += 1
            self.stale_quote = self.state.address is not None

    # --- the placement saga -----------------------------------------------------------

    async def _place(self) -> None:
        s = self.state
        await self._requote()  # the cart may have changed since the quote
        cart, quote, address = s.cart, s.quote, s.address
        if quote is None or address is None:
            raise RuntimeError("an order is placed only after the address step (which quotes it)")
        amount = cart.subtotal - cart.discount + quote.shipping + quote.tax
        s.payment_attempts += 1
        key = f"{s.input.checkout_id}-payment-{s.payment_attempts}"
        owner = s.input.checkout_id
        flow = "charge"
        if workflow.patched(AUTHORIZE_PATCH):
            flow = await workflow.execute_activity_method(CheckoutActivities.payment_flow, **_QUICK)
        payment = _PAYMENT_PATIENT if workflow.patched(PAYMENT_PATIENCE_PATCH) else _PAYMENT
        try:
            if flow == "authorize":
                if not await self._authorize(key, amount, cart.currency, payment):
                    return None
            else:
                s.charge = await workflow.execute_activity_method(
                    CheckoutActivities.charge,
                    ChargeRequest(idempotency_key=key, token=s.token, amount=amount, currency=cart.currency),
                    **payment)
        except ActivityError as exc:
            return self._back_to_payment(exc, "payment")
        try:
            await workflow.execute_activity_method(CheckoutActivities.confirm_stock,
                                                   args=[owner, self._held_skus()], **_QUICK)
        except ActivityError as exc:
            await self._refund("stock could not be confirmed")
            return self._back_to_payment(exc, "stock")
        order_id = str(workflow.uuid4())
        record: OrderRecord | None = None
        for _ in range(5):  # a new code on the rare collision
            code = "".join(workflow.random().choice(CONFIRMATION_ALPHABET) for _ in range(CONFIRMATION_LENGTH))
            try:
                record = await workflow.execute_activity_method(CheckoutActivities.create_order, PlaceOrder(
                    order_id=order_id, confirmation_code=code, checkout_id=owner, cart_id=s.input.cart_id,
                    customer_id=cart.shopper_id or f"guest:{address.email.lower()}", address=address,
                    cart=cart, quote=quote, charge=s.charge, authorized=s.authorized,
                    multicapture=s.multicapture), **_QUICK)
                break
            except ActivityError as exc:
                if (_cause(exc) or ApplicationError("")).type != CONFIRMATION_TAKEN:
                    raise
        if record is None:
            await workflow.execute_activity_method(CheckoutActivities.cancel_stock,
                                                   args=[owner, self._held_skus()], **_QUICK)
            await self._refund("no confirmation code could be assigned")
            s.step = Step.PAYMENT
            s.error = CheckoutError(code=CheckoutErrorCode.ORDER_FAILED,
                                    message="the order could not be created; try again", step=Step.PAYMENT)
            return
        await workflow.execute_activity_method(CheckoutActivities.start_order, record, **_QUICK)
        s.order_id, s.confirmation_code = record.order_id, record.confirmation_code
        await self._end(CheckoutOutcome.PLACED)

    async def _authorize(self, key: str, amount: int, currency: str, options: ActivityOptions) -> bool:
        """Hold the money; False (back at the payment step) when the shopper must act first."""
        s = self.state
        auth = await workflow.execute_activity_method(
            CheckoutActivities.authorize,
            AuthorizeRequest(idempotency_key=key, payment_method=s.token or "", amount=amount, currency=currency),
            **options)
        if auth.status != AUTHORIZED:
            await workflow.execute_activity_method(
                CheckoutActivities.void, VoidRequest(payment_id=auth.payment_id, idempotency_key=f"{key}-void"),
                **_QUICK)
            s.step = Step.PAYMENT
            s.error = CheckoutError(code=PaymentErrorCode.REQUIRES_ACTION, step=Step.PAYMENT,
                                    next_action=auth.next_action,
                                    message="the bank asks the shopper to confirm this payment "
                                            f"({(auth.next_action or {}).get('type', 'next action')})")
            return False
        s.charge = Charge(charge_id=auth.payment_id, idempotency_key=key, amount=auth.amount, currency=auth.currency)
        s.authorized, s.multicapture = True, auth.multicapture
        return True

    async def _refund(self, reason: str) -> None:
        charge = self.state.charge
        if charge is not None and self.state.authorized:  # nothing was captured: release the hold
            await workflow.execute_activity_method(CheckoutActivities.void, VoidRequest(
                payment_id=charge.charge_id, idempotency_key=f"{charge.idempotency_key}-void"), **_QUICK)
            self.state.charge, self.state.authorized = None, False
        elif charge is not None:
            await workflow.execute_activity_method(CheckoutActivities.refund, RefundRequest(
                idempotency_key=f"{charge.idempotency_key}-refund", charge_id=charge.charge_id,
                amount=charge.amount, reason=reason), **_QUICK)
            self.state.charge = None

    def _held_skus(self) -> list[str]:
        """The blank SKUs the cart transferred to this checkout: only their inventory shards hold
        its reservations."""
        return sorted({line.blank_sku for line in self.state.input.cart.lines})

    def _back_to_payment(self, exc: ActivityError, stage: str) -> None:
        cause = _cause(exc)
        self.state.step = Step.PAYMENT
        self.state.error = CheckoutError(
            code=cause.type if cause and cause.type else CheckoutErrorCode.PAYMENT_FAILED,
            message=cause.message if cause else f"the {stage} step failed; try again", step=Step.PAYMENT)

    async def _end(self, outcome: CheckoutOutcome) -> None:
        s = self.state
        if outcome != CheckoutOutcome.PLACED:
            await workflow.execute_activity_method(CheckoutActivities.release_stock,
                                                   args=[s.input.checkout_id, self._held_skus()], **_QUICK)
        s.step = Step.COMPLETE if outcome == CheckoutOutcome.PLACED else Step.CANCELLED
        await workflow.get_external_workflow_handle(f"cart-{s.input.cart_id}").signal(
            CartReports.checkout_ended,
            CheckoutEnded(checkout_id=s.input.checkout_id, outcome=outcome, order_id=s.order_id))

    # --- run --------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: CheckoutInput) -> CheckoutView:
        self.state.started_at = self.state.last_activity = workflow.now()
        while self.state.step not in (Step.COMPLETE, Step.CANCELLED):
            seen = self.touched
            try:
                await workflow.wait_condition(
                    lambda: self.touched != seen or self.state.step in (Step.COMPLETE, Step.CANCELLED),  # noqa: B023 (awaited in this iteration)
                    timeout=timedelta(seconds=params.settings.inactivity_seconds))
            except TimeoutError:
                async with self.lock:
                    if self.state.step in (Step.SHIPPING, Step.PAYMENT, Step.REVIEW):
                        await self._end(CheckoutOutcome.EXPIRED)
                continue
            if self.stale_quote:
                async with self.lock:
                    self.stale_quote = False
                    await self._requote()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()
