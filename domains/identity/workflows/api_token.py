"""One workflow per API token, from creation to revocation; records when it was last used."""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ..activities import IdentityActivities
    from ..messages import (
        EMAIL_TAKEN,
        NOT_REGISTERED,
        TOKEN_REVOKED,
        AuditEntry,
        CreateToken,
        RevokeToken,
        TokenState,
        TokenUsed,
    )

from .common import SAVE, UNCLAIMED_FOR, refuse


@workflow.defn
class ApiTokenWorkflow:
    """Lives from creation to revocation; records when the token was last used."""

    @workflow.init
    def __init__(self, state: TokenState) -> None:
        self.state = state
        self.lock = asyncio.Lock()
        self.last_use: datetime | None = None  # reported, not yet saved (kept apart from the state)

    @workflow.query
    def view(self) -> TokenState:
        return self.state.model_copy(update={"secret_sha256": ""})

    async def _commit(self, new: TokenState, entry: AuditEntry | None) -> None:
        await workflow.execute_activity_method(IdentityActivities.save_token, args=[new, entry], **SAVE)
        self.state = new

    @workflow.update
    async def create(self, request: CreateToken) -> TokenState:
        async with self.lock:
            self._can_create(request)
            new = self.state.model_copy(update={
                "name": request.name, "scopes": sorted(set(request.scopes)), "secret_sha256": request.secret_sha256,
                "created_by": request.actor, "created_at": workflow.now()})
            await self._commit(new, AuditEntry(at=workflow.now(), actor=request.actor, action="token.created",
                                               target=f"token:{new.token_id}",
                                               detail=f"{new.name}: {', '.join(new.scopes)}"))
            return self.view()

    @create.validator
    def _can_create(self, request: CreateToken) -> None:
        if self.state.created_at is not None:
            raise refuse(EMAIL_TAKEN, "this token id is taken")

    @workflow.update
    async def revoke(self, request: RevokeToken) -> TokenState:
        async with self.lock:
            self._can_revoke(request)
            new = self.state.model_copy(update={"revoked_at": workflow.now(), "revoked_by": request.actor})
            await self._commit(new, AuditEntry(at=workflow.now(), actor=request.actor, action="token.revoked",
                                               target=f"token:{new.token_id}", detail=new.name))
            return self.view()

    @revoke.validator
    def _can_revoke(self, request: RevokeToken) -> None:
        if self.state.created_at is None:
            raise refuse(NOT_REGISTERED, "no such token")
        if self.state.revoked_at is not None:
            raise refuse(TOKEN_REVOKED, "this token is already revoked")

    @workflow.signal
    def used(self, event: TokenUsed) -> None:
        if self.last_use is None or event.at > self.last_use:
            self.last_use = event.at

    def _use_to_save(self) -> bool:
        saved = self.state.last_used_at
        return self.last_use is not None and (saved is None or self.last_use > saved)

    @workflow.run
    async def run(self, state: TokenState) -> TokenState:
        try:
            await workflow.wait_condition(lambda: self.state.created_at is not None, timeout=UNCLAIMED_FOR)
        except TimeoutError:
            return self.view()
        while self.state.revoked_at is None:
            await workflow.wait_condition(lambda: self._use_to_save() or self.state.revoked_at is not None
                                          or workflow.info().is_continue_as_new_suggested())
            if self._use_to_save():
                async with self.lock:
                    await self._commit(self.state.model_copy(update={"last_used_at": self.last_use}), None)
            if (self.state.revoked_at is None and not self._use_to_save()
                    and workflow.info().is_continue_as_new_suggested()):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()
