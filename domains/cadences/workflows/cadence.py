"""One workflow per cadence: its steps, edits, pause and archive, and the enrollments it propagates edits to."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ..activities import CadenceActivities
    from ..messages import (
        STALE_VERSION,
        UNKNOWN_STEP,
        ApplyTo,
        CadenceDefinition,
        CadenceState,
        CadenceView,
        Propagation,
        SaveCadence,
        UpdateSteps,
    )
    from ..steps import Step, StepsInvalid, check_steps

from .common import MAX_CHANGES_PER_RUN, PROPAGATE, SETTLE, STORE, UNCLAIMED_FOR, refuse


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
