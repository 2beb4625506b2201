"""Enrollments the shop starts on its own: an abandoned cart, a delivered order.

Other domains' activities call these with what they know; each active cadence with the
trigger enrolls the contact. A contact already walking that cadence, or unsubscribed, is
skipped: a trigger never fails the workflow that fired it for that.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from infra.store import Store

from . import client as cadences
from . import reads
from .messages import ALREADY_ENROLLED, UNSUBSCRIBED, EnrollmentStatus, Trigger

log = logging.getLogger(__name__)
SKIPPED = {ALREADY_ENROLLED, UNSUBSCRIBED}
ENDED = {s.value for s in EnrollmentStatus if s.ended}
# Temporal out of reach for a moment: the firing activity retries. Anything else is a refusal
# or a bug that a retry would only repeat.
TRANSIENT_RPC = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
                 RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED}


def transient(exc: BaseException) -> bool:
    """Whether firing a trigger failed for a reason worth retrying."""
    if isinstance(exc, RPCError):
        return exc.status in TRANSIENT_RPC
    return isinstance(exc, (ConnectionError, TimeoutError))


async def fire(client: Client, store: Store, trigger: Trigger, email: str, name: str, data: dict[str, Any], *,
               actor: str = "system") -> list[str]:
    """Enroll the contact in every active cadence with this trigger; the enrollments started."""
    started = []
    for definition in reads.active_for(store, trigger):
        try:
            contact = cadences.contact_of(email, name)
            started.append(await cadences.enroll(client, store, definition.cadence_id, contact, actor=actor,
                                                 data=data, source=trigger))
        except cadences.CadenceError as exc:
            if exc.code not in SKIPPED:
                raise
            log.info("%s: %s not enrolled in %s: %s", trigger.value, email, definition.cadence_id, exc.code)
    return started


async def stop(client: Client, store: Store, trigger: Trigger, email: str, reason: str, *,
               actor: str = "system") -> int:
    """Cancel the contact's running enrollments in cadences with this trigger (a shopper who
    bought needs no more reminders about the cart); how many were ended."""
    ended = 0
    contact = cadences.contact_of(email)
    for row in reads.enrollments_of_contact(store, contact.contact_id):
        definition = reads.cadence(store, row["cadence_id"])
        if row.get("status") in ENDED or definition is None or definition.trigger != trigger:
            continue
        try:
            await cadences.cancel(client, row["cadence_id"], contact.contact_id, actor, reason)
            ended += 1
        except cadences.CadenceError:
            pass  # it ended meanwhile
    return ended
