"""Cadences' activities: the store writes, rendering and sending email, and messages to
running enrollments.

Sending is two activities with the store between them. `render_email` keeps the first
rendering of a step under its idempotency key; `send_email` sends that stored email unless
the key is already marked sent. A worker that dies after rendering therefore leaves an email
that the next attempt sends once, with the same content and Message-ID.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from infra.store import Store, schema
from infra.store.retry import put_done

from . import reads
from .channel import EmailChannel, TemplateUnusable
from .errors import CadenceErrorCode
from .ids import contact_id
from .messages import (
    TEMPLATE_MISSING,
    CadenceDefinition,
    CancelEnrollment,
    EnrollmentRecord,
    EnrollmentStatus,
    RenderedEmail,
    RenderRequest,
    RenderResult,
    SendResult,
    Unsubscribe,
    UnsubscribeResult,
    UpdateSteps,
)
from .signals import EnrollmentCalls

ENROLLMENT_TYPE = "EnrollmentWorkflow"
ENDED = {s.value for s in EnrollmentStatus if s.ended}


class CadenceActivities:
    def __init__(self, store: Store, client: Client, channel: EmailChannel | None):
        self.store = store
        self.client = client
        self.channel = channel

    # --- definitions --------------------------------------------------------------------------

    @activity.defn
    def save_cadence(self, definition: CadenceDefinition) -> None:
        value = definition.model_dump(mode="json")
        self.store.put(schema.CADENCES.name, {
            "shop": schema.SHOP, "cadence_id": definition.cadence_id, "name": definition.name,
            "trigger": definition.trigger.value, "active": definition.active, "version": definition.version,
            "definition": value, "updated_at": definition.updated_at})
        self.store.put(schema.CADENCE_VERSIONS.name, {
            "cadence_id": definition.cadence_id, "version": definition.version, "definition": value,
            "saved_at": definition.updated_at, "saved_by": definition.updated_by})

    @activity.defn
    def load_definition(self, cadence_id: str) -> CadenceDefinition | None:
        return reads.cadence(self.store, cadence_id)

    @activity.defn
    async def propagate_steps(self, update: UpdateSteps, cadence_id: str) -> int:
        """Signal the new steps to every running enrollment of the cadence; how many were told.

        The running ones are those whose row in the store says so (each enrollment saves its
        row as soon as it has read the cadence). Signals carry the version, so an enrollment
        told twice (a retried activity, the second sweep) ignores the repeat."""
        told = 0
        rows = await asyncio.to_thread(reads.enrollments, self.store, cadence_id, None)
        for row in rows:
            if row.get("status") in ENDED or not row.get("workflow_id"):
                continue
            try:
                await self.client.get_workflow_handle(row["workflow_id"]).signal(
                    EnrollmentCalls.update_steps, update)
                told += 1
            except RPCError:
                pass  # it ended after its last save
            activity.heartbeat(told)
        return told

    # --- sending ------------------------------------------------------------------------------

    def _suppressed(self, email: str) -> bool:
        return reads.unsubscribed(self.store, contact_id(email)) is not None

    @activity.defn
    def render_email(self, request: RenderRequest) -> RenderResult:
        if self._suppressed(request.contact.email):
            return RenderResult(suppressed=True)
        first = reads.outbox(self.store, request.key)
        if first is not None:  # rendered by an earlier attempt: that rendering is the one sent
            return RenderResult(message_id=first["message_id"], subject=first["email"]["subject"])
        assert self.channel is not None, "the cadences worker needs an email channel"
        try:
            email = self.channel.render(request)
        except TemplateUnusable as exc:
            raise ApplicationError(str(exc), type=TEMPLATE_MISSING, non_retryable=True) from None
        self.store.insert_if_absent(schema.CADENCE_OUTBOX.name, {
            "key": request.key, "message_id": email.message_id, "recipient": email.to,
            "email": email.model_dump(mode="json"), "rendered_at": datetime.now(UTC)})
        kept = reads.outbox(self.store, request.key)  # a racing attempt may have stored its rendering first
        if kept is not None:
            return RenderResult(message_id=kept["message_id"], subject=kept["email"]["subject"])
        return RenderResult(message_id=email.message_id, subject=email.subject)

    @activity.defn
    def send_email(self, key: str) -> SendResult:
        """Send the stored email at most once. An attempt claims the key (insert-if-absent)
        before handing the email over and gives the claim back if the mail system refused it;
        an attempt that finds a claim it can't account for (its owner died mid-send) does not
        send again: the email may have gone, and twice is worse than unconfirmed."""
        row = reads.outbox(self.store, key)
        if row is None:
            raise ApplicationError(f"nothing rendered under {key}", type=CadenceErrorCode.NOT_RENDERED,
                                   non_retryable=True)
        if row.get("sent_at") is not None:
            return SendResult(sent_at=row["sent_at"], already_sent=True)
        email = RenderedEmail.model_validate(row["email"])
        if self._suppressed(email.to):  # unsubscribed after the rendering
            return SendResult(suppressed=True)
        assert self.channel is not None, "the cadences worker needs an email channel"
        claim = {"key": key, "claimed_at": datetime.now(UTC)}
        if not self.store.insert_if_absent(schema.CADENCE_SEND_CLAIMS.name, claim):
            found = self.store.get(schema.CADENCE_SEND_CLAIMS.name, {"key": key}) or claim
            return SendResult(sent_at=found["claimed_at"], already_sent=True, unconfirmed=True)
        try:
            self.channel.send(email)
        except Exception:
            self.store.delete(schema.CADENCE_SEND_CLAIMS.name, {"key": key})  # not sent: the retry may send
            raise
        now = datetime.now(UTC)
        sent_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as the store keeps it (ms)
        put_done(self.store, schema.CADENCE_OUTBOX.name, {"key": key, "sent_at": sent_at})  # the email is out
        return SendResult(sent_at=sent_at)

    # --- enrollments ----------------------------------------------------------------------------

    @activity.defn
    def save_enrollment(self, record: EnrollmentRecord) -> None:
        s = record.state
        step = s.steps[s.current_step].id if s.current_step < len(s.steps) else None
        self.store.put(schema.CADENCE_ENROLLMENTS.name, {
            "cadence_id": s.cadence_id, "contact_id": s.contact.contact_id, "email": s.contact.email,
            "name": s.contact.name, "workflow_id": record.workflow_id, "enrollment_key": s.enrollment_key,
            "status": s.status.value, "current_step": s.current_step, "step_id": step,
            "steps_version": s.steps_version, "source": s.source.value, "enrolled_by": s.enrolled_by,
            "enrolled_at": s.enrolled_at, "updated_at": datetime.now(UTC), "ended_reason": s.ended_reason})
        self.store.put_many(schema.CADENCE_TIMELINE.name, [{
            "enrollment_key": s.enrollment_key, "seq": e.seq, "at": e.at, "kind": e.kind, "step_id": e.step_id,
            "detail": e.detail} for e in record.entries])
        self.store.put(schema.CADENCE_CONTACT_ENROLLMENTS.name, {
            "contact_id": s.contact.contact_id, "cadence_id": s.cadence_id, "workflow_id": record.workflow_id,
            "status": s.status.value, "updated_at": datetime.now(UTC)})

    # --- unsubscribing ------------------------------------------------------------------------

    @activity.defn
    def record_unsubscribe(self, request: Unsubscribe) -> UnsubscribeResult:
        contact = contact_id(request.email)
        row = {"contact_id": contact, "email": request.email.strip().lower(), "at": datetime.now(UTC),
               "source": request.source}
        self.store.insert_if_absent(schema.CADENCE_UNSUBSCRIBES.name, row)  # the first unsubscribe stays
        kept = reads.unsubscribed(self.store, contact) or row
        return UnsubscribeResult(contact_id=contact, unsubscribed_at=kept["at"])

    @activity.defn
    async def end_enrollments(self, contact: str, actor: str) -> int:
        """Cancel every running enrollment of the contact; how many were ended."""
        ended = 0
        cancel = CancelEnrollment(actor=actor, reason="unsubscribed")
        for row in await asyncio.to_thread(reads.enrollments_of_contact, self.store, contact):
            if row.get("status") in ENDED:
                continue
            try:
                await self.client.get_workflow_handle(row["workflow_id"]).execute_update(
                    EnrollmentCalls.cancel, cancel)
                ended += 1
            except (RPCError, WorkflowUpdateFailedError):
                pass  # it ended on its own meanwhile
            activity.heartbeat(ended)
        return ended
