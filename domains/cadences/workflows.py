"""Cadences' workflows.

- `CadenceWorkflow` (`cadence-definition-{id}`): one per cadence. It owns the definition:
  every save is an update that validates, numbers new steps, saves the version and returns
  it; then, when the edit applies to running enrollments, it sends them the new steps.
- `EnrollmentWorkflow` (`cadence-{cadence_id}-{contact_id}`): one contact walking one
  cadence. WAIT is a durable timer, SEND_EMAIL two activities (render, then send) keyed so
  a step is sent at most once. It takes new steps by signal at any time and continues from
  where it stands.
- `UnsubscribeWorkflow` (`cadence-unsubscribe-{contact_id}`): records the unsubscribe, then
  ends every enrollment of the contact.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from .activities import CadenceActivities
    from .ids import send_key
    from .messages import (
        ENROLLMENT_ENDED,
        STALE_VERSION,
        UNKNOWN_STEP,
        ActorRequest,
        ApplyTo,
        CadenceDefinition,
        CadenceState,
        CadenceView,
        CancelEnrollment,
        EnrollmentRecord,
        EnrollmentState,
        EnrollmentStatus,
        EnrollmentView,
        Propagation,
        RenderRequest,
        SaveCadence,
        TimelineEntry,
        Unsubscribe,
        UnsubscribeResult,
        UpdateSteps,
        WaitProgress,
    )
    from .steps import Step, StepsInvalid, StepType, check_steps, format_duration, position_after_edit

CADENCE_ID = SearchAttributeKey.for_keyword("CadenceId")
CADENCE_CONTACT = SearchAttributeKey.for_keyword("CadenceContact")
CADENCE_STEP = SearchAttributeKey.for_keyword("CadenceStep")
CADENCE_STATE = SearchAttributeKey.for_keyword("CadenceState")

STORE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                          "schedule_to_close_timeout": timedelta(minutes=5),
                          "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=10))}
# An enrollment outlives a store outage of any length: its store writes retry until they land.
ENROLLMENT_STORE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                                     "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
RENDER: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
# A mail server that is down for a while is waited for, with backoff, for up to a day.
SEND: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=60),
                         "schedule_to_close_timeout": timedelta(hours=24),
                         "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=5))}
PROPAGATE: ActivityOptions = {"start_to_close_timeout": timedelta(minutes=10),
                              "heartbeat_timeout": timedelta(seconds=30),
                              "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30))}
# Visibility is eventually consistent: an enrollment started just before an edit may be
# missing from the first listing, so the edit is sent again after this long.
SETTLE = timedelta(seconds=5)
MAX_CHANGES_PER_RUN = 200
UNCLAIMED_FOR = timedelta(minutes=10)
TIMELINE_KEPT_ACROSS_RUNS = 50
SENT, ENDED, AGAIN = "sent", "ended", "again"  # how a SEND_EMAIL step came out


def refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def enrollment_search_attributes(cadence_id: str, contact: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(CADENCE_ID, cadence_id), SearchAttributePair(CADENCE_CONTACT, contact),
        SearchAttributePair(CADENCE_STATE, EnrollmentStatus.RUNNING.value)])


# --- the definition ------------------------------------------------------------------------------

@workflow.defn
class CadenceWorkflow:
    @workflow.init
    def __init__(self, state: CadenceState) -> None:
        self.state = state
        self.lock = asyncio.Lock()
        self.to_propagate: UpdateSteps | None = None

    @workflow.query
    def view(self) -> CadenceView | None:
        if self.state.definition is None:
            return None
        return CadenceView(definition=self.state.definition, propagation=self.state.propagation)

    @workflow.update
    async def save(self, request: SaveCadence) -> CadenceView:
        async with self.lock:
            self._can_save(request)  # again: another save may have gone first while this one waited
            s = self.state
            now = workflow.now()
            steps: list[Step] = []
            for step in request.steps:
                if not step.id:
                    step = step.model_copy(update={"id": f"s{s.next_step_number}"})
                    s.next_step_number += 1
                steps.append(step)
            old = s.definition
            new = CadenceDefinition(
                cadence_id=s.cadence_id, name=request.name.strip(), trigger=request.trigger, active=request.active,
                steps=steps, version=(old.version if old else 0) + 1,
                created_at=old.created_at if old else now, created_by=old.created_by if old else request.actor,
                updated_at=now, updated_by=request.actor, applies_to=request.apply_to)
            await workflow.execute_activity_method(CadenceActivities.save_cadence, new, **STORE)
            s.definition = new
            s.changes += 1
            # after a save for new enrollments only, the running ones have older steps even when these equal it
            held_back = old is not None and old.applies_to == ApplyTo.NEW
            if old is not None and request.apply_to == ApplyTo.RUNNING and (old.steps != new.steps or held_back):
                self.to_propagate = UpdateSteps(version=new.version, steps=new.steps, actor=request.actor)
                s.propagation = Propagation(version=new.version)
            return CadenceView(definition=new, propagation=s.propagation)

    @save.validator
    def _can_save(self, request: SaveCadence) -> None:
        try:
            check_steps(request.steps)
        except StepsInvalid as exc:
            raise refuse(exc.code, str(exc)) from None
        current = self.state.definition
        version = current.version if current else 0
        if request.expected_version is not None and request.expected_version != version:
            raise refuse(STALE_VERSION, f"the cadence changed meanwhile (now version {version}); reload and save again")
        known = {step.id for step in current.steps} if current else set()
        for step in request.steps:
            if step.id and step.id not in known:
                raise refuse(UNKNOWN_STEP, f"the cadence has no step {step.id!r}")

    async def _propagate(self, update: UpdateSteps) -> None:
        s = self.state
        for sweep in range(2):
            if sweep:
                await workflow.sleep(SETTLE)
            told = await workflow.execute_activity_method(
                CadenceActivities.propagate_steps, args=[update, s.cadence_id], **PROPAGATE)
            if s.propagation and s.propagation.version == update.version:
                s.propagation.signalled = max(s.propagation.signalled, told)
                s.propagation.sweeps = sweep + 1
        if s.propagation and s.propagation.version == update.version:
            s.propagation.finished_at = workflow.now()

    @workflow.run
    async def run(self, state: CadenceState) -> None:
        if self.state.definition is None:  # started by a create whose save was refused: nothing to own
            try:
                await workflow.wait_condition(lambda: self.state.definition is not None, timeout=UNCLAIMED_FOR)
            except TimeoutError:
                return
        while True:
            await workflow.wait_condition(
                lambda: self.to_propagate is not None or self.state.changes >= MAX_CHANGES_PER_RUN
                or workflow.info().is_continue_as_new_suggested())
            if self.to_propagate is not None:
                update, self.to_propagate = self.to_propagate, None
                await self._propagate(update)  # a newer save meanwhile is propagated next, after this one
                continue
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self.to_propagate is None:
                self.state.changes = 0
                workflow.continue_as_new(self.state)


# --- one enrollment ---------------------------------------------------------------------------------

@workflow.defn
class EnrollmentWorkflow:
    @workflow.init
    def __init__(self, state: EnrollmentState) -> None:
        self.state = state
        self.pending: UpdateSteps | None = None
        self.steps_this_run = 0

    # --- messages ---------------------------------------------------------------------------------

    @workflow.query
    def view(self) -> EnrollmentView:
        s = self.state
        left = ends_at = None
        step = self._current()
        if s.wait is not None and step is not None and step.type == StepType.WAIT and step.id == s.wait.step_id:
            left = max(float(step.seconds or 0) - self._waited(), 0.0)
            if s.wait.since is not None:  # running (not paused)
                ends_at = s.wait.since + timedelta(seconds=float(step.seconds or 0) - s.wait.elapsed_seconds)
        return EnrollmentView(
            workflow_id=workflow.info().workflow_id, cadence_id=s.cadence_id, cadence_name=s.cadence_name,
            contact=s.contact, status=s.status, current_step=s.current_step, steps=s.steps,
            steps_version=s.steps_version, done=s.done, wait_seconds_left=left, wait_ends_at=ends_at,
            enrolled_at=s.enrolled_at,
            enrolled_by=s.enrolled_by, source=s.source, ended_reason=s.ended_reason, timeline=s.timeline)

    @workflow.signal
    def update_steps(self, update: UpdateSteps) -> None:
        newest = max(self.state.steps_version, self.pending.version if self.pending else 0)
        if update.version > newest and not self.state.status.ended:
            self.pending = update

    @workflow.update
    def pause(self, request: ActorRequest) -> EnrollmentView:
        s = self.state
        if not s.paused:
            s.paused = True
            if s.wait is not None and s.wait.since is not None:
                s.wait.elapsed_seconds = self._waited()
                s.wait.since = None
            self._set_status(EnrollmentStatus.PAUSED)
            self._log("paused", detail=request.actor)
        return self.view()

    @pause.validator
    def _can_pause(self, request: ActorRequest) -> None:
        self._not_ended()

    @workflow.update
    def resume(self, request: ActorRequest) -> EnrollmentView:
        s = self.state
        if s.paused:
            s.paused = False
            if s.wait is not None:
                s.wait.since = workflow.now()
            self._set_status(self._walking())
            self._log("resumed", detail=request.actor)
        return self.view()

    @resume.validator
    def _can_resume(self, request: ActorRequest) -> None:
        self._not_ended()

    @workflow.update
    def cancel(self, request: CancelEnrollment) -> EnrollmentView:
        self._end(EnrollmentStatus.CANCELLED, f"{request.reason} ({request.actor})")
        return self.view()

    @cancel.validator
    def _can_cancel(self, request: CancelEnrollment) -> None:
        self._not_ended()

    def _not_ended(self) -> None:
        if self.state.status.ended:
            raise refuse(ENROLLMENT_ENDED, f"this enrollment has {self.state.status.value}")

    # --- state helpers ------------------------------------------------------------------------

    def _current(self) -> Step | None:
        s = self.state
        return s.steps[s.current_step] if s.current_step < len(s.steps) else None

    def _waited(self) -> float:
        w = self.state.wait
        if w is None:
            return 0.0
        running = (workflow.now() - w.since).total_seconds() if w.since is not None else 0.0
        return w.elapsed_seconds + running

    def _log(self, kind: str, step_id: str | None = None, detail: str = "") -> None:
        s = self.state
        s.timeline.append(TimelineEntry(seq=s.next_seq, at=workflow.now(), kind=kind, step_id=step_id, detail=detail))
        s.next_seq += 1

    def _walking(self) -> EnrollmentStatus:
        """The status while not ended: paused, in a wait, or running."""
        if self.state.paused:
            return EnrollmentStatus.PAUSED
        return EnrollmentStatus.WAITING if self.state.wait is not None else EnrollmentStatus.RUNNING

    def _set_status(self, status: EnrollmentStatus) -> None:
        self.state.status = status
        step = self._current()
        workflow.upsert_search_attributes([CADENCE_STATE.value_set(status.value),
                                           CADENCE_STEP.value_set(step.id if step and not status.ended else "")])

    def _end(self, status: EnrollmentStatus, reason: str) -> None:
        s = self.state
        if s.status.ended:
            return
        s.ended_reason = reason
        s.wait = None
        self._set_status(status)
        self._log(status.value, detail=reason)

    def _unsaved(self) -> bool:
        return bool(self.state.timeline) and self.state.timeline[-1].seq > self.state.saved_seq

    async def _save(self) -> None:
        s = self.state
        entries = [e for e in s.timeline if e.seq > s.saved_seq]
        record = EnrollmentRecord(state=s, workflow_id=workflow.info().workflow_id, entries=entries)
        await workflow.execute_activity_method(CadenceActivities.save_enrollment, record, **ENROLLMENT_STORE)
        if entries:
            s.saved_seq = max(s.saved_seq, entries[-1].seq)

    def _apply_pending(self) -> None:
        update, self.pending = self.pending, None
        if update is None or update.version <= self.state.steps_version:
            return
        s = self.state
        before = s.current_step
        s.current_step = position_after_edit(s.steps, s.current_step, update.steps, s.done)
        old_step = s.steps[before] if before < len(s.steps) else None
        s.steps, s.steps_version = update.steps, update.version
        step = self._current()
        if s.wait is not None and (step is None or step.id != s.wait.step_id or step.type != StepType.WAIT):
            s.wait = None  # the wait under way is gone: the next step starts now
        moved = "" if old_step is not None and step is not None and old_step.id == step.id else " (position moved)"
        self._log("steps_updated", step.id if step else None,
                  f"version {update.version} by {update.actor}{moved}")
        if not s.paused:
            self._set_status(self._walking())

    def _interrupted(self) -> bool:
        return self.pending is not None or self.state.paused or self.state.status.ended or self._unsaved()

    # --- steps ------------------------------------------------------------------------------------

    async def _wait(self, step: Step) -> bool:
        """True once the WAIT has lasted its (current) duration; False when something needs
        handling first (new steps, a pause, the end, a timeline entry to save)."""
        s = self.state
        if s.wait is None or s.wait.step_id != step.id:
            s.wait = WaitProgress(step_id=step.id, since=workflow.now())
            self._set_status(EnrollmentStatus.WAITING)
            self._log("wait_started", step.id, format_duration(step.seconds or 0))
        left = float(step.seconds or 0) - self._waited()
        if left <= 0:
            return True
        try:
            await workflow.wait_condition(self._interrupted, timeout=timedelta(seconds=left))
        except TimeoutError:
            return True
        return False

    async def _send(self, step: Step) -> str:
        """Render and send one step's email: SENT, ENDED (cancelled, unsubscribed, failed) or
        AGAIN (paused meanwhile: the loop comes back to this step, under its steps then)."""
        s = self.state
        self._set_status(EnrollmentStatus.RUNNING)
        request = RenderRequest(
            key=send_key(s.enrollment_key, step.id, step.template, step.subject), cadence_id=s.cadence_id,
            cadence_name=s.cadence_name,
            step_id=step.id, template=step.template or "", subject=step.subject or "", contact=s.contact,
            data=s.data)
        try:
            rendered = await workflow.execute_activity_method(CadenceActivities.render_email, request, **RENDER)
            if rendered.suppressed:
                self._end(EnrollmentStatus.CANCELLED, "unsubscribed")
                return ENDED
            if s.paused or s.status.ended:
                return ENDED if s.status.ended else AGAIN
            # A cancel or pause stops a send that is still retrying (a mail server down): it
            # must not go out hours after staff said stop. An email already handed over stays sent.
            sending = workflow.start_activity_method(CadenceActivities.send_email, request.key, **SEND)
            await workflow.wait_condition(lambda: sending.done() or s.paused or s.status.ended)
            if not sending.done():
                sending.cancel()
            try:
                sent = await sending
            except (ActivityError, asyncio.CancelledError):
                if s.paused or s.status.ended:
                    return ENDED if s.status.ended else AGAIN
                raise
        except ActivityError as exc:
            cause = exc.cause
            self._end(EnrollmentStatus.FAILED, f"step {step.id} ({step.template}): {getattr(cause, 'message', exc)}")
            return ENDED
        if sent.suppressed:
            self._end(EnrollmentStatus.CANCELLED, "unsubscribed")
            return ENDED
        unconfirmed = " (unconfirmed: an earlier attempt stopped while sending)" if sent.unconfirmed else ""
        self._log("email_sent", step.id, f"{rendered.subject} ({step.template}) {rendered.message_id}{unconfirmed}")
        return SENT

    async def _catch_up(self) -> None:
        """Once this enrollment's row is in the store, an edit saved from now on finds it; one
        saved between reading the cadence and that row may have missed it, so read it again."""
        s = self.state
        latest = await workflow.execute_activity_method(
            CadenceActivities.load_definition, s.cadence_id, **ENROLLMENT_STORE)
        if latest is not None and latest.version > s.steps_version and latest.applies_to == ApplyTo.RUNNING:
            self.update_steps(UpdateSteps(version=latest.version, steps=latest.steps, actor=latest.updated_by))

    # --- the walk ---------------------------------------------------------------------------------

    async def _start(self) -> bool:
        s = self.state
        s.enrollment_key = str(workflow.uuid4())
        s.enrolled_at = workflow.now()
        definition = await workflow.execute_activity_method(
            CadenceActivities.load_definition, s.cadence_id, **ENROLLMENT_STORE)
        if definition is None or not definition.active:
            self._log("enrolled", detail=f"by {s.enrolled_by}")
            self._end(EnrollmentStatus.CANCELLED, "the cadence is not active")
            return False
        s.cadence_name, s.steps, s.steps_version = definition.name, definition.steps, definition.version
        self._log("enrolled", detail=f"by {s.enrolled_by} ({s.source.value}), version {definition.version}")
        if s.status.ended:  # cancelled while the cadence was being read
            return False
        self._set_status(self._walking())
        return True

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.pending is not None or self._unsaved():
            return  # handle those first; the next step boundary tries again
        s = self.state
        s.timeline = s.timeline[-TIMELINE_KEPT_ACROSS_RUNS:]
        workflow.continue_as_new(s)

    @workflow.run
    async def run(self, state: EnrollmentState) -> EnrollmentView:
        s = self.state
        if not s.enrollment_key and await self._start():
            await self._save()
            await self._catch_up()
        while not s.status.ended:
            self._apply_pending()
            if self._unsaved():
                await self._save()
            if s.status.ended:
                break
            step = self._current()
            if step is None:
                self._end(EnrollmentStatus.COMPLETED, "all steps done")
                break
            if step.id in s.done:  # done before an edit moved it
                s.current_step += 1
                continue
            if s.paused:
                await workflow.wait_condition(
                    lambda: not s.paused or s.status.ended or self.pending is not None or self._unsaved())
                continue
            if step.type == StepType.WAIT:
                if not await self._wait(step):
                    continue
                s.wait = None
                self._log("wait_finished", step.id)
            else:
                outcome = await self._send(step)
                if outcome == AGAIN:
                    continue
                if outcome == ENDED:
                    break
            s.done.append(step.id)
            s.current_step += 1
            self.steps_this_run += 1
            # a pause or a cancel that came while the step ran keeps its status
            if self._current() is not None and not s.paused and not s.status.ended:
                self._set_status(EnrollmentStatus.RUNNING)
            if self.steps_this_run >= s.max_steps_per_run or workflow.info().is_continue_as_new_suggested():
                await self._save()
                await self._continue_as_new()
        await self._save()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()


# --- unsubscribing -------------------------------------------------------------------------------

@workflow.defn
class UnsubscribeWorkflow:
    """Started with update-with-start: the update returns once the unsubscribe is recorded
    (every later send checks it), and the run then ends the contact's running enrollments,
    twice, because an enrollment started just before may not be listed yet."""

    @workflow.init
    def __init__(self, request: Unsubscribe) -> None:
        self.request = request
        self.result: UnsubscribeResult | None = None

    @workflow.update
    async def record(self, request: Unsubscribe) -> UnsubscribeResult:
        if self.result is None:
            self.result = await workflow.execute_activity_method(
                CadenceActivities.record_unsubscribe, request, **STORE)
        return self.result

    @workflow.run
    async def run(self, request: Unsubscribe) -> UnsubscribeResult:
        await workflow.wait_condition(lambda: self.result is not None)
        assert self.result is not None
        for sweep in range(2):
            if sweep:
                await workflow.sleep(SETTLE)
            self.result.enrollments_ended += await workflow.execute_activity_method(
                CadenceActivities.end_enrollments, args=[self.result.contact_id, f"unsubscribe:{request.source}"],
                **PROPAGATE)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.result
