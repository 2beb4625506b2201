"""One workflow per shopper account: profile, addresses, password, sign-in lockout and the remembered cart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from .. import credentials as creds
    from ..activities import IdentityActivities
    from ..messages import (
        ACCOUNT_LOCKED,
        EMAIL_TAKEN,
        INVALID_RESET_LINK,
        INVALID_VERIFY_LINK,
        MAX_ADDRESSES,
        NOT_REGISTERED,
        TOO_MANY_ADDRESSES,
        UNKNOWN_ADDRESS,
        ChangePassword,
        RememberCart,
        RemoveAddress,
        RequestReset,
        ResetPassword,
        SaveAddress,
        SavedAddress,
        ShopperState,
        ShopperView,
        SignInAttempt,
        SignInOutcome,
        SignUp,
        UpdateProfile,
        VerifyEmail,
    )

from .common import SAVE, UNCLAIMED_FOR, due_to_continue, refuse


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
                           locked_until=s.credentials.locked_until, cart_id=s.cart_id,
                           email_verified=s.credentials.email_verified_at is not None)

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
    async def verify_email(self, request: VerifyEmail) -> ShopperView:
        """The shopper followed the link emailed to the account's address. Once is enough."""
        async with self.lock:
            self._can_verify_email(request)
            if self.state.credentials.email_verified_at is not None:
                return self.view()
            new = self.state.model_copy(deep=True)
            new.credentials.email_verified_at = workflow.now()
            await self._commit(new)
            return self.view()

    @verify_email.validator
    def _can_verify_email(self, request: VerifyEmail) -> None:
        self._registered()
        if request.email.strip().lower() != self.state.email.strip().lower():
            raise refuse(INVALID_VERIFY_LINK, "this link was made for another address")

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
        await workflow.wait_condition(lambda: due_to_continue(self.state.changes))
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state.model_copy(update={"changes": 0}))
