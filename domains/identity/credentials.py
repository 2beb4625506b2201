"""Lockout and reset-link rules, pure functions of a `Credentials` and the time.

Five failed sign-ins in a row lock the account for fifteen minutes; a success resets the
count. While locked even the right password is refused, so guessing cannot go on
in the background. Reset links are single-use and expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .messages import Credentials, SignInOutcome

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


def locked(credentials: Credentials, now: datetime) -> bool:
    return credentials.locked_until is not None and now < credentials.locked_until


def record_attempt(credentials: Credentials, succeeded: bool, now: datetime) -> SignInOutcome:
    if succeeded:
        credentials.failures = 0
        credentials.locked_until = None
    else:
        credentials.failures += 1
        if credentials.failures >= MAX_FAILURES:
            credentials.locked_until = now + LOCK_FOR
            credentials.failures = 0
    return SignInOutcome(succeeded=succeeded, epoch=credentials.epoch, failures=credentials.failures,
                         locked_until=credentials.locked_until)


def set_password(credentials: Credentials, password_hash: str) -> None:
    """A new password ends every other session and any pending reset link, and unlocks."""
    credentials.password_hash = password_hash
    credentials.epoch += 1
    credentials.failures = 0
    credentials.locked_until = None
    credentials.reset_token_sha256 = None
    credentials.reset_expires_at = None


def reset_link_valid(credentials: Credentials, token_sha256: str, now: datetime) -> bool:
    return (credentials.reset_token_sha256 is not None and credentials.reset_token_sha256 == token_sha256
            and credentials.reset_expires_at is not None and now < credentials.reset_expires_at)
