"""Identity's error codes and `IdentityError`, the one exception of its client.
Values are wire values (ApplicationError types in recorded histories)."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class IdentityErrorCode(StrEnum):
    EMAIL_TAKEN = "EmailTaken"
    NOT_REGISTERED = "NotRegistered"
    ACCOUNT_LOCKED = "AccountLocked"
    ACCOUNT_DISABLED = "AccountDisabled"
    INVALID_RESET_LINK = "InvalidResetLink"
    INVALID_VERIFY_LINK = "InvalidVerifyLink"  # an email-verification link made for another address
    UNKNOWN_ADDRESS = "UnknownAddress"
    TOO_MANY_ADDRESSES = "TooManyAddresses"
    LAST_OWNER = "LastOwner"
    TOKEN_REVOKED = "TokenRevoked"
    NO_SCOPES = "NoScopes"
    UNEXPECTED = "IdentityError"  # a failure whose type no code names


class IdentityError(DomainError[IdentityErrorCode]):
    """A refusal from the identity client; `code` says which."""
