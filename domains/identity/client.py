"""How the web process and the CLI reach identity's workflows.

Accounts are created with update-with-start (the workflow id comes from the email, so a
second sign-up with the same email meets the first account and is refused); every later
change is an update that returns once the store has it. Refusals arrive as `IdentityError`
with a stable code.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from domains.shared import code_of
from infra.store import Store
from infra.temporal import business_error

from . import reads
from .errors import IdentityError, IdentityErrorCode
from .ids import (
    SETTINGS_WORKFLOW_ID,
    account_id,
    normalise_email,
    sha256,
    shopper_workflow_id,
    staff_workflow_id,
    token_workflow_id,
)
from .messages import (
    NOT_REGISTERED,
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
    VerifyEmail,
)
from .queue import TASK_QUEUE
from .roles import Role, Scope
from .shop_settings import ShopSettings, read_shop_settings
from .workflows import ApiTokenWorkflow, ShopperWorkflow, ShopSettingsWorkflow, StaffWorkflow

TOKEN_PREFIX = "ck"


def _refused(exc: WorkflowUpdateFailedError) -> IdentityError:
    cause = business_error(exc.cause)
    if cause is None:
        raise exc
    return IdentityError(code_of(cause.type, (IdentityErrorCode,), IdentityErrorCode.UNEXPECTED), cause.message)


async def _update(client: Client, workflow_id: str, update: Any, arg: Any) -> Any:
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(update, arg)
    except WorkflowUpdateFailedError as exc:
        raise _refused(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise IdentityError(NOT_REGISTERED, "no such account") from None
        raise


async def _update_with_start(client: Client, run: Any, state: Any, workflow_id: str, update: Any, arg: Any) -> Any:
    start = WithStartWorkflowOperation(run, state, id=workflow_id, task_queue=TASK_QUEUE,
                                       id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    try:
        return await client.execute_update_with_start_workflow(update, arg, start_workflow_operation=start)
    except WorkflowUpdateFailedError as exc:
        raise _refused(exc) from None


# --- shoppers -----------------------------------------------------------------------------

async def sign_up(client: Client, email: str, name: str, password_hash: str) -> ShopperView:
    email = normalise_email(email)
    shopper_id = account_id(email)
    return await _update_with_start(client, ShopperWorkflow.run, ShopperState(shopper_id=shopper_id, email=email),
                                    shopper_workflow_id(shopper_id), ShopperWorkflow.sign_up,
                                    SignUp(name=name, password_hash=password_hash))


async def shopper_view(client: Client, shopper_id: str) -> ShopperView:
    return await client.get_workflow_handle(shopper_workflow_id(shopper_id)).query(ShopperWorkflow.view)


async def record_shopper_sign_in(client: Client, shopper_id: str, succeeded: bool) -> SignInOutcome:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.record_sign_in,
                         SignInAttempt(succeeded=succeeded))


async def change_shopper_password(client: Client, shopper_id: str, password_hash: str, actor: str) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.change_password,
                         ChangePassword(password_hash=password_hash, actor=actor))


async def update_profile(client: Client, shopper_id: str, request: UpdateProfile) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.update_profile, request)


async def save_address(client: Client, shopper_id: str, request: SaveAddress) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.save_address, request)


async def remove_address(client: Client, shopper_id: str, address_id: str) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.remove_address,
                         RemoveAddress(address_id=address_id))


async def remember_cart(client: Client, shopper_id: str, cart_id: str) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.remember_cart,
                         RememberCart(cart_id=cart_id))


async def verify_email(client: Client, shopper_id: str, email: str) -> ShopperView:
    """The shopper followed the verification link sent to `email` (raises InvalidVerifyLink
    when that is no longer the account's address, NotRegistered for no account)."""
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.verify_email,
                         VerifyEmail(email=email))


async def request_password_reset(client: Client, shopper_id: str, valid_seconds: int = 3600) -> str:
    """A new one-time reset token (only its hash is kept); raises NotRegistered for no account."""
    token = secrets.token_urlsafe(32)
    await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.request_reset,
                  RequestReset(token_sha256=sha256(token), valid_seconds=valid_seconds))
    return token


