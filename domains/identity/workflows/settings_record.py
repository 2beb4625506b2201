"""The shop's one settings record."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ..activities import IdentityActivities
    from ..messages import (
        AuditEntry,
        ChangeSettings,
        SettingsState,
    )
    from ..shop_settings import ShopSettings

from .common import SAVE, due_to_continue


@workflow.defn
class ShopSettingsWorkflow:
    """The shop's one settings record; started with what the store holds."""

    @workflow.init
    def __init__(self, state: SettingsState) -> None:
        self.state = state
        self.lock = asyncio.Lock()

    @workflow.query
    def current(self) -> ShopSettings:
        return self.state.settings

    @workflow.update
    async def change(self, request: ChangeSettings) -> ShopSettings:
        async with self.lock:
            settings = request.settings.model_copy(update={"changed_by": request.actor, "changed_at": workflow.now()})
            changed = sorted(name for name in ShopSettings.model_fields
                             if name not in ("changed_by", "changed_at")
                             and getattr(settings, name) != getattr(self.state.settings, name))
            entry = AuditEntry(at=workflow.now(), actor=request.actor, action="settings.changed", target="settings",
                               detail=", ".join(changed) or "no change")
            await workflow.execute_activity_method(IdentityActivities.save_settings, args=[settings, entry], **SAVE)
            self.state = SettingsState(settings=settings, changes=self.state.changes + 1)
            return settings

    @workflow.run
    async def run(self, state: SettingsState) -> None:
        await workflow.wait_condition(lambda: due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))
