"""One workflow per contact enrolled in a cadence: waits, sends each email once, and ends on
unsubscribe, exit or the last step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from ..activities import CadenceActivities
    from ..ids import send_key
    from ..messages import (
        ENROLLMENT_ENDED,
        ActorRequest,
        ApplyTo,
        CancelEnrollment,
        EnrollmentRecord,
        EnrollmentState,
        EnrollmentStatus,
        EnrollmentView,
        RenderRequest,
        TimelineEntry,
        UpdateSteps,
        WaitProgress,
    )
    from ..steps import Step, StepType, format_duration, position_after_edit

from .common import (
    AGAIN,
    CADENCE_STATE,
    CADENCE_STEP,
    ENDED,
    ENROLLMENT_STORE,
    RENDER,
    SEND,
    SENT,
    TIMELINE_KEPT_ACROSS_RUNS,
    refuse,
)


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