async def reset_password(client: Client, shopper_id: str, token: str, password_hash: str) -> ShopperView:
    return await _update(client, shopper_workflow_id(shopper_id), ShopperWorkflow.reset_password,
                         ResetPassword(token_sha256=sha256(token), password_hash=password_hash))


# --- staff --------------------------------------------------------------------------------

async def create_staff(client: Client, email: str, role: Role, password_hash: str, actor: str,
                       name: str = "") -> StaffView:
    email = normalise_email(email)
    staff_id = account_id(email)
    return await _update_with_start(client, StaffWorkflow.run, StaffState(staff_id=staff_id, email=email),
                                    staff_workflow_id(staff_id), StaffWorkflow.create,
                                    CreateStaff(name=name, role=role, password_hash=password_hash, actor=actor))


async def record_staff_sign_in(client: Client, staff_id: str, succeeded: bool) -> SignInOutcome:
    return await _update(client, staff_workflow_id(staff_id), StaffWorkflow.record_sign_in,
                         SignInAttempt(succeeded=succeeded))


async def change_staff_password(client: Client, staff_id: str, password_hash: str, actor: str) -> StaffView:
    return await _update(client, staff_workflow_id(staff_id), StaffWorkflow.change_password,
                         ChangePassword(password_hash=password_hash, actor=actor))


def _owners_left_without(store: Store, staff_id: str) -> int:
    return sum(1 for s in reads.active_owners(store) if s.staff_id != staff_id)


async def change_role(client: Client, store: Store, staff_id: str, role: Role, actor: str) -> StaffView:
    return await _update(client, staff_workflow_id(staff_id), StaffWorkflow.change_role,
                         ChangeRole(role=role, actor=actor, owners_left=_owners_left_without(store, staff_id)))


async def set_staff_active(client: Client, store: Store, staff_id: str, active: bool, actor: str) -> StaffView:
    return await _update(client, staff_workflow_id(staff_id), StaffWorkflow.set_active,
                         SetActive(active=active, actor=actor, owners_left=_owners_left_without(store, staff_id)))


# --- API tokens ---------------------------------------------------------------------------

def split_token(presented: str) -> tuple[str, str] | None:
    """`ck_<id>_<secret>` -> (id, secret), or None when it is not shaped like one of ours."""
    prefix, _, rest = presented.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not token_id.isalnum() or len(secret) < 20:
        return None
    return token_id, secret


async def create_token(client: Client, name: str, scopes: list[Scope], actor: str) -> tuple[TokenState, str]:
    """The new token's record and its secret, which is shown once and never stored."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32).replace("_", "")
    state = await _update_with_start(
        client, ApiTokenWorkflow.run, TokenState(token_id=token_id), token_workflow_id(token_id),
        ApiTokenWorkflow.create, CreateToken(name=name, scopes=scopes, secret_sha256=sha256(secret), actor=actor))
    return state, f"{TOKEN_PREFIX}_{token_id}_{secret}"


async def revoke_token(client: Client, token_id: str, actor: str) -> TokenState:
    return await _update(client, token_workflow_id(token_id), ApiTokenWorkflow.revoke, RevokeToken(actor=actor))


async def token_used(client: Client, token_id: str, at: datetime) -> None:
    await client.get_workflow_handle(token_workflow_id(token_id)).signal(ApiTokenWorkflow.used, TokenUsed(at=at))


# --- settings -----------------------------------------------------------------------------

async def change_settings(client: Client, store: Store, settings: ShopSettings, actor: str) -> ShopSettings:
    """Started, when not running, with what the store holds, so no earlier change is lost."""
    return await _update_with_start(
        client, ShopSettingsWorkflow.run, SettingsState(settings=read_shop_settings(store)),
        SETTINGS_WORKFLOW_ID, ShopSettingsWorkflow.change,
        ChangeSettings(settings=settings, actor=actor))
