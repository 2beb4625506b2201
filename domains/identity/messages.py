"""Identity's workflow states, requests, views and stable error codes.

Passwords never reach a workflow: the web process hashes them with Django's hashers and
sends the hash. Reset links are random tokens of which only a SHA-256 is kept.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domains.shared import Address

from .errors import IdentityErrorCode
from .roles import Role, Scope
from .shop_settings import ShopSettings

# Short names for IdentityErrorCode members (errors.py holds the codes and their wire values).
EMAIL_TAKEN = IdentityErrorCode.EMAIL_TAKEN
NOT_REGISTERED = IdentityErrorCode.NOT_REGISTERED
ACCOUNT_LOCKED = IdentityErrorCode.ACCOUNT_LOCKED
ACCOUNT_DISABLED = IdentityErrorCode.ACCOUNT_DISABLED
INVALID_RESET_LINK = IdentityErrorCode.INVALID_RESET_LINK
INVALID_VERIFY_LINK = IdentityErrorCode.INVALID_VERIFY_LINK
UNKNOWN_ADDRESS = IdentityErrorCode.UNKNOWN_ADDRESS
TOO_MANY_ADDRESSES = IdentityErrorCode.TOO_MANY_ADDRESSES
LAST_OWNER = IdentityErrorCode.LAST_OWNER
TOKEN_REVOKED = IdentityErrorCode.TOKEN_REVOKED
NO_SCOPES = IdentityErrorCode.NO_SCOPES

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_ADDRESSES = 20


class Credentials(BaseModel):
    """A password hash and what guards it: the lockout counter and a pending reset link.

    `epoch` rises whenever the password changes, so sessions signed in before the change
    (which remember the epoch they saw) stop working everywhere at once.
    """

    password_hash: str = ""
    epoch: int = 0
    failures: int = 0  # consecutive failed sign-ins since the last success or lock
    locked_until: datetime | None = None
    reset_token_sha256: str | None = None
    reset_expires_at: datetime | None = None
    # when the shopper proved they receive mail at the account's address (the emailed link): only
    # then do the orders placed as a guest with that address count as theirs
    email_verified_at: datetime | None = None


class SavedAddress(BaseModel):
    address_id: str
    label: str = Field("", max_length=60)
    address: Address
    is_default: bool = False


# --- shoppers -----------------------------------------------------------------------------

class ShopperState(BaseModel):
    shopper_id: str
    email: str
    name: str = ""
    phone: str | None = None
    registered_at: datetime | None = None
    addresses: list[SavedAddress] = Field(default_factory=list)
    credentials: Credentials = Field(default_factory=Credentials)
    next_address: int = 1
    cart_id: str | None = None  # the shopper's current cart, found again at sign-in on any device
    changes: int = 0  # updates this run, for continue-as-new


class ShopperView(BaseModel):
    shopper_id: str
    email: str
    name: str
    phone: str | None
    registered_at: datetime | None
    addresses: list[SavedAddress]
    epoch: int
    locked_until: datetime | None
    cart_id: str | None = None
    email_verified: bool = False


class VerifyEmail(BaseModel):
    email: str  # the address the link was sent to: it must still be the account's


class SignUp(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    password_hash: str = Field(min_length=1)


class SignInAttempt(BaseModel):
    succeeded: bool


class SignInOutcome(BaseModel):
    succeeded: bool
    epoch: int
    failures: int
    locked_until: datetime | None


class ChangePassword(BaseModel):
    password_hash: str = Field(min_length=1)
    actor: str


class UpdateProfile(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)


class SaveAddress(BaseModel):
    address_id: str | None = None  # None adds a new one
    label: str = Field("", max_length=60)
    address: Address
    make_default: bool = False


class RemoveAddress(BaseModel):
    address_id: str


class RememberCart(BaseModel):
    cart_id: str = Field(min_length=1, max_length=100)


class RequestReset(BaseModel):
    token_sha256: str = Field(min_length=64, max_length=64)
    valid_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)


class ResetPassword(BaseModel):
    token_sha256: str
    password_hash: str = Field(min_length=1)


# --- staff --------------------------------------------------------------------------------

class StaffState(BaseModel):
    staff_id: str
    email: str
    name: str = ""
    role: Role | None = None
    active: bool = False
    created_at: datetime | None = None
    created_by: str = ""
    credentials: Credentials = Field(default_factory=Credentials)
    changes: int = 0


class StaffView(BaseModel):
    staff_id: str
    email: str
    name: str
    role: Role | None
    active: bool
    created_at: datetime | None
    created_by: str
    epoch: int
    locked_until: datetime | None


class CreateStaff(BaseModel):
    name: str = Field("", max_length=120)
    role: Role
    password_hash: str = Field(min_length=1)
    actor: str


class ChangeRole(BaseModel):
    role: Role
    actor: str
    owners_left: int = 2  # active owners if this one stops being one (the client counts them)


class SetActive(BaseModel):
    active: bool
    actor: str
    owners_left: int = 2


# --- API tokens ---------------------------------------------------------------------------

class TokenState(BaseModel):
    token_id: str
    name: str = ""
    scopes: list[Scope] = Field(default_factory=list)
    secret_sha256: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None


class CreateToken(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    scopes: list[Scope] = Field(min_length=1)
    secret_sha256: str = Field(min_length=64, max_length=64)
    actor: str


class RevokeToken(BaseModel):
    actor: str


class TokenUsed(BaseModel):
    at: datetime


# --- settings -----------------------------------------------------------------------------

class SettingsState(BaseModel):
    settings: ShopSettings = Field(default_factory=ShopSettings)
    changes: int = 0


class ChangeSettings(BaseModel):
    settings: ShopSettings
    actor: str


class AuditEntry(BaseModel):
    """One staff action on identity (a staff user, a token, the settings), for the audit log."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: str = ""
