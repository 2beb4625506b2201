"""Cadences' workflow states, requests, views and stable error codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from .errors import CadenceErrorCode
from .steps import Step

# Short names for CadenceErrorCode members (errors.py holds the codes and their wire values).
CADENCE_NOT_FOUND = CadenceErrorCode.CADENCE_NOT_FOUND
CADENCE_INACTIVE = CadenceErrorCode.CADENCE_INACTIVE
STALE_VERSION = CadenceErrorCode.STALE_VERSION
UNKNOWN_STEP = CadenceErrorCode.UNKNOWN_STEP
ALREADY_ENROLLED = CadenceErrorCode.ALREADY_ENROLLED
UNSUBSCRIBED = CadenceErrorCode.UNSUBSCRIBED
ENROLLMENT_NOT_FOUND = CadenceErrorCode.ENROLLMENT_NOT_FOUND
ENROLLMENT_ENDED = CadenceErrorCode.ENROLLMENT_ENDED
INVALID_CONTACT = CadenceErrorCode.INVALID_CONTACT
TEMPLATE_MISSING = CadenceErrorCode.TEMPLATE_MISSING

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Trigger(StrEnum):
    """What enrolls contacts, besides staff enrolling them by hand."""

    MANUAL = "manual"
    CART_ABANDONED = "cart_abandoned"  # the shopper of an abandoned cart, with a restore link
    ORDER_DELIVERED = "order_delivered"  # the customer of a delivered order, with a review link


class ApplyTo(StrEnum):
    RUNNING = "running"  # running enrollments take the new steps from where they are
    NEW = "new"  # only enrollments started from now on use them


# --- definitions ------------------------------------------------------------------------------

class CadenceDefinition(BaseModel):
    cadence_id: str
    name: str
    trigger: Trigger = Trigger.MANUAL
    active: bool = True
    steps: list[Step]
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    applies_to: ApplyTo = ApplyTo.RUNNING  # how this version was saved


class SaveCadence(BaseModel):
    """Create a cadence (version 1) or save a new version of it."""

    name: str = Field(min_length=1, max_length=120)
    trigger: Trigger = Trigger.MANUAL
    active: bool = True
    steps: list[Step]
    apply_to: ApplyTo = ApplyTo.RUNNING
    expected_version: int | None = None  # refuse when someone else saved meanwhile
    actor: str = Field(min_length=1, max_length=300)


class Propagation(BaseModel):
    """Sending a version's steps to the enrollments that were running when it was saved."""

    version: int
    signalled: int = 0
    sweeps: int = 0
    finished_at: datetime | None = None


class CadenceState(BaseModel):
    cadence_id: str
    definition: CadenceDefinition | None = None
    next_step_number: int = 1
    changes: int = 0
    propagation: Propagation | None = None


class CadenceView(BaseModel):
    definition: CadenceDefinition
    propagation: Propagation | None = None


class UpdateSteps(BaseModel):
    """Signal to a running enrollment: these are the cadence's steps from now on."""

    version: int
    steps: list[Step]
    actor: str = "system"


# --- enrollments ------------------------------------------------------------------------------

class Contact(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field("", max_length=120)
    contact_id: str = ""  # the hash of the normalised email; set by the client


class EnrollmentStatus(StrEnum):
    RUNNING = "running"  # sending, or between steps
    WAITING = "waiting"  # in a WAIT step's timer
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in (EnrollmentStatus.COMPLETED, EnrollmentStatus.CANCELLED, EnrollmentStatus.FAILED)


class TimelineEntry(BaseModel):
    seq: int
    at: datetime
    kind: str  # enrolled, email_sent, wait_started, wait_finished, paused, resumed, steps_updated, ...
    step_id: str | None = None
    detail: str = ""


class WaitProgress(BaseModel):
    """A WAIT under way: time already waited (pauses excluded) and since when it runs again."""

    step_id: str
    elapsed_seconds: float = 0
    since: datetime | None = None  # None while paused


class EnrollmentState(BaseModel):
    """The whole enrollment; continue-as-new carries it to the next run."""

    cadence_id: str
    contact: Contact
    data: dict[str, Any] = Field(default_factory=dict)  # what the trigger knows: cart_id, order code, ...
    source: Trigger = Trigger.MANUAL
    enrolled_by: str = "system"
    enrolled_at: datetime | None = None
    enrollment_key: str = ""  # one per enrollment (not per run): the send idempotency keys start with it
    cadence_name: str = ""
    steps: list[Step] = Field(default_factory=list)
    steps_version: int = 0  # 0 until the workflow has read the cadence
    current_step: int = 0
    done: list[str] = Field(default_factory=list)  # ids of the steps finished
    status: EnrollmentStatus = EnrollmentStatus.RUNNING
    paused: bool = False
    wait: WaitProgress | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    saved_seq: int = 0  # timeline entries up to this one are in the store
    next_seq: int = 1
    ended_reason: str = ""
    max_steps_per_run: int = 100  # continue-as-new after this many steps


class EnrollmentView(BaseModel):
    workflow_id: str
    cadence_id: str
    cadence_name: str
    contact: Contact
    status: EnrollmentStatus
    current_step: int
    steps: list[Step]
    steps_version: int
    done: list[str]
    # A query sees the clock of the workflow's last task, not the present: `wait_ends_at` is
    # when a running WAIT ends; readers work out what is left from it (client.get_enrollment does).
    wait_seconds_left: float | None = None
    wait_ends_at: datetime | None = None  # None when no WAIT runs (none, or paused)
    enrolled_at: datetime | None = None
    enrolled_by: str
    source: Trigger
    ended_reason: str = ""
    timeline: list[TimelineEntry]


class ActorRequest(BaseModel):
    actor: str = Field(min_length=1, max_length=300)


class CancelEnrollment(BaseModel):
    actor: str = Field(min_length=1, max_length=300)
    reason: str = Field("cancelled by staff", max_length=300)


# --- activities ---------------------------------------------------------------------------------

class RenderRequest(BaseModel):
    key: str  # idempotency key of this step of this enrollment
    cadence_id: str
    cadence_name: str
    step_id: str
    template: str
    subject: str
    contact: Contact
    data: dict[str, Any] = Field(default_factory=dict)


class RenderResult(BaseModel):
    suppressed: bool = False  # the contact unsubscribed: nothing rendered, nothing to send
    message_id: str = ""
    subject: str = ""


class SendResult(BaseModel):
    suppressed: bool = False
    sent_at: datetime | None = None
    already_sent: bool = False  # an earlier attempt had sent it
    unconfirmed: bool = False  # an earlier attempt stopped mid-send: maybe sent, so never sent again


class RenderedEmail(BaseModel):
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    message_id: str


class EnrollmentRecord(BaseModel):
    """What `save_enrollment` writes: the enrollment's row and its new timeline entries."""

    state: EnrollmentState
    workflow_id: str
    entries: list[TimelineEntry]


class Unsubscribe(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    source: str = Field("link", max_length=300)  # link, one-click, staff:{email}, ...


class UnsubscribeResult(BaseModel):
    contact_id: str
    unsubscribed_at: datetime
    enrollments_ended: int = 0
