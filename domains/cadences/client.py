"""How the web process, the CLI and other domains' activities reach cadences.

Saving a cadence is an update on its workflow (update-with-start creates it); enrolling
starts an enrollment workflow whose id makes a second enrollment of the same contact meet
the first; pausing, resuming and cancelling are updates that return the enrollment; live
counts come from visibility. Refusals arrive as `CadenceError` with a stable code.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import code_of
from infra.store import Store
from infra.temporal import business_error

from . import reads
from .activities import ENROLLMENT_TYPE
from .errors import CadenceError, CadenceErrorCode
from .ids import (
    contact_id,
    definition_workflow_id,
    enrollment_workflow_id,
    new_cadence_id,
    normalise_email,
    unsubscribe_workflow_id,
)
from .messages import (
    ALREADY_ENROLLED,
    CADENCE_INACTIVE,
    CADENCE_NOT_FOUND,
    EMAIL_PATTERN,
    ENROLLMENT_ENDED,
    ENROLLMENT_NOT_FOUND,
    INVALID_CONTACT,
    UNKNOWN_STEP,
    UNSUBSCRIBED,
    ActorRequest,
    CadenceDefinition,
    CadenceState,
    CadenceView,
    CancelEnrollment,
    Contact,
    EnrollmentState,
    EnrollmentStatus,
    EnrollmentView,
    SaveCadence,
    Trigger,
    Unsubscribe,
    UnsubscribeResult,
)
from .queue import TASK_QUEUE
from .steps import StepsInvalid, check_steps
from .workflows import (
    CADENCE_CONTACT,
    CADENCE_STATE,
    CADENCE_STEP,
    CadenceWorkflow,
    EnrollmentWorkflow,
    UnsubscribeWorkflow,
    enrollment_search_attributes,
)

MAX_ENROLL_AT_ONCE = 500
_STARTS_IN_FLIGHT = 20


def _refused(exc: WorkflowUpdateFailedError) -> CadenceError:
    cause = business_error(exc.cause)
    if cause is None:
        raise exc
    return CadenceError(code_of(cause.type, (CadenceErrorCode,), CadenceErrorCode.UNEXPECTED), cause.message)


# --- definitions -------------------------------------------------------------------------------------

async def save_cadence(client: Client, request: SaveCadence, *, cadence_id: str | None = None,
                       templates: Collection[str] | None = None) -> CadenceView:
    """Create a cadence (no `cadence_id`) or save a new version of it; the saved version."""
    try:
        check_steps(request.steps, templates)
    except StepsInvalid as exc:
        raise CadenceError(exc.code, str(exc)) from None
    if cadence_id is None and any(step.id for step in request.steps):
        raise CadenceError(UNKNOWN_STEP, "a new cadence's steps have no ids yet")
    try:
        if cadence_id is None:
            cadence_id = new_cadence_id()
            start = WithStartWorkflowOperation(
                CadenceWorkflow.run, CadenceState(cadence_id=cadence_id), id=definition_workflow_id(cadence_id),
                task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
            return await client.execute_update_with_start_workflow(
                CadenceWorkflow.save, request, start_workflow_operation=start)
        return await client.get_workflow_handle(definition_workflow_id(cadence_id)).execute_update(
            CadenceWorkflow.save, request)
    except WorkflowUpdateFailedError as exc:
        raise _refused(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CadenceError(CADENCE_NOT_FOUND, f"no cadence {cadence_id}") from None
        raise


def get_cadence(store: Store, cadence_id: str) -> CadenceDefinition:
    definition = reads.cadence(store, cadence_id)
    if definition is None:
        raise CadenceError(CADENCE_NOT_FOUND, f"no cadence {cadence_id}")
    return definition


async def propagation(client: Client, cadence_id: str) -> CadenceView | None:
    """The cadence as its workflow sees it, with how far its last edit has reached."""
    try:
        return await client.get_workflow_handle(definition_workflow_id(cadence_id)).query(CadenceWorkflow.view)
    except (RPCError, WorkflowQueryFailedError):
        return None


# --- enrolling ------------------------------------------------------------------------------------------

def contact_of(email: str, name: str = "") -> Contact:
    cleaned = normalise_email(email)
    if not re.match(EMAIL_PATTERN, cleaned) or len(cleaned) > 254:
        raise CadenceError(INVALID_CONTACT, f"{email.strip()[:254]!r} is not an email address")
    return Contact(email=cleaned, name=name.strip()[:120], contact_id=contact_id(cleaned))


async def enroll(client: Client, store: Store, cadence_id: str, contact: Contact, *, actor: str,
                 data: dict[str, Any] | None = None, source: Trigger = Trigger.MANUAL,
                 max_steps_per_run: int | None = None) -> str:
    """Start the contact's enrollment; its workflow id. Refused when the cadence is missing or
    inactive, the contact unsubscribed, or the contact is already walking this cadence."""
    definition = reads.cadence(store, cadence_id)
    if definition is None:
        raise CadenceError(CADENCE_NOT_FOUND, f"no cadence {cadence_id}")
    if not definition.active:
        raise CadenceError(CADENCE_INACTIVE, f"cadence {definition.name!r} is not active")
    contact = contact_of(contact.email, contact.name)
    if reads.unsubscribed(store, contact.contact_id):
        raise CadenceError(UNSUBSCRIBED, f"{contact.email} has unsubscribed from the shop's emails")
    state = EnrollmentState(cadence_id=cadence_id, contact=contact, data=data or {}, source=source,
                            enrolled_by=actor)
    if max_steps_per_run is not None:
        state.max_steps_per_run = max_steps_per_run
    workflow_id = enrollment_workflow_id(cadence_id, contact.contact_id)
    try:
        await client.start_workflow(
            EnrollmentWorkflow.run, state, id=workflow_id, task_queue=TASK_QUEUE,
            search_attributes=enrollment_search_attributes(cadence_id, contact.contact_id),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)  # enrolled again once the last one ended
    except WorkflowAlreadyStartedError:
        raise CadenceError(ALREADY_ENROLLED, f"{contact.email} is already in {definition.name!r}") from None
    return workflow_id


@dataclass
class EnrollOutcome:
    email: str
    workflow_id: str | None = None
    code: CadenceErrorCode | None = None  # why not, when not enrolled
    message: str = ""


def parse_contacts(text: str) -> list[tuple[str, str]]:
    """A pasted list: one contact a line, `email`, `email, name` or `Name <email>`."""
    contacts = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        bracket = re.match(r"^(.*?)<([^>]+)>\s*$", line)
        if bracket:
            contacts.append((bracket.group(2).strip(), bracket.group(1).strip().strip('"')))
        else:
            email, _, name = line.partition(",")
            contacts.append((email.strip(), name.strip()))
    return contacts


async def enroll_many(client: Client, store: Store, cadence_id: str, contacts: Iterable[tuple[str, str]], *,
                      actor: str, data: dict[str, Any] | None = None) -> list[EnrollOutcome]:
    """Enroll each (email, name); one outcome per contact, in order (duplicates in the list once)."""
    unique: dict[str, tuple[str, str]] = {}
    for email, name in contacts:
        unique.setdefault(normalise_email(email), (email, name))
    if len(unique) > MAX_ENROLL_AT_ONCE:
        raise CadenceError(INVALID_CONTACT, f"at most {MAX_ENROLL_AT_ONCE} contacts at once")
    gate = asyncio.Semaphore(_STARTS_IN_FLIGHT)

    async def one(email: str, name: str) -> EnrollOutcome:
        async with gate:
            try:
                contact = contact_of(email, name)
                return EnrollOutcome(contact.email, await enroll(client, store, cadence_id, contact, actor=actor,
                                                                 data=data))
            except CadenceError as exc:
                return EnrollOutcome(email.strip()[:254], code=exc.code, message=str(exc))

    return list(await asyncio.gather(*(one(email, name) for email, name in unique.values())))


# --- one enrollment ---------------------------------------------------------------------------------------

async def get_enrollment(client: Client, cadence_id: str, contact: str) -> EnrollmentView | None:
    """The live enrollment of a contact (contact id) in a cadence, running or ended, or None."""
    try:
        view = await client.get_workflow_handle(enrollment_workflow_id(cadence_id, contact)).query(
            EnrollmentWorkflow.view)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    except WorkflowQueryFailedError:
        return None
    if view.wait_ends_at is not None:  # the query's clock stopped at the workflow's last task
        view.wait_seconds_left = max((view.wait_ends_at - datetime.now(UTC)).total_seconds(), 0.0)
    return view


async def _change(client: Client, cadence_id: str, contact: str, update: Any, arg: Any) -> EnrollmentView:
    handle = client.get_workflow_handle(enrollment_workflow_id(cadence_id, contact))
    try:
        return await handle.execute_update(update, arg)
    except WorkflowUpdateFailedError as exc:
        raise _refused(exc) from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    try:  # no running workflow: an enrollment that ended (its query still answers), or none at all?
        ended = await handle.query(EnrollmentWorkflow.view)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CadenceError(ENROLLMENT_NOT_FOUND, "this contact is not enrolled in this cadence") from None
        raise
    except WorkflowQueryFailedError:
        raise CadenceError(ENROLLMENT_ENDED, "this enrollment has ended") from None
    raise CadenceError(ENROLLMENT_ENDED, f"this enrollment has {ended.status.value}")


async def pause(client: Client, cadence_id: str, contact: str, actor: str) -> EnrollmentView:
    return await _change(client, cadence_id, contact, EnrollmentWorkflow.pause, ActorRequest(actor=actor))


async def resume(client: Client, cadence_id: str, contact: str, actor: str) -> EnrollmentView:
    return await _change(client, cadence_id, contact, EnrollmentWorkflow.resume, ActorRequest(actor=actor))


async def cancel(client: Client, cadence_id: str, contact: str, actor: str,
                 reason: str = "cancelled by staff") -> EnrollmentView:
    return await _change(client, cadence_id, contact, EnrollmentWorkflow.cancel,
                         CancelEnrollment(actor=actor, reason=reason or "cancelled by staff"))


# --- unsubscribing ------------------------------------------------------------------------------------------

async def unsubscribe(client: Client, email: str, source: str = "link") -> UnsubscribeResult:
    """Record that the contact wants no more email (returns once recorded: no later send goes
    out); their running enrollments end right after."""
    contact = contact_of(email)
    request = Unsubscribe(email=contact.email, source=source)
    start = WithStartWorkflowOperation(
        UnsubscribeWorkflow.run, request, id=unsubscribe_workflow_id(contact.contact_id), task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    return await client.execute_update_with_start_workflow(UnsubscribeWorkflow.record, request,
                                                           start_workflow_operation=start)


# --- live counts and lists (visibility) -------------------------------------------------------------------

@dataclass
class CadenceCounts:
    per_step: dict[str, int] = field(default_factory=dict)  # running enrollments on each step id
    paused: int = 0
    running: int = 0
    by_status: dict[str, int] = field(default_factory=dict)  # ended ones by how they ended


async def counts(client: Client, cadence_id: str, step_ids: Iterable[str]) -> CadenceCounts:
    """Enrollments per step right now, paused ones, and ended ones by outcome."""
    async def count(where: str) -> int:
        return (await client.count_workflows(
            f"WorkflowType = '{ENROLLMENT_TYPE}' AND CadenceId = '{cadence_id}' AND {where}")).count

    ids = list(step_ids)
    ended = [s.value for s in EnrollmentStatus if s.ended]
    results = await asyncio.gather(
        count("ExecutionStatus = 'Running'"), count("ExecutionStatus = 'Running' AND CadenceState = 'paused'"),
        *(count(f"ExecutionStatus = 'Running' AND CadenceStep = '{step}'") for step in ids),
        *(count(f"ExecutionStatus != 'Running' AND CadenceState = '{status}'") for status in ended))
    running, paused, rest = results[0], results[1], results[2:]
    return CadenceCounts(per_step=dict(zip(ids, rest[:len(ids)], strict=True)), paused=paused, running=running,
                         by_status=dict(zip(ended, rest[len(ids):], strict=True)))


@dataclass
class EnrollmentSummary:
    workflow_id: str
    contact_id: str
    state: str
    step_id: str
    started_at: Any
    closed_at: Any


async def list_enrollments(client: Client, cadence_id: str, *, state: str | None = None,
                           limit: int = 50) -> list[EnrollmentSummary]:
    """The newest enrollments of a cadence from visibility, optionally in one state."""
    where = f"CadenceId = '{cadence_id}'"
    if state:
        where += f" AND CadenceState = '{state}'"
    found: list[EnrollmentSummary] = []
    seen: set[str] = set()
    # a run that continued as new is the same enrollment as its successor; an older run of a
    # re-enrolled contact is listed under its newest run only (newest first)
    query = f"WorkflowType = '{ENROLLMENT_TYPE}' AND ExecutionStatus != 'ContinuedAsNew' AND {where}"
    async for execution in client.list_workflows(query, limit=limit * 2):
        if execution.id in seen:
            continue
        seen.add(execution.id)
        if len(found) >= limit:
            break
        attrs = execution.typed_search_attributes
        status = attrs.get(CADENCE_STATE) or ""
        if execution.status != WorkflowExecutionStatus.RUNNING and not status:
            status = execution.status.name.lower() if execution.status else ""
        found.append(EnrollmentSummary(
            workflow_id=execution.id, contact_id=attrs.get(CADENCE_CONTACT) or "", state=status,
            step_id=attrs.get(CADENCE_STEP) or "", started_at=execution.start_time,
            closed_at=execution.close_time))
    return found

