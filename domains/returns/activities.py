"""Return activities: the shop's return policy, starting a return's workflow (for the order),
claiming its label's tracking number, refunding through the order, saving the read model and
the expiry email. Each is idempotent: the workflow id is deterministic, tracking numbers are
claimed by insert-if-absent, the order's refund is idempotent by return id, rows are upserts,
an email is kept by (order, event) and sent at most once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from infra.store import Store, schema
from infra.store.retry import put_done
from infra.temporal import business_error

from ..cadences.messages import RenderedEmail
from ..identity.shop_settings import read_shop_settings
from .emails import ReturnEmail, ReturnEmailChannel
from .messages import REFUND_RETURN, RefundReturnRequest, ReturnInput, ReturnPolicy, ReturnRefunded, ReturnView
from .queue import TASK_QUEUE

WORKFLOW_TYPE = "ReturnWorkflow"  # by name: the activities module does not import the workflow's
log = logging.getLogger(__name__)


class LabelClaim(BaseModel):
    tracking_number: str
    carrier: str
    order_id: str
    owner: str  # the return id: the number is this return's


class ReturnSnapshot(BaseModel):
    view: ReturnView
    version: int


def policy_of(store: Store) -> ReturnPolicy:
    s = read_shop_settings(store)
    return ReturnPolicy(return_window_days=s.return_window_days, return_ship_days=s.return_ship_days,
                        restocking_fees=dict(s.restocking_fees), refund_shipping_on_return=s.refund_shipping_on_return,
                        auto_approve_reasons=list(s.auto_approve_reasons), support_refund_limit=s.support_refund_limit)


class ReturnActivities:
    def __init__(self, store: Store, client: Client, emails: ReturnEmailChannel | None = None):
        self.store = store
        self.client = client
        self.emails = emails  # None: a worker without mail; the email is logged, not sent

    @activity.defn
    def load_return_policy(self) -> ReturnPolicy:
        return policy_of(self.store)

    @activity.defn
    async def start_return(self, params: ReturnInput) -> ReturnView:
        """Start the return's workflow (once: a retry finds it started) and answer its view."""
        try:
            handle = await self.client.start_workflow(
                WORKFLOW_TYPE, params, id=params.workflow_id, task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            handle = self.client.get_workflow_handle(params.workflow_id)
        return await handle.query("view", result_type=ReturnView)

    @activity.defn
    def claim_tracking(self, claim: LabelClaim) -> bool:
        """True when the number is this return's (claimed now or by an earlier attempt). Returns
        and shipments share one table of tracking numbers, so neither can take the other's."""
        row = {"tracking_number": claim.tracking_number, "carrier": claim.carrier, "order_id": claim.order_id,
               "supplier_order_id": claim.owner}
        if self.store.insert_if_absent(schema.SHIPMENTS_BY_TRACKING.name, row):
            return True
        owner = self.store.get_existing(schema.SHIPMENTS_BY_TRACKING.name, {"tracking_number": claim.tracking_number})
        return bool(owner["supplier_order_id"] == claim.owner)

    @activity.defn
    async def refund_through_order(self, request: RefundReturnRequest, order_workflow_id: str) -> ReturnRefunded:
        """The order refunds (it holds the cap over all of its refunds), by name: returns does not
        import orders. Its refusal comes back as a non-retryable error of the same type."""
        handle = self.client.get_workflow_handle(order_workflow_id)
        try:
            return await handle.execute_update(REFUND_RETURN, request, result_type=ReturnRefunded)
        except WorkflowUpdateFailedError as exc:
            cause = business_error(exc.cause)
            if cause is None:
                raise
            raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from None

    @activity.defn
    def save(self, snapshot: ReturnSnapshot) -> None:
        v = snapshot.view
        row = {"return_id": v.return_id, "workflow_id": v.workflow_id, "order_id": v.order_id,
               "confirmation_code": v.confirmation_code, "email": v.email, "status": v.status.value,
               "reasons": sorted({li.reason.value for li in v.lines}), "created_at": v.created_at,
               "updated_at": v.updated_at, "refund_amount": v.refund_amount, "needs_manager": v.needs_manager,
               "view": v.model_dump(mode="json"), "version": snapshot.version}
        current = self.store.get(schema.RETURNS.name, {"return_id": v.return_id})
        if current is not None and (current.get("version") or 0) > snapshot.version:
            return  # a newer save got there first
        self.store.put(schema.RETURNS.name, row)
        self.store.put(schema.RETURNS_BY_ORDER.name, row)
        self.store.put(schema.RETURNS_BY_SHOP.name, {**row, "shop": schema.SHOP})

    @activity.defn
    def send_email(self, email: ReturnEmail) -> bool:
        """Send the email at most once (kept under the order's emails as (order, event), claimed
        before it is handed over, as the order's own emails are). True when sent by this call."""
        if self.emails is None:
            log.warning("return %s: no email channel on this worker; %s not sent", email.view.return_id, email.event)
            return False
        table, key = schema.ORDER_EMAILS.name, {"order_id": email.view.order_id, "event": email.event}
        row = self.store.get(table, key)
        if row is None:
            rendered = self.emails.render_return_email(email)
            self.store.insert_if_absent(table, {
                **key, "kind": email.event, "message_id": rendered.message_id, "recipient": rendered.to,
                "email": rendered.model_dump(mode="json"), "state": "rendered", "rendered_at": datetime.now(UTC)})
            row = self.store.get_existing(table, key)
        if row["state"] != "rendered" or not self.store.update_if(
                table, key, {"state": "sending", "claimed_at": datetime.now(UTC)}, {"state": "rendered"}):
            return False  # sent, or an attempt died handing it over: twice is worse than unconfirmed
        try:
            self.emails.send(RenderedEmail.model_validate(row["email"]))
        except Exception:
            self.store.update_if(table, key, {"state": "rendered"}, {"state": "sending"})
            raise
        put_done(self.store, table, {**key, "state": "sent", "sent_at": datetime.now(UTC)})
        return True
