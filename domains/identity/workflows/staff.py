"""One workflow per staff user: role, active flag, password and sign-in lockout (the last
owner cannot be demoted or disabled)."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from .. import credentials as creds
    from ..activities import IdentityActivities
    from ..messages import (
        ACCOUNT_DISABLED,
        ACCOUNT_LOCKED,
        EMAIL_TAKEN,
        LAST_OWNER,
        NOT_REGISTERED,
        AuditEntry,
        ChangePassword,
        ChangeRole,
        CreateStaff,
        SetActive,
        SignInAttempt,
        SignInOutcome,
        StaffState,
        StaffView,
    )
    from ..roles import Role

from .common import SAVE, UNCLAIMED_FOR, due_to_continue, refuse


@workflow.defn
class StaffWorkflow:
    @workflow.init
    def __init__(self, state: StaffState) -> None:
        self.state = state
        self.lock = asyncio.Lock()

    @workflow.query
    def view(self) -> StaffView:
        s = self.state
        return StaffView(staff_id=s.staff_id, email=s.email, name=s.name, role=s.role, active=s.active,
                         created_at=s.created_at, created_by=s.created_by, epoch=s.credentials.epoch,
                         locked_until=s.credentials.locked_until)

    async def _commit(self, new: StaffState, action: str, detail: str, actor: str) -> None:
        new.changes += 1
        entry = AuditEntry(at=workflow.now(), actor=actor, action=action, target=f"staff:{new.email}", detail=detail)
        await workflow.execute_activity_method(IdentityActivities.save_staff, args=[new, entry], **SAVE)
        self.state = new

    def _exists(self) -> None:
        if self.state.created_at is None:
            raise refuse(NOT_REGISTERED, "no staff user with this email")

    @workflow.update
    async def create(self, request: CreateStaff) -> StaffView:
        async with self.lock:
            self._can_create(request)
            new = self.state.model_copy(deep=True)
            new.name, new.role, new.active = request.name, request.role, True
            new.created_at, new.created_by = workflow.now(), request.actor
            creds.set_password(new.credentials, request.password_hash)
            await self._commit(new, "staff.created", f"role {request.role}", request.actor)
            return self.view()

    @create.validator
    def _can_create(self, request: CreateStaff) -> None:
        if self.state.created_at is not None:
            raise refuse(EMAIL_TAKEN, "a staff user with this email already exists")

    @workflow.update
    async def record_sign_in(self, attempt: SignInAttempt) -> SignInOutcome:
        async with self.lock:
            self._may_sign_in(attempt)
            new = self.state.model_copy(deep=True)
            outcome = creds.record_attempt(new.credentials, attempt.succeeded, workflow.now())
            await self._commit(new, "staff.sign_in" if attempt.succeeded else "staff.sign_in_failed", "",
                               f"staff:{new.email}")
            return outcome

    @record_sign_in.validator
    def _may_sign_in(self, attempt: SignInAttempt) -> None:
        self._exists()
        if not self.state.active:
            raise refuse(ACCOUNT_DISABLED, "this staff account is disabled")
        if creds.locked(self.state.credentials, workflow.now()):
            raise refuse(ACCOUNT_LOCKED,
                         f"too many failed sign-ins; locked until {self.state.credentials.locked_until}")

    @workflow.update
    async def change_password(self, request: ChangePassword) -> StaffView:
        async with self.lock:
            new = self.state.model_copy(deep=True)
            creds.set_password(new.credentials, request.password_hash)
            await self._commit(new, "staff.password_changed", "", request.actor)
            return self.view()

    @change_password.validator
    def _can_change_password(self, request: ChangePassword) -> None:
        self._exists()

    def _keeps_an_owner(self, stops_being_owner: bool, owners_left: int) -> None:
        if stops_being_owner and self.state.role == Role.OWNER and self.state.active and owners_left < 1:
            raise refuse(LAST_OWNER, "the shop must keep at least one active owner")

    @workflow.update
    async def change_role(self, request: ChangeRole) -> StaffView:
        async with self.lock:
            self._can_change_role(request)
            new = self.state.model_copy(deep=True)
            before, new.role = new.role, request.role
            await self._commit(new, "staff.role_changed", f"{before} -> {request.role}", request.actor)
            return self.view()

    @change_role.validator
    def _can_change_role(self, request: ChangeRole) -> None:
        self._exists()
        self._keeps_an_owner(request.role != Role.OWNER, request.owners_left)

    @workflow.update
    async def set_active(self, request: SetActive) -> StaffView:
        async with self.lock:
            self._can_set_active(request)
            new = self.state.model_copy(deep=True)
            new.active = request.active
            if not request.active:
                new.credentials.epoch += 1  # a disabled account's open sessions end at once
            await self._commit(new, "staff.enabled" if request.active else "staff.disabled", "", request.actor)
            return self.view()

    @set_active.validator
    def _can_set_active(self, request: SetActive) -> None:
        self._exists()
        self._keeps_an_owner(not request.active, request.owners_left)

    @workflow.run
    async def run(self, state: StaffState) -> None:
        try:
            await workflow.wait_condition(lambda: self.state.created_at is not None, timeout=UNCLAIMED_FOR)
        except TimeoutError:
            return
        await workflow.wait_condition(lambda: due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))
