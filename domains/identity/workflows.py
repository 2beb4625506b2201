"""Identity's entity workflows: one per shopper, staff user and API token, and one for
the shop's settings.

Every change follows the same path: validate, apply to a copy, save the copy through an
activity, and only then make it the state. A change the store never received is
therefore never visible in a query either, and changes to one entity are saved in order
(one lock per workflow). Each update returns after its row is in the store, so the web
process can read its own writes on the next request.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from . import credentials as creds
    from .activities import IdentityActivities
    from .messages import (
        ACCOUNT_DISABLED,
        ACCOUNT_LOCKED,
        EMAIL_TAKEN,
        INVALID_RESET_LINK,
        LAST_OWNER,
        MAX_ADDRESSES,
        NOT_REGISTERED,
        TOKEN_REVOKED,
        TOO_MANY_ADDRESSES,
        UNKNOWN_ADDRESS,
        AuditEntry,
        ChangePassword,
        ChangeRole,
        ChangeSettings,
        CreateStaff,
        CreateToken,
        RememberCart,
        RemoveAddress,
        RequestReset,
        ResetPassword,
        RevokeToken,
        SaveAddress,
        SavedAddress,
        SetActive,
        SettingsState,
        ShopperState,
        ShopperView,
        SignInAttempt,
        SignInOutcome,
        SignUp,
        StaffState,
        StaffView,
        TokenState,
        TokenUsed,
        UpdateProfile,
    )
    from .roles import Role
    from .shop_settings import ShopSettings

SAVE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                         "schedule_to_close_timeout": timedelta(minutes=2),
                         "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=5))}
MAX_CHANGES_PER_RUN = 200  # continue-as-new well before history gets long
UNCLAIMED_FOR = timedelta(hours=1)  # a workflow started for an account that was never created ends


def refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def _due_to_continue(changes: int) -> bool:
    return changes >= MAX_CHANGES_PER_RUN or workflow.info().is_continue_as_new_suggested()


@workflow.defn
class ShopperWorkflow:
    @workflow.init
    def __init__(self, state: ShopperState) -> None:
        self.state = state
        self.lock = asyncio.Lock()

    @workflow.query
    def view(self) -> ShopperView:
        s = self.state
        return ShopperView(shopper_id=s.shopper_id, email=s.email, name=s.name, phone=s.phone,
                           registered_at=s.registered_at, addresses=s.addresses, epoch=s.credentials.epoch,
                           locked_until=s.credentials.locked_until, cart_id=s.cart_id)

    async def _commit(self, new: ShopperState) -> None:
        new.changes += 1
        await workflow.execute_activity_method(IdentityActivities.save_shopper, new, **SAVE)
        self.state = new

    def _registered(self) -> None:
        if self.state.registered_at is None:
            raise refuse(NOT_REGISTERED, "no account for this email")

    @workflow.update
    async def sign_up(self, request: SignUp) -> ShopperView:
        async with self.lock:
            self._can_sign_up(request)  # again: a second sign-up may have waited on the lock
            new = self.state.model_copy(deep=True)
            new.name, new.registered_at = request.name, workflow.now()
            creds.set_password(new.credentials, request.password_hash)
            await self._commit(new)
            return self.view()

    @sign_up.validator
    def _can_sign_up(self, request: SignUp) -> None:
        if self.state.registered_at is not None:
            raise refuse(EMAIL_TAKEN, "an account with this email already exists")

    @workflow.update
    async def record_sign_in(self, attempt: SignInAttempt) -> SignInOutcome:
        async with self.lock:
            self._not_locked(attempt)
            new = self.state.model_copy(deep=True)
            outcome = creds.record_attempt(new.credentials, attempt.succeeded, workflow.now())
            await self._commit(new)
            return outcome

    @record_sign_in.validator
    def _not_locked(self, attempt: SignInAttempt) -> None:
        self._registered()
        if creds.locked(self.state.credentials, workflow.now()):
            raise refuse(ACCOUNT_LOCKED,
                         f"too many failed sign-ins; locked until {self.state.credentials.locked_until}")

    @workflow.update
    async def change_password(self, request: ChangePassword) -> ShopperView:
        async with self.lock:
            new = self.state.model_copy(deep=True)
            creds.set_password(new.credentials, request.password_hash)
            await self._commit(new)
            return self.view()

    @change_password.validator
    def _can_change_password(self, request: ChangePassword) -> None:
        self._registered()

    @workflow.update
    async def update_profile(self, request: UpdateProfile) -> ShopperView:
        async with self.lock:
            new = self.state.model_copy(deep=True)
            new.name, new.phone = request.name, request.phone
            await self._commit(new)
            return self.view()

    @update_profile.validator
    def _can_update_profile(self, request: UpdateProfile) -> None:
        self._registered()

    @workflow.update
    async def save_address(self, request: SaveAddress) -> ShopperView:
        async with self.lock:
            self._can_save_address(request)
            new = self.state.model_copy(deep=True)
            if request.address_id is None:
                saved = SavedAddress(address_id=f"a{new.next_address}", label=request.label, address=request.address)
                new.next_address += 1
                new.addresses.append(saved)
            else:
                saved = next(a for a in new.addresses if a.address_id == request.address_id)
                saved.label, saved.address = request.label, request.address
            if request.make_default or len(new.addresses) == 1:
                for a in new.addresses:
                    a.is_default = a.address_id == saved.address_id
            await self._commit(new)
            return self.view()

    @save_address.validator
    def _can_save_address(self, request: SaveAddress) -> None:
        self._registered()
        if request.address_id is None and len(self.state.addresses) >= MAX_ADDRESSES:
            raise refuse(TOO_MANY_ADDRESSES, f"at most {MAX_ADDRESSES} saved addresses")
        if request.address_id is not None and all(a.address_id != request.address_id for a in self.state.addresses):
            raise refuse(UNKNOWN_ADDRESS, f"no saved address {request.address_id}")

    @workflow.update
    async def remove_address(self, request: RemoveAddress) -> ShopperView:
        async with self.lock:
            self._can_remove_address(request)
            new = self.state.model_copy(deep=True)
            new.addresses = [a for a in new.addresses if a.address_id != request.address_id]
            if new.addresses and not any(a.is_default for a in new.addresses):
                new.addresses[0].is_default = True
            await self._commit(new)
            return self.view()

    @remove_address.validator
    def _can_remove_address(self, request: RemoveAddress) -> None:
        self._registered()
        if all(a.address_id != request.address_id for a in self.state.addresses):
            raise refuse(UNKNOWN_ADDRESS, f"no saved address {request.address_id}")

    @workflow.update
    async def remember_cart(self, request: RememberCart) -> ShopperView:
        """The cart this shopper uses now, so signing in elsewhere finds it."""
        async with self.lock:
            if self.state.cart_id == request.cart_id:
                return self.view()
            new = self.state.model_copy(deep=True)
            new.cart_id = request.cart_id
            await self._commit(new)
            return self.view()

    @remember_cart.validator
    def _can_remember_cart(self, request: RememberCart) -> None:
        self._registered()

    @workflow.update
    async def request_reset(self, request: RequestReset) -> None:
        async with self.lock:
            new = self.state.model_copy(deep=True)
            new.credentials.reset_token_sha256 = request.token_sha256
            new.credentials.reset_expires_at = workflow.now() + timedelta(seconds=request.valid_seconds)
            await self._commit(new)

    @request_reset.validator
    def _can_request_reset(self, request: RequestReset) -> None:
        self._registered()

    @workflow.update
    async def reset_password(self, request: ResetPassword) -> ShopperView:
        async with self.lock:
            self._reset_link_valid(request)  # the same link used twice at once: the second finds it spent
            new = self.state.model_copy(deep=True)
            creds.set_password(new.credentials, request.password_hash)
            await self._commit(new)
            return self.view()

    @reset_password.validator
    def _reset_link_valid(self, request: ResetPassword) -> None:
        if not creds.reset_link_valid(self.state.credentials, request.token_sha256, workflow.now()):
            raise refuse(INVALID_RESET_LINK, "this reset link is invalid, used or expired")

    @workflow.run
    async def run(self, state: ShopperState) -> None:
        try:
            await workflow.wait_condition(lambda: self.state.registered_at is not None, timeout=UNCLAIMED_FOR)
        except TimeoutError:
            return  # started by a sign-up that never completed
        await workflow.wait_condition(lambda: _due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))


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
        await workflow.wait_condition(lambda: _due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))


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
        await workflow.wait_condition(lambda: _due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))
